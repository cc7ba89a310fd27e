//! Members' delivery marks, coalesced: noted in memory per (conversation, user) and written
//! by one task every interval, with one `delivery` frame per mark that moved (a `pushed`
//! mark the member's `delivered` mark already passed moves silently). The same coalescer
//! serves `delivered` (live sockets, about once a second) and `pushed` (accepted pushes,
//! every second). The writes go through the message writer's lane ([`Writer::exclusive`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use renkei_core::Uuid;
use renkei_store::MemberMark;

use super::bus::{Bus, Signal};
use super::frames::{MarkMoved, ServerFrame};
use super::writer::{Writer, flush_every};

/// Most marks written in one transaction.
const MAX_FLUSH: usize = 2_000;

/// One mark's notes since the last flush: the highest seq per (conversation, user).
pub struct MemberMarks {
    writer: Writer,
    bus: Arc<dyn Bus>,
    mark: MemberMark,
    pending: Mutex<HashMap<(Uuid, Uuid), i64>>,
}

impl MemberMarks {
    /// A coalescer of `mark` that its owner flushes.
    pub fn new(writer: Writer, bus: Arc<dyn Bus>, mark: MemberMark) -> Arc<MemberMarks> {
        Arc::new(MemberMarks {
            writer,
            bus,
            mark,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// A coalescer of `mark` with its own task that flushes it every `every`.
    pub fn start(
        writer: Writer,
        bus: Arc<dyn Bus>,
        mark: MemberMark,
        every: Duration,
    ) -> Arc<MemberMarks> {
        let marks = Self::new(writer, bus, mark);
        flush_every(&marks, every, |marks| async move {
            marks.flush().await;
        });
        marks
    }

    /// Notes that `user` got the events of `conversation` up to `seq` (a socket received
    /// them, or a push service accepted a push); no database write happens here.
    pub fn note(&self, conversation: Uuid, user: Uuid, seq: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mark = pending.entry((conversation, user)).or_default();
        *mark = (*mark).max(seq);
    }

    /// The highest seq noted for `user` in `conversation` and not written yet.
    pub fn noted(&self, conversation: Uuid, user: Uuid) -> Option<i64> {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.get(&(conversation, user)).copied()
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
        let started = std::time::Instant::now();
        let (mark, count) = (self.mark, batch.len());
        let stored = self
            .writer
            .exclusive(move |store| async move { store.raise_member_marks(mark, &batch).await })
            .await;
        let took = started.elapsed();
        if took >= crate::messaging::writer::SLOW_WRITE {
            tracing::debug!(ms = took.as_millis() as u64, marks = count, mark = ?mark, "slow member marks write");
        }
        match stored {
            Ok(moved) => {
                let count = moved.len();
                for (conversation, marks) in by_conversation(moved) {
                    self.announce(conversation, &marks);
                }
                count
            }
            Err(e) => {
                tracing::warn!(error = %e, marks = count, mark = ?mark, "could not store delivery marks");
                0
            }
        }
    }

    /// Sends one `delivery` frame with `marks` to the members of `conversation`: one frame per
    /// conversation and write, not one per mark, so a group whose ten members all received
    /// something costs each member's socket one frame a second instead of nine.
    pub fn announce(&self, conversation: Uuid, marks: &[MarkMoved]) {
        let frame = ServerFrame::Delivery {
            conversation_id: conversation,
            state: match self.mark {
                MemberMark::Pushed => "pushed",
                MemberMark::Delivered => "delivered",
            },
            marks,
        }
        .text();
        self.bus.publish(Signal::Ephemeral {
            conversation,
            frame,
            except: None,
        });
    }
}

/// The marks that moved, grouped by conversation (each conversation's in the order written).
fn by_conversation(moved: Vec<(Uuid, Uuid, i64)>) -> Vec<(Uuid, Vec<MarkMoved>)> {
    let mut groups: Vec<(Uuid, Vec<MarkMoved>)> = Vec::new();
    let mut at: HashMap<Uuid, usize> = HashMap::new();
    for (conversation, user_id, seq) in moved {
        let i = *at.entry(conversation).or_insert_with(|| {
            groups.push((conversation, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(MarkMoved { user_id, seq });
    }
    groups
}
