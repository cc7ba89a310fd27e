//! This node's live connections: which sockets belong to whom, who is in which conversation,
//! and the recent events they are sent. It turns bus signals into per-socket nudges.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use renkei_core::Uuid;
use renkei_store::Store;
use tokio::sync::{broadcast, mpsc};

use super::bus::Signal;
use super::frames::ServerFrame;

/// Room for nudges per socket before it is told to resync.
const SOCKET_QUEUE: usize = 1024;
/// Recent event frames kept per conversation, so most deliveries skip the database.
const RECENT_PER_CONVERSATION: usize = 64;
/// Conversations whose recent events are kept.
const RECENT_CONVERSATIONS: usize = 20_000;

/// A conversation's newest event frames with their numbers, oldest first.
type RecentFrames = VecDeque<(i64, Arc<str>, Instant)>;

/// A nudge to one socket.
#[derive(Debug, Clone)]
pub enum Nudge {
    /// Send the conversation's events up to `seq`.
    Advanced { conversation: Uuid, seq: i64 },
    /// Send this frame as is.
    Frame(Arc<str>),
    /// Stop sending this conversation.
    Removed { conversation: Uuid },
    /// Close: the user may no longer be connected.
    End,
    /// Check the socket's session now; close if it has ended.
    Recheck,
    /// Hints may have been lost: check the session and every conversation against the store.
    Resync,
}

/// One socket's receiving end.
pub struct SocketInbox {
    pub id: u64,
    pub user: Uuid,
    pub nudges: mpsc::Receiver<Nudge>,
    /// Set when nudges were dropped because the socket fell behind.
    pub overflowed: Arc<AtomicBool>,
}

struct SocketHandle {
    id: u64,
    /// The user's organization, whose inbox hints the socket gets.
    org: Uuid,
    nudges: mpsc::Sender<Nudge>,
    overflowed: Arc<AtomicBool>,
}

/// The registry and caches; one per node.
pub struct Hub {
    store: Store,
    next_id: AtomicU64,
    sockets: Mutex<HashMap<Uuid, Vec<SocketHandle>>>,
    members: Mutex<HashMap<Uuid, Arc<Vec<Uuid>>>>,
    recent: Mutex<HashMap<Uuid, RecentFrames>>,
}

impl Hub {
    pub fn new(store: Store) -> Arc<Hub> {
        Arc::new(Hub {
            store,
            next_id: AtomicU64::new(1),
            sockets: Mutex::new(HashMap::new()),
            members: Mutex::new(HashMap::new()),
            recent: Mutex::new(HashMap::new()),
        })
    }

    /// Registers a socket of `user` (of organization `org`); nudges start flowing at once.
    pub fn register(&self, user: Uuid, org: Uuid) -> SocketInbox {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let overflowed = Arc::new(AtomicBool::new(false));
        let handle = SocketHandle {
            id,
            org,
            nudges: tx,
            overflowed: overflowed.clone(),
        };
        lock(&self.sockets).entry(user).or_default().push(handle);
        metrics::gauge!("renkei_ws_connections").increment(1.0);
        SocketInbox {
            id,
            user,
            nudges: rx,
            overflowed,
        }
    }

    /// Forgets a socket.
    pub fn unregister(&self, user: Uuid, id: u64) {
        let mut sockets = lock(&self.sockets);
        if let Some(list) = sockets.get_mut(&user) {
            list.retain(|s| s.id != id);
            if list.is_empty() {
                sockets.remove(&user);
            }
        }
        metrics::gauge!("renkei_ws_connections").decrement(1.0);
    }

