//! The second factor at sign-in: its state, entering a code, and enrolling an authenticator
//! app (secret and `otpauth://` URI, then a first code, then the recovery codes once).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ClientIp;
use crate::AppState;
use crate::accounts::second_factor as factor;
use crate::auth::session::AnySession;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

#[derive(Serialize, ToSchema)]
pub struct SecondFactorStatus {
    /// The user's flag, the organization's policy, or their own enrollment asks for one.
    required: bool,
    /// An authenticator app is set up.
    enrolled: bool,
    /// Passkeys that pass it too (`POST /api/v1/auth/second-factor/passkey`).
    passkeys: i64,
    /// This session has passed it (or none is needed).
    passed: bool,
    /// Unused recovery codes.
    recovery_codes_left: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Six digits from the authenticator app, or a recovery code (`xxxx-xxxx-xxxx-xxxx`).
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Passed {
    /// Unused recovery codes after this one.
    recovery_codes_left: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Enrollment {
    /// The secret in base32, for typing into an authenticator app. Shown only here.
    secret: String,
    /// `otpauth://totp/renkei:<login>?secret=…&issuer=renkei…`, for a QR code.
    otpauth_uri: String,
}

#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    /// Single-use codes for when the phone is lost; shown once, kept only as hashes.
    recovery_codes: Vec<String>,
}

/// Whether this session's second factor is needed, set up and passed.
#[utoipa::path(get, path = "/api/v1/auth/second-factor", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SecondFactorStatus)))]
pub async fn status(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Json<SecondFactorStatus>> {
    let status = factor::status(&state, &authed).await?;
    Ok(Json(SecondFactorStatus {
        required: status.required,
        enrolled: status.enrolled,
        passkeys: status.passkeys,
        passed: status.passed,
        recovery_codes_left: status.recovery_codes_left,
    }))
}

/// Enter the authenticator app's code (or a recovery code, once) in this session.
#[utoipa::path(post, path = "/api/v1/auth/second-factor", tag = "auth", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = Passed, description = "Passed: the session may be used"),
        (status = 403, body = ErrorBody, description = "wrong_code, code_already_used (both counted towards the lockout)"),
        (status = 409, body = ErrorBody, description = "not_enrolled: set up an authenticator app first"),
        (status = 423, body = ErrorBody, description = "account_locked: too many wrong attempts; every session ended"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AnySession(authed): AnySession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<Json<Passed>> {
    state.limiter.check(ip).await?;
    let recovery_codes_left = factor::verify(&state, &authed, &req.code).await?;
    Ok(Json(Passed {
        recovery_codes_left,
    }))
}

/// Start setting up an authenticator app: a new secret (replacing an unconfirmed one).
#[utoipa::path(post, path = "/api/v1/me/second-factor/enrollment", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Enrollment, description = "The secret to add to the app; confirm with a first code"),
        (status = 409, body = ErrorBody, description = "already_enrolled"),
        (status = 423, body = ErrorBody, description = "session_locked"),
    ))]
pub async fn start_enrollment(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Json<Enrollment>> {
    let enrollment = factor::start_enrollment(&state, &authed).await?;
    Ok(Json(Enrollment {
        secret: enrollment.secret,
        otpauth_uri: enrollment.otpauth_uri,
    }))
}

/// Finish setting up: a first code from the app; answers the recovery codes, once.
#[utoipa::path(post, path = "/api/v1/me/second-factor/enrollment/confirm", tag = "auth", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = Enrolled, description = "Enrolled; this session has passed its second factor"),
        (status = 403, body = ErrorBody, description = "wrong_code (counted towards the lockout)"),
        (status = 409, body = ErrorBody, description = "already_enrolled, no_enrollment (start one first), version_conflict (restarted meanwhile)"),
        (status = 423, body = ErrorBody, description = "account_locked, session_locked"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn confirm_enrollment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AnySession(authed): AnySession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<Json<Enrolled>> {
    state.limiter.check(ip).await?;
    let recovery_codes = factor::confirm_enrollment(&state, &authed, &req.code).await?;
    Ok(Json(Enrolled { recovery_codes }))
}
