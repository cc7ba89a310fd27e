//! renkei's side of the DICOM SCP: which peers may send (a directory of AE titles kept in
//! memory and refreshed from the store), and where their instances go (the imaging service).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use renkei_core::Uuid;
use renkei_core::dicom::{DicomPeer, admitted_peer};
use renkei_core::org::Organization;
use renkei_dicom::scp::{
    Caller, Gatekeeper, InstanceSink, ReceivedInstance, Rejection, StoreFailure, StoreFuture,
    StoreOutcome,
};
use renkei_store::Store;

use crate::dicom::{DicomService, IngestFailure, IngestSource, on_runtime};

/// How often the peer directory is re-read, so peers added or removed (by the API or the
/// command line, on any node) take effect.
const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// Shortest time between two re-reads asked for by unknown callers.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// The DICOM peers of every organization, by AE title.
pub struct PeerDirectory {
    store: Store,
    peers: RwLock<HashMap<String, DicomPeer>>,
    /// When an unknown caller last made the directory re-read.
    last_reload: Mutex<Option<Instant>>,
    /// The server's runtime.
    server: tokio::runtime::Handle,
}

impl PeerDirectory {
    /// A directory loaded now and refreshed in the background.
    pub async fn start(store: Store) -> Arc<PeerDirectory> {
        let directory = Arc::new(PeerDirectory {
            store,
            peers: RwLock::new(HashMap::new()),
            last_reload: Mutex::new(None),
            server: tokio::runtime::Handle::current(),
        });
        directory.refresh().await;
        let refreshing = directory.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            loop {
                tick.tick().await;
                refreshing.refresh().await;
            }
        });
        directory
    }

    /// Re-reads the peers; on the server's runtime, where the store's connections live (an
    /// association asking runs on a runtime of its own).
    async fn refresh(&self) {
        let all = on_runtime(&self.server, read_peers(self.store.clone()))
            .await
            .ok()
            .flatten();
        if let (Some(all), Ok(mut peers)) = (all, self.peers.write()) {
            *peers = all;
        }
    }
}

/// Every organization's peers by AE title; None (logged) when the store cannot say.
async fn read_peers(store: Store) -> Option<HashMap<String, DicomPeer>> {
    let orgs = match store.list_orgs().await {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::warn!(error = %e, "could not refresh DICOM peers");
            return None;
        }
    };
    let mut all = HashMap::new();
    for org in orgs {
        match store.dicom_peers(org.id).await {
            Ok(peers) => all.extend(peers.into_iter().map(|p| (p.ae_title.clone(), p))),
            Err(e) => {
                tracing::warn!(error = %e, "could not refresh DICOM peers");
                return None;
            }
        }
    }
    Some(all)
}

impl Gatekeeper for PeerDirectory {
    fn admit(&self, calling_ae: &str, _called_ae: &str, peer: IpAddr) -> Result<Caller, Rejection> {
        let peers = self.peers.read().map_err(|_| Rejection::Unavailable {
            reason: "directory unavailable".into(),
        })?;
        let known =
            admitted_peer(&peers, calling_ae, peer).map_err(|reason| Rejection::UnknownCaller {
                reason: reason.into(),
            })?;
        Ok(Caller {
            calling_ae: known.ae_title.clone(),
            peer,
            token: known.org_id.to_string(),
        })
    }

    fn reload(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            // At most once per second, so unknown callers cannot make every association read
            // the store.
            let due = {
                let Ok(mut last) = self.last_reload.lock() else {
                    return;
                };
                let due = last.is_none_or(|at| at.elapsed() >= RELOAD_AT_MOST_EVERY);
                if due {
                    *last = Some(Instant::now());
                }
                due
            };
            if due {
                self.refresh().await;
            }
        })
    }
}

/// How long an organization (its policy) is reused for the instances its peers send.
const ORG_FRESH_FOR: Duration = Duration::from_secs(5);

/// Files received instances with the imaging service, for the caller's organization.
pub struct IngestSink {
    dicom: DicomService,
    /// Organizations read lately, so a series does not read its organization per instance.
    orgs: Mutex<HashMap<Uuid, (Organization, Instant)>>,
}

impl IngestSink {
    pub fn new(dicom: DicomService) -> IngestSink {
        IngestSink {
            dicom,
            orgs: Mutex::new(HashMap::new()),
        }
    }

    /// The organization, as read at most [`ORG_FRESH_FOR`] ago.
    async fn org(&self, id: Uuid) -> Result<Organization, StoreFailure> {
        let cached = self.orgs.lock().ok().and_then(|orgs| {
            orgs.get(&id)
                .filter(|(_, at)| at.elapsed() < ORG_FRESH_FOR)
                .map(|(org, _)| org.clone())
        });
        if let Some(org) = cached {
            return Ok(org);
        }
        let store = self.dicom.store.clone();
        let org = self
            .dicom
            .on_server(async move { store.org(id).await })
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| StoreFailure::out_of_resources("organization unavailable"))?;
        if let Ok(mut orgs) = self.orgs.lock() {
            orgs.insert(id, (org.clone(), Instant::now()));
        }
        Ok(org)
    }
}

impl InstanceSink for IngestSink {
    fn store<'a>(&'a self, caller: &'a Caller, instance: ReceivedInstance) -> StoreFuture<'a> {
        Box::pin(async move {
            let org_id: Uuid = caller
                .token
                .parse()
                .map_err(|_| StoreFailure::out_of_resources("unknown organization"))?;
            let org = self.org(org_id).await?;
            match self
                .dicom
                .ingest(&org, instance.file, IngestSource::Identified)
                .await
            {
                Ok(_) => Ok(StoreOutcome::Stored),
                Err(IngestFailure::CannotUnderstand(m)) => Err(StoreFailure::cannot_understand(m)),
                Err(IngestFailure::DoesNotMatch(m)) => Err(StoreFailure::does_not_match(m)),
                Err(IngestFailure::OutOfResources(m)) => Err(StoreFailure::out_of_resources(m)),
                Err(IngestFailure::NotDeidentified(m)) => Err(StoreFailure::cannot_understand(m)),
            }
        })
    }
}