    /// A clone of the sender for a socket's own frames (acks), if it is still registered.
    pub fn sender_of(&self, user: Uuid, id: u64) -> Option<mpsc::Sender<Nudge>> {
        lock(&self.sockets)
            .get(&user)?
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.nudges.clone())
    }

    /// Remembers a just-committed event frame (and when it was committed, for the delivery
    /// latency) so sockets need not read it back.
    pub fn remember(&self, conversation: Uuid, seq: i64, frame: Arc<str>, committed: Instant) {
        let mut recent = lock(&self.recent);
        if recent.len() >= RECENT_CONVERSATIONS && !recent.contains_key(&conversation) {
            recent.clear();
        }
        let list = recent.entry(conversation).or_default();
        if list.back().is_some_and(|(last, _, _)| *last >= seq) {
            return;
        }
        list.push_back((seq, frame, committed));
        if list.len() > RECENT_PER_CONVERSATION {
            list.pop_front();
        }
    }

    /// The frames of events `after+1 ..= upto` with their commit instants, when all of them
    /// are remembered.
    pub fn recent(
        &self,
        conversation: Uuid,
        after: i64,
        upto: i64,
    ) -> Option<Vec<(Arc<str>, Instant)>> {
        let recent = lock(&self.recent);
        let list = recent.get(&conversation)?;
        let first = list.front()?.0;
        if first > after + 1 || list.back()?.0 < upto {
            return None;
        }
        let frames: Vec<_> = list
            .iter()
            .filter(|(seq, _, _)| *seq > after && *seq <= upto)
            .map(|(_, f, at)| (f.clone(), *at))
            .collect();
        (frames.len() as i64 == upto - after).then_some(frames)
    }

    async fn member_ids(&self, conversation: Uuid) -> Arc<Vec<Uuid>> {
        if let Some(ids) = lock(&self.members).get(&conversation) {
            return ids.clone();
        }
        let ids: Arc<Vec<Uuid>> = match self.store.members(conversation).await {
            Ok(members) => Arc::new(members.iter().map(|m| m.user_id).collect()),
            Err(e) => {
                tracing::warn!(error = %e, "could not load members for delivery");
                return Arc::new(Vec::new());
            }
        };
        let mut cache = lock(&self.members);
        if cache.len() > RECENT_CONVERSATIONS {
            cache.clear();
        }
        cache.insert(conversation, ids.clone());
        ids
    }

    fn nudge_user(&self, user: Uuid, nudge: &Nudge) {
        if let Some(list) = lock(&self.sockets).get(&user) {
            for socket in list {
                if socket.nudges.try_send(nudge.clone()).is_err() {
                    socket.overflowed.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// Sends a frame to every socket of `user` on this node (a call's end to a removed member).
    pub fn send_to_user(&self, user: Uuid, frame: Arc<str>) {
        self.nudge_user(user, &Nudge::Frame(frame));
    }

    /// Tells every socket of the organization's users that its inbox changed (the inbox lists
    /// an organization's studies to all of its users).
    fn nudge_org(&self, org: Uuid, study: Uuid) {
        let nudge = Nudge::Frame(ServerFrame::InboxChanged { study_id: study }.text());
        for socket in lock(&self.sockets).values().flatten() {
            if socket.org == org && socket.nudges.try_send(nudge.clone()).is_err() {
                socket.overflowed.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Applies one bus signal to this node's sockets.
    pub async fn deliver(&self, signal: Signal) {
        match signal {
            Signal::Advanced { conversation, seq } => {
                let nudge = Nudge::Advanced { conversation, seq };
                for user in self.member_ids(conversation).await.iter() {
                    self.nudge_user(*user, &nudge);
                }
            }
            Signal::Ephemeral {
                conversation,
                frame,
                except,
            } => {
                let nudge = Nudge::Frame(frame);
                for user in self.member_ids(conversation).await.iter() {
                    if Some(*user) != except {
                        self.nudge_user(*user, &nudge);
                    }
                }
            }
            Signal::MembershipChanged {
                conversation,
                removed,
            } => {
                lock(&self.members).remove(&conversation);
                if let Some(user) = removed {
                    self.nudge_user(user, &Nudge::Removed { conversation });
                }
            }
            Signal::UserEnded { user } => self.nudge_user(user, &Nudge::End),
            Signal::InboxChanged { org, study } => self.nudge_org(org, study),
            Signal::SessionsEnded { user } => self.nudge_user(user, &Nudge::Recheck),
            Signal::Resync => self.resync(),
        }
    }

    /// Forgets the cached memberships and has every socket check itself against the store
    /// (a socket whose queue is full is flagged, and reconnects with its positions).
    fn resync(&self) {
        lock(&self.members).clear();
        let sockets = lock(&self.sockets);
        metrics::counter!("renkei_hub_resyncs_total").increment(1);
        for socket in sockets.values().flatten() {
            if socket.nudges.try_send(Nudge::Resync).is_err() {
                socket.overflowed.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Delivers bus signals until the bus closes; a lag (should not happen) is a resync.
    pub async fn run(self: Arc<Self>, mut signals: broadcast::Receiver<Signal>) {
        loop {
            match signals.recv().await {
                Ok(signal) => self.deliver(signal).await,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "hub fell behind the bus; every socket resyncs");
                    self.resync();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_that_falls_behind_is_flagged_for_resync() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let hub = Hub::new(store);
        let user = renkei_core::new_id();
        let mut slow = hub.register(user, renkei_core::new_id());
        let frame: Arc<str> = Arc::from("{}");
        for _ in 0..SOCKET_QUEUE {
            hub.nudge_user(user, &Nudge::Frame(frame.clone()));
        }
        assert!(
            !slow.overflowed.load(Ordering::Relaxed),
            "a full queue is not yet a loss"
        );
        hub.nudge_user(user, &Nudge::Frame(frame));
        assert!(
            slow.overflowed.load(Ordering::Relaxed),
            "the first dropped nudge flags the socket"
        );
        assert!(
            slow.nudges.recv().await.is_some(),
            "what was queued is still there"
        );
    }

    #[tokio::test]
    async fn inbox_hints_reach_the_organizations_sockets_only() {
        let hub = Hub::new(Store::connect("sqlite::memory:").await.unwrap());
        let (ours, theirs) = (renkei_core::new_id(), renkei_core::new_id());
        let mut doctor = hub.register(renkei_core::new_id(), ours);
        let mut outsider = hub.register(renkei_core::new_id(), theirs);
        let study = renkei_core::new_id();
        hub.deliver(Signal::InboxChanged { org: ours, study }).await;
        match doctor.nudges.try_recv() {
            Ok(Nudge::Frame(frame)) => assert_eq!(
                &*frame,
                format!(r#"{{"type":"inbox_changed","study_id":"{study}"}}"#)
            ),
            other => panic!("expected the hint, got {other:?}"),
        }
        assert!(outsider.nudges.try_recv().is_err(), "another organization");
    }

    #[tokio::test]
    async fn recent_frames_are_served_only_without_gaps() {
        let hub = Hub::new(Store::connect("sqlite::memory:").await.unwrap());
        let conv = renkei_core::new_id();
        for seq in [3, 4, 6] {
            hub.remember(conv, seq, Arc::from(format!("{seq}")), Instant::now());
        }
        assert_eq!(hub.recent(conv, 2, 4).map(|f| f.len()), Some(2));
        assert!(
            hub.recent(conv, 4, 6).is_none(),
            "5 is missing: read the store"
        );
        assert!(hub.recent(conv, 1, 4).is_none(), "2 was never remembered");
    }
}
