//! The signed-in user: who am I, my passcode, my password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::org::Organization;
use renkei_core::user::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::accounts::own_secrets;
use crate::auth::session::Unlocked;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    user: User,
    organization: Organization,
    has_passcode: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasscodeRequest {
    /// 4 to 12 digits.
    passcode: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// The signed-in user and their organization (with its policy).
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 423, body = ErrorBody, description = "session_locked")))]
pub async fn get_me(Unlocked(authed): Unlocked) -> Json<MeResponse> {
    Json(MeResponse {
        user: authed.user,
        organization: authed.org,
        has_passcode: authed.has_passcode,
    })
}

/// Set or change the device passcode.
#[utoipa::path(put, path = "/api/v1/me/passcode", tag = "auth", request_body = PasscodeRequest, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = ErrorBody, description = "invalid_passcode")))]
pub async fn set_passcode(
    State(state): State<AppState>,
    Unlocked(authed): Unlocked,
    ApiJson(req): ApiJson<PasscodeRequest>,
) -> ApiResult<StatusCode> {
    own_secrets::set_passcode(&state, &authed, &req.passcode).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the password (required after a one-time password). Every other session of the
/// user ends, and their live connections close.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody, description = "wrong_password"),
        (status = 422, body = ErrorBody, description = "weak_password, password_too_common, password_contains_login, password_contains_name, password_unchanged")))]
pub async fn change_password(
    State(state): State<AppState>,
    Unlocked(authed): Unlocked,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    own_secrets::change_password(&state, &authed, &req.current_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
