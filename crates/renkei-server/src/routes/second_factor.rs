//! The second factor at sign-in: its state, entering a code, and enrolling an authenticator
//! app (secret and `otpauth://` URI, then a first code, then the recovery codes once).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::totp;
use renkei_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::{ClientIp, count_failure, rate_limited};
use crate::AppState;
use crate::auth::second_factor::{self as factor, Typed};
use crate::auth::session::{AnySession, Authed, unlocked_gate};
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::ApiJson;

#[derive(Serialize, ToSchema)]
pub struct SecondFactorStatus {
    /// The user's flag, the organization's policy, or their own enrollment asks for one.
    required: bool,
    /// An authenticator app is set up.
    enrolled: bool,
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

fn wrong_code() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "wrong_code",
        "wrong code; enter the current code of your authenticator app",
    )
}

fn code_used() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "code_already_used",
        "this code was used already; wait for the next one",
    )
}

fn unix_seconds() -> i64 {
    Timestamp::now().millis().div_euclid(1000)
}

/// Whether this session's second factor is needed, set up and passed.
#[utoipa::path(get, path = "/api/v1/auth/second-factor", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SecondFactorStatus)))]
pub async fn status(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Json<SecondFactorStatus>> {
    let left = state
        .store
        .recovery_codes_left(authed.user.id)
        .await
        .or_api("user_not_found")?;
    Ok(Json(SecondFactorStatus {
        required: authed.second_factor_needed(),
        enrolled: authed.second_factor_enrolled,
        passed: !authed.second_factor_pending,
        recovery_codes_left: left,
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
    rate_limited(&state, ip)?;
    let user = &authed.user;
    let factor = match state.store.second_factor(user.id).await {
        Ok(Some(f)) if f.confirmed_at.is_some() => f,
        Ok(_) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_enrolled",
                "no authenticator app is set up for this account",
            ));
        }
        Err(e) => return Err(ApiError::from_store(e, "user_not_found")),
    };
    let secret = factor::open_secret(&state.media.blobs, user.id, &factor)?;
    let typed = factor::read_code(&secret, user.id, &req.code, unix_seconds());
    let method = match typed {
        Typed::Totp(_) => "totp",
        Typed::Recovery(_) => "recovery_code",
    };
    let Some(proof) = factor::proof(&typed) else {
        return Err(count_failure(&state, user, "auth.second_factor_failed", wrong_code()).await);
    };
    let event = AuditEvent::new(
        "auth.second_factor",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(authed.session.id),
    )
    .with_details(json!({ "method": method }));
    match state
        .store
        .pass_second_factor(user.id, proof, authed.session.id, &event)
        .await
    {
        Ok(left) => Ok(Json(Passed {
            recovery_codes_left: left,
        })),
        Err(StoreError::Stale) => {
            Err(count_failure(&state, user, "auth.second_factor_failed", code_used()).await)
        }
        Err(StoreError::NotFound) => {
            Err(count_failure(&state, user, "auth.second_factor_failed", wrong_code()).await)
        }
        Err(e) => Err(ApiError::from_store(e, "user_not_found")),
    }
}

/// A session may enroll while it owes its second factor (it has nothing else to do), or once
/// it is fully unlocked (voluntary enrollment).
fn may_enroll(authed: &Authed) -> ApiResult<()> {
    if !authed.second_factor_pending {
        unlocked_gate(authed)?;
    }
    if authed.second_factor_enrolled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_enrolled",
            "an authenticator app is set up already; an administrator can reset it",
        ));
    }
    Ok(())
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
    may_enroll(&authed)?;
    let user = &authed.user;
    let (secret, sealed) = factor::new_secret(&state.media.blobs, user.id)?;
    state
        .store
        .start_second_factor(user.id, &sealed)
        .await
        .or_api("user_not_found")?;
    Ok(Json(Enrollment {
        secret: totp::base32(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, &user.login),
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
    rate_limited(&state, ip)?;
    may_enroll(&authed)?;
    let user = &authed.user;
    let factor = match state.store.second_factor(user.id).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_enrollment",
                "start setting up an authenticator app first",
            ));
        }
        Err(e) => return Err(ApiError::from_store(e, "user_not_found")),
    };
    let secret = factor::open_secret(&state.media.blobs, user.id, &factor)?;
    let Some(step) = totp::matching_step(&secret, &req.code, unix_seconds()) else {
        return Err(count_failure(&state, user, "auth.second_factor_failed", wrong_code()).await);
    };
    let codes = factor::new_recovery_codes()?;
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| factor::recovery_code_hash(user.id, c))
        .collect();
    let event = AuditEvent::new(
        "auth.second_factor_enrolled",
        Some(user.org_id),
        Some(user.id),
        "user",
        Some(user.id),
    );
    state
        .store
        .confirm_second_factor(
            user.id,
            &factor.key.sealed,
            step,
            &hashes,
            authed.session.id,
            &event,
        )
        .await
        .or_api("user_not_found")?;
    Ok(Json(Enrolled {
        recovery_codes: codes,
    }))
}
