//! The fan-out bus: tells every node that something happened in a conversation.
//! It carries hints ("conversation X reached seq N"), never the truth: sockets read events
//! from the store (or its recent-events cache). In-process by default; over NATS between nodes
//! (`nats.rs`), where a lost hint is made good by `Resync`.

use std::sync::Arc;

use renkei_core::Uuid;
use tokio::sync::broadcast;

/// What the bus carries.
#[derive(Debug, Clone)]
pub enum Signal {
    /// The conversation's timeline reached `seq`.
    Advanced { conversation: Uuid, seq: i64 },
    /// A frame that is not part of the timeline (typing, receipts) for the members, except one.
    Ephemeral {
        conversation: Uuid,
        frame: Arc<str>,
        except: Option<Uuid>,
    },
    /// Membership changed; a removed user's sockets must stop receiving at once.
    MembershipChanged {
        conversation: Uuid,
        removed: Option<Uuid>,
    },
    /// The user may no longer be connected (suspended, retired, locked out).
    UserEnded { user: Uuid },
    /// The organization's image inbox changed: `study` is new or has new instances.
    InboxChanged { org: Uuid, study: Uuid },
    /// Some sessions of the user ended (a password change, a sign-out): each socket checks
    /// its own.
    SessionsEnded { user: Uuid },
    /// Hints may have been lost (the bus connection dropped and came back, or a subscriber
    /// fell behind): every socket re-reads its conversations and its session from the store.
    Resync,
}

/// Publishes signals to every node's hub.
pub trait Bus: Send + Sync {
    /// Sends a signal to every subscriber (this node's included).
    fn publish(&self, signal: Signal);
    /// A new subscription; a subscriber that falls behind learns it (`Lagged`).
    fn subscribe(&self) -> broadcast::Receiver<Signal>;
}

/// A bus within one process.
pub struct LocalBus {
    sender: broadcast::Sender<Signal>,
}

impl LocalBus {
    pub fn new() -> Self {
        LocalBus {
            sender: broadcast::channel(65_536).0,
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for LocalBus {
    fn publish(&self, signal: Signal) {
        // No subscriber means no socket to tell; the store already holds the truth.
        let _ = self.sender.send(signal);
    }

    fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.sender.subscribe()
    }
}
