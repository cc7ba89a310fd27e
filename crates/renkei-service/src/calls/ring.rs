//! Ringing: a high-urgency `call` alert to each callee still ringing, again every interval,
//! until nobody rings or the ringing time is over (then the call ends `no_answer`).

use renkei_core::Uuid;
use renkei_core::call::{CallEvent, RING_SECONDS};
use tokio::time::{Instant, sleep_until};

use crate::Services;
use crate::notify::{Alert, AlertKind};

/// Rings call `id`'s callees in the background.
pub(super) fn spawn(svc: Services, id: Uuid) {
    tokio::spawn(async move {
        let (repeat, timeout) = svc.calls.ring_times();
        let start = Instant::now();
        let mut next = start;
        loop {
            if next >= start + timeout {
                break;
            }
            sleep_until(next).await;
            let Some((conversation, seq, ringing)) = svc.calls.ringing(id) else {
                return;
            };
            if ringing.is_empty() {
                return;
            }
            for user_id in ringing {
                svc.notifier.notify(Alert {
                    user_id,
                    conversation_id: conversation,
                    seq,
                    kind: AlertKind::Call,
                    ttl_seconds: RING_SECONDS as u32,
                });
            }
            next += repeat;
        }
        sleep_until(start + timeout).await;
        if svc
            .calls
            .ringing(id)
            .is_some_and(|(_, _, ringing)| !ringing.is_empty())
        {
            let _ = svc
                .calls
                .apply(
                    id,
                    svc.settings.call_max_participants,
                    CallEvent::RingTimeout,
                )
                .await;
        }
    });
}
