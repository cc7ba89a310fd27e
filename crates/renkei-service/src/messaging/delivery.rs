//! Delivered marks from live sockets, coalesced: noted in memory per (conversation, user) and
//! written by one task about once a second, with one `delivery` frame per mark that moved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use renkei_core::Uuid;
use renkei_store::Store;

use super::bus::{Bus, Signal};
use super::frames::ServerFrame;

/// How often noted marks are written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Most marks written in one transaction.
const MAX_FLUSH: usize = 2_000;

/// Marks noted since the last flush: the highest seq per (conversation, user).
pub struct DeliveryMarks {
    store: Store,
    bus: Arc<dyn Bus>,
    pending: Mutex<HashMap<(Uuid, Uuid), i64>>,
}

impl DeliveryMarks {
    /// Starts the flushing task.
    pub fn start(store: Store, bus: Arc<dyn Bus>) -> Arc<DeliveryMarks> {
        let marks = Arc::new(DeliveryMarks {
            store,
            bus,
            pending: Mutex::new(HashMap::new()),
        });
        let flusher = Arc::downgrade(&marks);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(marks) = flusher.upgrade() else {
                    return;
                };
                marks.flush().await;
            }
        });
        marks
    }

    /// Notes that a socket of `user` received the events of `conversation` up to `seq`; no
    /// database write happens here.
    pub fn note(&self, conversation: Uuid, user: Uuid, seq: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mark = pending.entry((conversation, user)).or_default();
        *mark = (*mark).max(seq);
    }

    /// Writes what was noted (marks only move forward) and tells the members; returns how
    /// many marks moved. A failed write is logged and dropped: the next delivery notes again.
    pub async fn flush(&self) -> usize {
        let batch: Vec<(Uuid, Uuid, i64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if pending.is_empty() {
                return 0;
            }
            let keys: Vec<_> = pending.keys().take(MAX_FLUSH).copied().collect();
            keys.into_iter()
                .filter_map(|k| pending.remove(&k).map(|seq| (k.0, k.1, seq)))
                .collect()
        };
        match self.store.raise_delivered(&batch).await {
            Ok(moved) => {
                for (conversation, user, seq) in &moved {
                    self.announce(*conversation, *user, *seq);
                }
                moved.len()
            }
            Err(e) => {
                tracing::warn!(error = %e, marks = batch.len(), "could not store delivered marks");
                0
            }
        }
    }

    /// Sends a `delivery` frame to the other members of `conversation`.
    pub fn announce(&self, conversation: Uuid, user: Uuid, seq: i64) {
        let frame = ServerFrame::Delivery {
            conversation_id: conversation,
            user_id: user,
            seq,
            state: "delivered",
        }
        .text();
        self.bus.publish(Signal::Ephemeral {
            conversation,
            frame,
            except: Some(user),
        });
    }
}
