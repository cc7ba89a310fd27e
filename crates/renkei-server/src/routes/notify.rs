//! A member's own notification level for one conversation: all, mentions, or mute.

use axum::Json;
use axum::extract::State;
use renkei_core::notify::NotifyLevel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use renkei_service::conversations::set_notify_level;

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, IdPath};

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySetting {
    /// `all`, `mentions` (mentions of me and urgent messages) or `mute`. Push notifications do
    /// not exist yet; clients use it for unread badges and sounds.
    level: NotifyLevel,
}

/// Set how much of this conversation asks for my attention (members; my setting only).
#[utoipa::path(put, path = "/api/v1/conversations/{id}/notifications", tag = "conversations", request_body = NotifySetting, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = NotifySetting), (status = 404, body = ErrorBody, description = "conversation_not_found (also for non-members)"),
        (status = 400, body = ErrorBody, description = "invalid_json: an unknown level")))]
pub async fn set_notifications(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<NotifySetting>,
) -> ApiResult<Json<NotifySetting>> {
    let level = set_notify_level(&state, &me.user, id, req.level).await?;
    Ok(Json(NotifySetting { level }))
}
