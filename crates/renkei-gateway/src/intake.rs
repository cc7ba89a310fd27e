//! The gateway's DICOM side: which peers may send (from the server's configuration), and what
//! happens to each instance — de-identified here with the organization's key and rules,
//! redacted by its per-device redaction rules, scanned for burned-in text, then sealed into
//! the queue (or held, when its pixels may show a patient) before the sender is told it was
//! stored. Held instances are looked at again when a new matching rule arrives.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use renkei_core::dicom::{DicomPeer, GatewayConfig, admitted_peer};
use renkei_core::redaction::RedactionRule;
use renkei_dicom::DeidContext;
use renkei_dicom::prepare::{PrepareError, accept_deidentified, prepare};
use renkei_dicom::scp::{
    Caller, Gatekeeper, InstanceSink, ReceivedInstance, Rejection, StoreFailure, StoreFuture,
    StoreOutcome, run_blocking,
};
use renkei_dicom::text::TextDetector;
use tokio::sync::Notify;

use crate::examine::{Examined, examine, matching_rule};
use crate::held::HeldNote;
use crate::spool::{Spool, SpoolError};
use crate::status::StatusBook;
use crate::verdict::{Verdict, review};

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
    detector: Arc<dyn TextDetector>,
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
    /// An intake following `config`, scanning with `detector`, queueing into `spool` and
    /// waking the forwarder.
    pub fn new(
        config: &GatewayConfig,
        (spool, book, wake): (Arc<Spool>, Arc<StatusBook>, Arc<Notify>),
        detector: Arc<dyn TextDetector>,
    ) -> Result<Intake, String> {
        Ok(Intake {
            rules: RwLock::new(rules(config)?),
            spool,
            book,
            wake,
            detector,
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

    /// Looks again at the held instances whose device a new rule now matches: the rule is
    /// applied and the result scanned; what is clean now is queued, the rest stays held.
    pub async fn review_held(&self) {
        let Ok((deid, redaction)) = self.deid() else {
            return;
        };
        let (spool, detector) = (self.spool.clone(), self.detector.clone());
        let reviewed = run_blocking(move || -> Result<usize, SpoolError> {
            let mut forwarded = 0;
            for note in spool.held_notes()? {
                let now = matching_rule(&redaction, &note.device, &note.modality);
                if !review(note.rule.as_deref(), now.as_deref()) {
                    continue;
                }
                // Released or discarded meanwhile by the operator: nothing to look at.
                let Ok(bytes) = spool.read_held(&note) else {
                    continue;
                };
                let examined = accept_deidentified(bytes, deid.patient_id_digits)
                    .and_then(|prepared| {
                        examine(
                            prepared,
                            &redaction,
                            (&deid.org_secret, deid.patient_id_digits),
                            &*detector,
                        )
                    });
                let examined = match examined {
                    Ok(examined) => examined,
                    Err(e) => {
                        tracing::warn!(id = %note.id, code = e.code(), "a held instance cannot be redacted by its new rule; it stays held");
                        continue;
                    }
                };
                match examined.verdict {
                    Verdict::Forward => {
                        spool.unhold(&examined.bytes, &note)?;
                        tracing::info!(id = %note.id, modality = %note.modality, "a held instance is clean under a new redaction rule; forwarded");
                        forwarded += 1;
                    }
                    Verdict::Hold(reason) => {
                        let kept = HeldNote {
                            id: note.id.clone(),
                            held_at: note.held_at,
                            ..examined.note(&note.name, reason)
                        };
                        spool.rehold(&examined.bytes, &kept)?;
                        tracing::info!(id = %note.id, reason = ?kept.reason, "a held instance still shows text under a new redaction rule; it stays held");
                    }
                }
            }
            Ok(forwarded)
        })
        .await;
        match reviewed {
            Some(Ok(0)) | None => {}
            Some(Ok(_)) => self.wake.notify_one(),
            Some(Err(e)) => tracing::error!(error = %e, "cannot look at the held instances again"),
        }
    }

    /// Queues an examined instance, or holds it; true when it was held.
    fn settle(spool: &Spool, examined: &Examined) -> Result<bool, SpoolError> {
        let Verdict::Hold(reason) = examined.verdict else {
            spool.push(&examined.bytes)?;
            return Ok(false);
        };
        let held = spool.hold(&examined.bytes, |name| examined.note(name, reason))?;
        tracing::warn!(id = %held.id, modality = %held.modality, reason = ?held.reason, regions = held.regions, "held at the gateway: its pixels may show a patient");
        Ok(true)
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
            let detector = self.detector.clone();
            let examined = run_blocking(move || {
                prepare(instance.file, &deid).and_then(|prepared| {
                    examine(
                        prepared,
                        &redaction,
                        (&deid.org_secret, deid.patient_id_digits),
                        &*detector,
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
            let held = run_blocking(move || Intake::settle(&spool, &examined))
                .await
                .ok_or_else(|| StoreFailure::out_of_resources("queueing was interrupted"))?
                .map_err(|e| {
                    tracing::error!(error = %e, "the gateway's queue cannot be written");
                    StoreFailure::out_of_resources("the gateway's queue cannot be written")
                })?;
            self.book.update(|r| {
                r.received_total += 1;
                r.held_total += u64::from(held);
            });
            if !held {
                self.wake.notify_one();
            }
            Ok(StoreOutcome::Stored)
        })
    }
}
