//! Urgent messages and delivery over HTTP: acknowledging an urgent message, and a service
//! worker's report that it showed a push. The rules are `renkei_service::urgent`'s.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_service::urgent::{self as service, Acknowledged, PushReceipt};

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

/// Acknowledge an urgent message (its recipients): stops its re-alerts and escalation for
/// you. Reading is not acknowledging. Idempotent: again returns the first time.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{seq}/ack", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)),
    responses((status = 200, body = Acknowledged),
        (status = 404, body = ErrorBody, description = "conversation_not_found, message_not_found, urgent_recipient_not_found (the sender, or a member who joined later)"),
        (status = 422, body = ErrorBody, description = "not_urgent, invalid_seq")))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiPath((id, seq)): ApiPath<(Uuid, i64)>,
) -> ApiResult<Json<Acknowledged>> {
    Ok(Json(service::acknowledge(&state, &me.user, id, seq).await?))
}

/// A service worker showed the push of a message: marks it delivered to you (members only;
/// marks never move back).
#[utoipa::path(post, path = "/api/v1/push/receipts", tag = "messages", request_body = PushReceipt, security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody, description = "conversation_not_found (also for non-members)")))]
pub async fn push_receipt(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiJson(receipt): ApiJson<PushReceipt>,
) -> ApiResult<StatusCode> {
    service::push_receipt(&state, &me.user, receipt).await?;
    Ok(StatusCode::NO_CONTENT)
}
