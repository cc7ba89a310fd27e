//! The bus between nodes over NATS: each signal reaches this node's subscribers at once and
//! goes out as compact JSON on `<prefix>.signal` to the other nodes; a connection that drops
//! and comes back makes every node re-read the store (`Signal::Resync`), since hints were lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event, Subject};
use futures_util::StreamExt;
use renkei_core::Uuid;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use super::bus::{Bus, Signal};

/// Signals waiting for the publisher task; beyond this they are dropped (and counted): the
/// writer never waits on NATS.
const OUTBOX: usize = 16_384;
/// Signals buffered for this node's subscribers (as the in-process bus).
const LOCAL: usize = 65_536;
/// How often the connection is probed: a silent cut is noticed within about two of these.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Resync requests closer together than this make one.
const RESYNC_GAP: Duration = Duration::from_millis(500);

/// A signal as it travels between nodes: short tags, no duplicated frame framing.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "k")]
enum Wire {
    #[serde(rename = "adv")]
    Advanced { c: Uuid, s: i64 },
    #[serde(rename = "eph")]
    Ephemeral {
        c: Uuid,
        f: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x: Option<Uuid>,
    },
    #[serde(rename = "mem")]
    MembershipChanged {
        c: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        r: Option<Uuid>,
    },
    #[serde(rename = "end")]
    UserEnded { u: Uuid },
    #[serde(rename = "inbox")]
    InboxChanged { o: Uuid, s: Uuid },
    #[serde(rename = "ses")]
    SessionsEnded { u: Uuid },
    #[serde(rename = "resync")]
    Resync,
}

fn encode(signal: &Signal) -> Vec<u8> {
    let wire = match signal {
        Signal::Advanced { conversation, seq } => Wire::Advanced {
            c: *conversation,
            s: *seq,
        },
        Signal::Ephemeral {
            conversation,
            frame,
            except,
        } => Wire::Ephemeral {
            c: *conversation,
            f: frame.to_string(),
            x: *except,
        },
        Signal::MembershipChanged {
            conversation,
            removed,
        } => Wire::MembershipChanged {
            c: *conversation,
            r: *removed,
        },
        Signal::UserEnded { user } => Wire::UserEnded { u: *user },
        Signal::InboxChanged { org, study } => Wire::InboxChanged { o: *org, s: *study },
        Signal::SessionsEnded { user } => Wire::SessionsEnded { u: *user },
        Signal::Resync => Wire::Resync,
    };
    serde_json::to_vec(&wire).unwrap_or_default()
}

fn decode(bytes: &[u8]) -> Option<Signal> {
    Some(match serde_json::from_slice(bytes).ok()? {
        Wire::Advanced { c, s } => Signal::Advanced {
            conversation: c,
            seq: s,
        },
        Wire::Ephemeral { c, f, x } => Signal::Ephemeral {
            conversation: c,
            frame: Arc::from(f),
            except: x,
        },
        Wire::MembershipChanged { c, r } => Signal::MembershipChanged {
            conversation: c,
            removed: r,
        },
        Wire::UserEnded { u } => Signal::UserEnded { user: u },
        Wire::InboxChanged { o, s } => Signal::InboxChanged { org: o, study: s },
        Wire::SessionsEnded { u } => Signal::SessionsEnded { user: u },
        Wire::Resync => Signal::Resync,
    })
}

/// Whether `prefix` is a plain NATS subject prefix: dot-separated tokens of letters, digits,
/// `-` and `_` (no wildcards, no spaces).
fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.split('.').all(|token| {
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A bus whose signals reach this node directly and the other nodes through NATS.
pub struct NatsBus {
    local: broadcast::Sender<Signal>,
    outbox: mpsc::Sender<Signal>,
}

impl NatsBus {
    /// Connects to `url` in the background (a node starts while NATS is down and joins once
    /// it is up) and relays signals on `<prefix>.signal`. Fails only on a bad URL or prefix.
    pub async fn start(url: &str, prefix: &str) -> Result<Arc<NatsBus>, String> {
        if !valid_prefix(prefix) {
            return Err(format!(
                "nats_subject_prefix {prefix:?} must be dot-separated letters, digits, - or _"
            ));
        }
        let subject = Subject::from(format!("{prefix}.signal"));
        let local = broadcast::channel(LOCAL).0;
        let (outbox, pending) = mpsc::channel(OUTBOX);
        let (events_tx, events) = mpsc::channel(64);
        let client = ConnectOptions::new()
            .name("renkei")
            // Our own signals reach our subscribers directly, not back from NATS.
            .no_echo()
            .retry_on_initial_connect()
            .ping_interval(PING_EVERY)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 100).min(1_000))
            })
            .event_callback(move |event| {
                let events_tx = events_tx.clone();
                async move {
                    let _ = events_tx.try_send(event);
                }
            })
            .connect(url)
            .await
            .map_err(|e| format!("nats_url: {e}"))?;
        let incoming = client
            .subscribe(subject.clone())
            .await
            .map_err(|e| format!("cannot subscribe to {subject}: {e}"))?;
        let missed = Arc::new(AtomicBool::new(false));
        tokio::spawn(publish(
            client.clone(),
            subject.clone(),
            pending,
            missed.clone(),
        ));
        tokio::spawn(receive(incoming, local.clone()));
        tokio::spawn(watch(client, events, local.clone(), outbox.clone(), missed));
        Ok(Arc::new(NatsBus { local, outbox }))
    }
}

