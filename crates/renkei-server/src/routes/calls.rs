//! Calls over HTTP: TURN credentials for a client's `RTCPeerConnection` (signalling is on `/ws`).

use axum::Json;
use axum::extract::State;
use renkei_core::clock::Timestamp;
use renkei_service::calls::{TurnCredentials, turn_credentials};

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiResult, ErrorBody};

/// Time-limited TURN credentials (coturn's REST scheme: `username = "<unix expiry>:<user id>"`,
/// `credential = base64(HMAC-SHA1(turn_secret, username))`), for the relay fallback of calls.
#[utoipa::path(get, path = "/api/v1/calls/turn", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = TurnCredentials),
        (status = 404, body = ErrorBody, description = "turn_not_configured: no turn_secret"),
        (status = 423, body = ErrorBody, description = "session_locked")))]
pub async fn turn(
    State(state): State<AppState>,
    Signed(me): Signed,
) -> ApiResult<Json<TurnCredentials>> {
    Ok(Json(turn_credentials(
        &state.settings,
        me.user.id,
        Timestamp::now(),
    )?))
}
