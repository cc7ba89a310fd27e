//! Urgent messages and delivery marks, for their members: acknowledging an urgent message
//! (which stops its re-alerts and escalation), and a service worker's report that a push was
//! shown. The re-alert and escalation schedule runs in [`schedule`].

pub mod schedule;

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::Priority;
use renkei_core::user::User;
use renkei_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::Services;
use crate::conversations::membership;
use crate::error::{OrService, ServiceError, ServiceResult};
use crate::messaging::frames::{MarkMoved, ServerFrame};

/// An acknowledged urgent message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    pub seq: i64,
    pub acknowledged_at: Timestamp,
}

/// A service worker's report that it showed the push of message `seq`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushReceipt {
    pub conversation_id: Uuid,
    pub seq: i64,
}

/// `me` acknowledges urgent message `seq` of `id` (its recipients only; idempotent: a second
/// acknowledgement returns the first one's time and writes nothing). Reading is not
/// acknowledging. The members see an `ack` frame; the acknowledgement is audited.
pub async fn acknowledge(
    services: &Services,
    me: &User,
    id: Uuid,
    seq: i64,
) -> ServiceResult<Acknowledged> {
    membership(services, me, id).await?;
    let message = services
        .store
        .message(id, seq)
        .await
        .or_service("message_not_found")?;
    if message.priority != Priority::Urgent {
        return Err(ServiceError::invalid(
            "not_urgent",
            "only urgent messages are acknowledged",
        ));
    }
    let alerts = services
        .store
        .urgent_alerts_of(id, seq)
        .await
        .or_service("message_not_found")?;
    let Some(alert) = alerts.iter().find(|a| a.user_id == me.id) else {
        return Err(not_recipient());
    };
    if let Some(at) = alert.acknowledged_at {
        return Ok(Acknowledged {
            seq,
            acknowledged_at: at,
        });
    }
    let audit = AuditEvent::new(
        "urgent.acknowledge",
        Some(me.org_id),
        Some(me.id),
        "conversation",
        Some(id),
    )
    .with_details(json!({"seq": seq, "sender_id": message.sender_id}));
    let at = match services
        .store
        .acknowledge_urgent(id, seq, me.id, services.clock.now(), &audit)
        .await
    {
        Err(StoreError::NotFound) => return Err(not_recipient()),
        other => other.or_service("message_not_found")?,
    };
    let frame = ServerFrame::Acknowledged {
        conversation_id: id,
        user_id: me.id,
        seq,
        acknowledged_at: at,
    }
    .text();
    services.messaging.ephemeral(id, frame, None);
    Ok(Acknowledged {
        seq,
        acknowledged_at: at,
    })
}

/// The service worker of one of `me`'s devices showed the push of message `seq`: raises
/// their delivered mark (members only; never back) and tells the other members.
pub async fn push_receipt(
    services: &Services,
    me: &User,
    receipt: PushReceipt,
) -> ServiceResult<()> {
    let id = receipt.conversation_id;
    if receipt.seq < 1 {
        return Err(ServiceError::invalid(
            "invalid_seq",
            "seq must be 1 or more",
        ));
    }
    match services.store.mark_delivered(id, me.id, receipt.seq).await {
        Ok(Some(seq)) => {
            let mark = MarkMoved {
                user_id: me.id,
                seq,
            };
            services.messaging.delivery.announce(id, &[mark])
        }
        Ok(None) => {}
        Err(e) => return Err(ServiceError::from_store(e, "conversation_not_found")),
    }
    Ok(())
}

fn not_recipient() -> ServiceError {
    ServiceError::not_found("urgent_recipient_not_found")
}