impl Bus for NatsBus {
    fn publish(&self, signal: Signal) {
        let _ = self.local.send(signal.clone());
        if self.outbox.try_send(signal).is_err() {
            metrics::counter!("renkei_bus_dropped_total").increment(1);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.local.subscribe()
    }
}

/// Sends queued signals to NATS; while disconnected they are dropped and counted (the store
/// holds the truth, and the reconnection makes every node resync).
async fn publish(
    client: Client,
    subject: Subject,
    mut pending: mpsc::Receiver<Signal>,
    missed: Arc<AtomicBool>,
) {
    while let Some(signal) = pending.recv().await {
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        if !connected
            || client
                .publish(subject.clone(), encode(&signal).into())
                .await
                .is_err()
        {
            missed.store(true, Ordering::Relaxed);
            metrics::counter!("renkei_bus_dropped_total").increment(1);
        }
    }
}

/// Hands the other nodes' signals to this node's subscribers.
async fn receive(mut incoming: async_nats::Subscriber, local: broadcast::Sender<Signal>) {
    while let Some(message) = incoming.next().await {
        match decode(&message.payload) {
            Some(signal) => {
                let _ = local.send(signal);
            }
            None => tracing::warn!(subject = %message.subject, "ignored an unreadable bus signal"),
        }
    }
}

/// Follows the connection: once it is back after a cut (or after signals were dropped), this
/// node's sockets resync (they missed the others' hints) and so do the other nodes' (they
/// missed ours). A slow consumer (NATS dropped signals for us) resyncs this node.
async fn watch(
    client: Client,
    mut events: mpsc::Receiver<Event>,
    local: broadcast::Sender<Signal>,
    outbox: mpsc::Sender<Signal>,
    missed: Arc<AtomicBool>,
) {
    let mut was_connected = false;
    let mut last_resync: Option<tokio::time::Instant> = None;
    while let Some(event) = events.recv().await {
        match event {
            Event::Connected => {
                let lost = was_connected || missed.swap(false, Ordering::Relaxed);
                was_connected = true;
                metrics::gauge!("renkei_bus_connected").set(1.0);
                if lost {
                    // The resubscription is queued before this event: a round trip makes
                    // sure it is in force before the store is read again.
                    let _ = client.flush().await;
                    tracing::info!("the bus is back; every node catches up from the store");
                    let _ = local.send(Signal::Resync);
                    let _ = outbox.try_send(Signal::Resync);
                    last_resync = Some(tokio::time::Instant::now());
                }
            }
            Event::Disconnected => {
                metrics::gauge!("renkei_bus_connected").set(0.0);
                tracing::warn!("lost the bus (NATS); live hints pause until it is back");
            }
            Event::SlowConsumer(_) if last_resync.is_none_or(|at| at.elapsed() >= RESYNC_GAP) => {
                tracing::warn!("fell behind the bus; this node catches up from the store");
                let _ = local.send(Signal::Resync);
                last_resync = Some(tokio::time::Instant::now());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_survives_the_wire() {
        let (a, b) = (renkei_core::new_id(), renkei_core::new_id());
        let signals = [
            Signal::Advanced {
                conversation: a,
                seq: 42,
            },
            Signal::Ephemeral {
                conversation: a,
                frame: Arc::from(r#"{"type":"typing"}"#),
                except: Some(b),
            },
            Signal::Ephemeral {
                conversation: a,
                frame: Arc::from("{}"),
                except: None,
            },
            Signal::MembershipChanged {
                conversation: a,
                removed: Some(b),
            },
            Signal::MembershipChanged {
                conversation: a,
                removed: None,
            },
            Signal::UserEnded { user: b },
            Signal::InboxChanged { org: a, study: b },
            Signal::SessionsEnded { user: b },
            Signal::Resync,
        ];
        for signal in signals {
            let back = decode(&encode(&signal)).expect("decodes");
            assert_eq!(format!("{back:?}"), format!("{signal:?}"));
        }
        assert!(decode(b"{\"k\":\"unknown\"}").is_none());
        assert!(decode(b"not json").is_none());
    }

    #[test]
    fn subject_prefixes_are_plain_tokens() {
        for good in ["renkei", "renkei.prod", "hospital-1_a.renkei"] {
            assert!(valid_prefix(good), "{good}");
        }
        for bad in ["", "renkei.*", "renkei.>", "a..b", "has space", ".renkei"] {
            assert!(!valid_prefix(bad), "{bad}");
        }
    }
}
