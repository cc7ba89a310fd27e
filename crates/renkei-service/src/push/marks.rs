//! What an accepted push records, gathered for a short interval: each subscription's
//! `last_pushed_at` (one statement, in the message writer's lane), then the members' `pushed`
//! marks through the messaging's coalescer of member marks (with their live `delivery`
//! frames). In that order, so a device shows its last push by the time its member's mark says
//! pushed. A member whose socket already got the message costs nothing: a `pushed` mark behind
//! the `delivered` mark noted in memory is not even noted, and the `delivered` marks are
//! written just before the `pushed` ones (the store skips marks behind `delivered`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_store::MemberMark;
use tokio::sync::mpsc;

use crate::messaging::Messaging;
use crate::messaging::delivery::MemberMarks;
use crate::messaging::writer::Writer;

/// How long accepted pushes are gathered before one write.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// A push the push service accepted.
#[derive(Debug, Clone, Copy)]
pub struct Pushed {
    pub subscription: Uuid,
    pub conversation: Uuid,
    pub user: Uuid,
    pub seq: i64,
}

/// The handle to the recording task.
#[derive(Clone)]
pub struct Marks {
    members: Arc<MemberMarks>,
    delivered: Arc<MemberMarks>,
    subscriptions: mpsc::Sender<Uuid>,
}

impl Marks {
    /// Starts the task.
    pub fn start(messaging: Arc<Messaging>) -> Marks {
        let (tx, rx) = mpsc::channel(65_536);
        let members = messaging.member_marks(MemberMark::Pushed);
        let delivered = messaging.delivery.clone();
        let writer = messaging.writer().clone();
        tokio::spawn(record(writer, members.clone(), delivered.clone(), rx));
        Marks {
            members,
            delivered,
            subscriptions: tx,
        }
    }

    /// Notes an accepted push (dropped, not waited for, if the task is far behind).
    pub fn pushed(&self, p: Pushed) {
        // Usually the member's socket got the message first: its `delivered` mark, noted and
        // not written yet, already passed this one, and the store would skip it anyway.
        let delivered = self.delivered.noted(p.conversation, p.user);
        if delivered.is_none_or(|d| d < p.seq) {
            self.members.note(p.conversation, p.user, p.seq);
        }
        let _ = self.subscriptions.try_send(p.subscription);
    }
}

async fn record(
    writer: Writer,
    members: Arc<MemberMarks>,
    delivered: Arc<MemberMarks>,
    mut rx: mpsc::Receiver<Uuid>,
) {
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(FLUSH_INTERVAL).await;
        let mut subs: HashSet<Uuid> = HashSet::from([first]);
        while let Ok(id) = rx.try_recv() {
            subs.insert(id);
        }
        let ids: Vec<Uuid> = subs.into_iter().collect();
        let marked = writer
            .exclusive(move |store| async move { store.mark_pushed(&ids, Timestamp::now()).await })
            .await;
        if let Err(e) = marked {
            tracing::warn!(error = %e, "recording last pushes failed");
        }
        delivered.flush().await;
        members.flush().await;
    }
}
