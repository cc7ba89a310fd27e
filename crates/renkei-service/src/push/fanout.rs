//! From committed messages to alerts: for each member but the sender, by their level in the
//! conversation (all, mentions, mute), their quiet hours and whether the message is urgent;
//! members with no subscription are left out by the one lookup per batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::notify::NotifyLevel;
use renkei_store::{PushRecipient, Store};
use tokio::sync::mpsc;

use super::dnd;
use crate::notify::{Alert, AlertKind, Notifier};

/// A message push may tell about for one day.
pub const MESSAGE_TTL_SECONDS: u32 = 24 * 3600;
/// Committed batches waiting for the fan-out; beyond this they are dropped and counted.
pub const QUEUE: usize = 1024;

/// What the writer hands over for a committed message (ids only, never the body).
#[derive(Debug, Clone)]
pub struct Committed {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub urgent: bool,
    pub mentions: Vec<Uuid>,
    pub at: Instant,
}

/// Whether and how a member is told: urgent always passes (level and quiet hours alike);
/// otherwise mute tells nothing, `mentions` only mentions, and quiet hours hold all.
pub fn decide(level: NotifyLevel, urgent: bool, mentioned: bool, quiet: bool) -> Option<AlertKind> {
    if urgent {
        return Some(AlertKind::Urgent);
    }
    if quiet {
        return None;
    }
    match (level, mentioned) {
        (NotifyLevel::Mute, _) => None,
        (_, true) => Some(AlertKind::Mention),
        (NotifyLevel::All, false) => Some(AlertKind::Message),
        (NotifyLevel::Mentions, false) => None,
    }
}

/// Runs the fan-out until the writer goes away.
pub async fn run(
    store: Store,
    notifier: Arc<dyn Notifier>,
    mut rx: mpsc::Receiver<Vec<Committed>>,
) {
    while let Some(mut batch) = rx.recv().await {
        while let Ok(more) = rx.try_recv() {
            batch.extend(more);
            if batch.len() >= 4096 {
                break;
            }
        }
        let mut conversations: Vec<Uuid> = batch.iter().map(|m| m.conversation_id).collect();
        conversations.sort();
        conversations.dedup();
        let recipients = match store.push_recipients(&conversations).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "finding push recipients failed");
                continue;
            }
        };
        let mut by_conversation: HashMap<Uuid, Vec<PushRecipient>> = HashMap::new();
        for r in recipients {
            by_conversation
                .entry(r.conversation_id)
                .or_default()
                .push(r);
        }
        let now = Timestamp::now();
        for m in &batch {
            for r in by_conversation
                .get(&m.conversation_id)
                .into_iter()
                .flatten()
            {
                if r.user_id == m.sender_id {
                    continue;
                }
                let quiet = r
                    .dnd
                    .is_some_and(|(s, e)| dnd::in_quiet_hours(s, e, r.utc_offset_minutes, now));
                let mentioned = m.mentions.contains(&r.user_id);
                if let Some(kind) = decide(r.level, m.urgent, mentioned, quiet) {
                    notifier.notify_since(
                        Alert {
                            user_id: r.user_id,
                            conversation_id: m.conversation_id,
                            seq: m.seq,
                            kind,
                            ttl_seconds: MESSAGE_TTL_SECONDS,
                        },
                        m.at,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgent_passes_mute_and_quiet_hours() {
        for level in [NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::Mute] {
            for quiet in [false, true] {
                assert_eq!(decide(level, true, false, quiet), Some(AlertKind::Urgent));
            }
        }
    }

    #[test]
    fn levels_decide_the_rest() {
        assert_eq!(
            decide(NotifyLevel::All, false, false, false),
            Some(AlertKind::Message)
        );
        assert_eq!(
            decide(NotifyLevel::All, false, true, false),
            Some(AlertKind::Mention)
        );
        assert_eq!(decide(NotifyLevel::Mentions, false, false, false), None);
        assert_eq!(
            decide(NotifyLevel::Mentions, false, true, false),
            Some(AlertKind::Mention)
        );
        assert_eq!(decide(NotifyLevel::Mute, false, true, false), None);
    }

    #[test]
    fn quiet_hours_hold_everything_but_urgent() {
        assert_eq!(decide(NotifyLevel::All, false, false, true), None);
        assert_eq!(decide(NotifyLevel::All, false, true, true), None);
    }
}
