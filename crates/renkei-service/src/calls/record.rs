//! What a call leaves behind: `call.started` and `call.ended` in the conversation's timeline,
//! and the audit entries `call.start`, `call.join`, `call.end`. Never the media.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::call::Call;
use renkei_core::conversation::EventKind;
use renkei_core::user::User;
use serde_json::json;

use super::Calls;
use crate::error::{OrService, ServiceResult};

/// Writes the start of `call` by `caller`; returns the event's number.
pub(super) async fn started(calls: &Calls, call: &Call, caller: &User) -> ServiceResult<i64> {
    let audit = AuditEvent::new(
        "call.start",
        Some(caller.org_id),
        Some(caller.id),
        "call",
        Some(call.id),
    )
    .with_details(json!({
        "conversation_id": call.conversation_id,
        "media": call.media,
        "mode": call.mode,
    }));
    let seq = calls
        .store
        .append_call_event(
            call.conversation_id,
            EventKind::CallStarted,
            Some(caller.id),
            &json!({"call_id": call.id, "media": call.media}),
            &[audit],
        )
        .await
        .or_service("conversation_not_found")?;
    calls.messaging.advanced(call.conversation_id, seq);
    Ok(seq)
}

/// Audits that `user` joined `call`.
pub(super) async fn joined(calls: &Calls, call: &Call, user: Uuid) {
    let org = calls.store.user(user).await.ok().map(|u| u.org_id);
    let audit = AuditEvent::new("call.join", org, Some(user), "call", Some(call.id))
        .with_details(json!({"conversation_id": call.conversation_id}));
    if let Err(e) = calls.store.append_audit(&audit).await {
        tracing::error!(error = %e, call = %call.id, "could not audit a call's join");
    }
}

/// Writes the end of `call` (in the conversation's organization's audit log).
pub(super) async fn ended(calls: &Calls, call: &Call, org_id: Uuid) {
    let facts = json!({
        "call_id": call.id,
        "duration_seconds": call.duration_seconds(),
        "participants": call.joined_users,
        "end_reason": call.end_reason,
    });
    let audit = AuditEvent::new("call.end", Some(org_id), None, "call", Some(call.id))
        .with_details(json!({
            "conversation_id": call.conversation_id,
            "duration_seconds": call.duration_seconds(),
            "participants": call.joined_users,
            "end_reason": call.end_reason,
        }));
    match calls
        .store
        .append_call_event(
            call.conversation_id,
            EventKind::CallEnded,
            None,
            &facts,
            &[audit],
        )
        .await
    {
        Ok(seq) => calls.messaging.advanced(call.conversation_id, seq),
        Err(e) => tracing::error!(error = %e, call = %call.id, "could not record a call's end"),
    }
}
