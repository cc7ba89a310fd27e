//! Membership follows calls: a member removed from a conversation (or whose organization's
//! agreement was revoked) leaves its call at once.

use std::sync::Arc;

use renkei_core::call::CallEvent;
use tokio::sync::broadcast;

use super::Calls;
use crate::messaging::bus::Signal;

/// Ends the part of every removed member until the bus closes.
pub(super) async fn removals(calls: Arc<Calls>, mut signals: broadcast::Receiver<Signal>) {
    loop {
        match signals.recv().await {
            Ok(Signal::MembershipChanged {
                conversation,
                removed: Some(user),
            }) => {
                let ids: Vec<_> = calls
                    .registry()
                    .values()
                    .filter(|e| {
                        e.call.conversation_id == conversation
                            && (e.call.has_user(user) || e.call.ringing.contains(&user))
                    })
                    .map(|e| e.call.id)
                    .collect();
                for id in ids {
                    // The size limit does not matter for a removal.
                    let _ = calls
                        .apply(id, usize::MAX, CallEvent::Removed { user_id: user })
                        .await;
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "calls fell behind the bus");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
