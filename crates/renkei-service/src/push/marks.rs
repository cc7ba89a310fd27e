//! The `pushed` mark, coalesced: accepted pushes are gathered for a short interval, then
//! each (conversation, member) mark is raised once, each subscription's `last_pushed_at`
//! set in one statement, and one live `delivery` frame sent per mark.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_store::Store;
use tokio::sync::mpsc;

use crate::messaging::Messaging;
use crate::messaging::frames::ServerFrame;

/// How long accepted pushes are gathered before one write.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// A push the push service accepted.
#[derive(Debug, Clone, Copy)]
pub struct Pushed {
    pub subscription: Uuid,
    pub conversation: Uuid,
    pub user: Uuid,
    pub seq: i64,
}

/// The handle to the coalescing task.
#[derive(Clone)]
pub struct Marks {
    tx: mpsc::Sender<Pushed>,
}

impl Marks {
    /// Starts the task.
    pub fn start(store: Store, messaging: Arc<Messaging>) -> Marks {
        let (tx, rx) = mpsc::channel(65_536);
        tokio::spawn(run(store, messaging, rx));
        Marks { tx }
    }

    /// Notes an accepted push (dropped, not waited for, if the task is far behind).
    pub fn pushed(&self, p: Pushed) {
        let _ = self.tx.try_send(p);
    }
}

async fn run(store: Store, messaging: Arc<Messaging>, mut rx: mpsc::Receiver<Pushed>) {
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(FLUSH_INTERVAL).await;
        let mut marks: HashMap<(Uuid, Uuid), i64> = HashMap::new();
        let mut subs: HashSet<Uuid> = HashSet::new();
        let mut take = |p: Pushed| {
            let top = marks.entry((p.conversation, p.user)).or_default();
            *top = (*top).max(p.seq);
            subs.insert(p.subscription);
        };
        take(first);
        while let Ok(p) = rx.try_recv() {
            take(p);
        }
        let list: Vec<(Uuid, Uuid, i64)> = marks.iter().map(|(&(c, u), &s)| (c, u, s)).collect();
        if let Err(e) = store.raise_pushed_marks(&list).await {
            tracing::warn!(error = %e, "raising pushed marks failed");
            continue;
        }
        let ids: Vec<Uuid> = subs.into_iter().collect();
        if let Err(e) = store.mark_pushed(&ids, Timestamp::now()).await {
            tracing::warn!(error = %e, "recording last pushes failed");
        }
        for (conversation_id, user_id, seq) in list {
            let frame = ServerFrame::Delivery {
                conversation_id,
                user_id,
                seq,
                state: "pushed",
            };
            messaging.ephemeral(conversation_id, frame.text(), None);
        }
    }
}
