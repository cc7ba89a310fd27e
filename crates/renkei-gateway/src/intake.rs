//! The gateway's DICOM side: which peers may send (from the server's configuration), and what
//! happens to each instance — de-identified here with the organization's key and rules,
//! redacted by its per-device redaction rules, then sealed into the queue before the sender is told it was stored.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use renkei_core::dicom::{DicomPeer, GatewayConfig, admitted_peer};
use renkei_core::redaction::RedactionRule;
use renkei_dicom::DeidContext;
use renkei_dicom::prepare::{PrepareError, apply_rules, prepare};
use renkei_dicom::scp::{
    Caller, Gatekeeper, InstanceSink, ReceivedInstance, Rejection, StoreFailure, StoreFuture,
    StoreOutcome, run_blocking,
};
use tokio::sync::Notify;

use crate::spool::Spool;
use crate::status::StatusBook;

/// Peers and de-identification rules, replaced whenever the server's configuration changes.
struct Rules {
    peers: HashMap<String, DicomPeer>,
    deid: DeidContext,
    /// Per-device redaction rules, applied after de-identification.
    redaction: Arc<Vec<RedactionRule>>,
}

/// The gatekeeper and sink of the gateway's SCP.
pub struct Intake {
    rules: RwLock<Rules>,
    spool: Arc<Spool>,
    book: Arc<StatusBook>,
    wake: Arc<Notify>,
}

fn rules(config: &GatewayConfig) -> Result<Rules, String> {
    let secret: [u8; 32] = STANDARD
        .decode(&config.deid_secret)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("the server sent a de-identification key that is not 32 bytes")?;
    let mut deid = DeidContext::new(secret);
    deid.patient_id_digits = config.patient_id_digits;
    let peers = config
        .peers
        .iter()
        .map(|p| (p.ae_title.clone(), p.clone()))
        .collect();
    Ok(Rules {
        peers,
        deid,
        redaction: Arc::new(config.redaction_rules.clone()),
    })
}

impl Intake {
    /// An intake following `config`, queueing into `spool` and waking the forwarder.
    pub fn new(
        config: &GatewayConfig,
        spool: Arc<Spool>,
        book: Arc<StatusBook>,
        wake: Arc<Notify>,
    ) -> Result<Intake, String> {
        Ok(Intake {
            rules: RwLock::new(rules(config)?),
            spool,
            book,
            wake,
        })
    }

    /// Follows a new configuration from the server (peers added or removed).
    pub fn apply(&self, config: &GatewayConfig) -> Result<(), String> {
        let new = rules(config)?;
        if let Ok(mut rules) = self.rules.write() {
            *rules = new;
        }
        Ok(())
    }

    fn deid(&self) -> Result<(DeidContext, Arc<Vec<RedactionRule>>), StoreFailure> {
        self.rules
            .read()
            .map(|r| (r.deid.clone(), r.redaction.clone()))
            .map_err(|_| StoreFailure::out_of_resources("gateway rules unavailable"))
    }
}

impl Gatekeeper for Intake {
    fn admit(&self, calling_ae: &str, _called_ae: &str, peer: IpAddr) -> Result<Caller, Rejection> {
        let rules = self.rules.read().map_err(|_| Rejection::Unavailable {
            reason: "rules unavailable".into(),
        })?;
        let known = admitted_peer(&rules.peers, calling_ae, peer).map_err(|reason| {
            Rejection::UnknownCaller {
                reason: reason.into(),
            }
        })?;
        Ok(Caller {
            calling_ae: known.ae_title.clone(),
            peer,
            token: known.org_id.to_string(),
        })
    }
}

impl InstanceSink for Intake {
    fn store<'a>(&'a self, _caller: &'a Caller, instance: ReceivedInstance) -> StoreFuture<'a> {
        Box::pin(async move {
            let (deid, redaction) = self.deid()?;
            let prepared = run_blocking(move || {
                prepare(instance.file, &deid).and_then(|prepared| {
                    apply_rules(
                        prepared,
                        &redaction,
                        &deid.org_secret,
                        deid.patient_id_digits,
                    )
                })
            })
            .await
            .ok_or_else(|| StoreFailure::out_of_resources("de-identification was interrupted"))?
            .map_err(|e| match e {
                PrepareError::Missing(_) => StoreFailure::does_not_match(e.to_string()),
                _ => StoreFailure::cannot_understand(e.to_string()),
            })?;
            let spool = self.spool.clone();
            run_blocking(move || spool.push(&prepared.bytes.into_vec()))
                .await
                .ok_or_else(|| StoreFailure::out_of_resources("queueing was interrupted"))?
                .map_err(|e| {
                    tracing::error!(error = %e, "the gateway's queue cannot be written");
                    StoreFailure::out_of_resources("the gateway's queue cannot be written")
                })?;
            self.book.update(|r| r.received_total += 1);
            self.wake.notify_one();
            Ok(StoreOutcome::Stored)
        })
    }
}
