//! The seam between something worth telling a person and how they are told: a [`Notifier`]
//! takes [`Alert`]s. Web Push is the first implementation; an SMS or voice gateway would be
//! another (see `docs/NOTIFICATIONS.md`). An alert names only ids: whoever sends it decides
//! what text leaves the server, by the organization's `push_preview` policy.

use std::sync::Arc;

use renkei_core::Uuid;

/// Why a person is being told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A new message in a conversation they follow.
    Message,
    /// A message that mentions them.
    Mention,
    /// An urgent message, first alert.
    Urgent,
    /// An urgent message they have not acknowledged, again.
    Realert,
    /// A colleague they cover has not acknowledged an urgent message.
    Escalation,
    /// Someone is calling them.
    Call,
}

impl AlertKind {
    /// Whether it must reach a phone at once (push `Urgency: high`), whatever the quiet
    /// hours and the conversation's mute.
    pub fn is_urgent(self) -> bool {
        matches!(
            self,
            AlertKind::Urgent | AlertKind::Realert | AlertKind::Escalation | AlertKind::Call
        )
    }
}

/// One thing to tell one person about one place in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub user_id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub kind: AlertKind,
    /// How long the push service may hold it for an unreachable device, in seconds.
    pub ttl_seconds: u32,
}

/// Tells people about alerts. `notify` queues and returns at once: it never waits on the
/// network, so chat delivery never waits on a push service.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, alert: Alert);

    /// [`Notifier::notify`] for an alert whose cause happened at `since` (a message's
    /// commit), so the time to the push service's answer can be measured from it.
    fn notify_since(&self, alert: Alert, since: std::time::Instant) {
        let _ = since;
        self.notify(alert);
    }
}

/// A notifier that tells nobody (no push configured, and most tests).
pub struct Silent;

impl Notifier for Silent {
    fn notify(&self, _alert: Alert) {}
}

/// The notifier the services use when none is configured.
pub fn silent() -> Arc<dyn Notifier> {
    Arc::new(Silent)
}
