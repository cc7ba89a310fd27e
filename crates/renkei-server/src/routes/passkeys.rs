//! Passkeys (WebAuthn): registering, listing and removing one's own, signing in with one
//! (no password), and passing the second factor with one. Each ceremony is two requests: a
//! challenge with the browser's options, then the browser's answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use renkei_core::Uuid;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::{ClientIp, LoginResponse, signed_in_response};
use crate::AppState;
use crate::accounts::passkeys::{self, Ceremony, PasskeyView};
use crate::auth::session::AnySession;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, IdPath};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasskey {
    /// From `POST /api/v1/me/passkeys/registration`.
    challenge_id: Uuid,
    /// What to call it, e.g. "iPhone" (1–60 characters).
    name: String,
    /// `navigator.credentials.create()`'s answer as JSON (binary values in base64url).
    #[schema(value_type = Object)]
    credential: Value,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// From `POST /api/v1/auth/passkey/challenge`.
    challenge_id: Uuid,
    /// `navigator.credentials.get()`'s answer as JSON (binary values in base64url).
    #[schema(value_type = Object)]
    credential: Value,
}

/// My passkeys, oldest first.
#[utoipa::path(get, path = "/api/v1/me/passkeys", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<PasskeyView>),
        (status = 403, body = ErrorBody, description = "second_factor_required"),
        (status = 423, body = ErrorBody, description = "session_locked"),
    ))]
pub async fn list_passkeys(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Json<Vec<PasskeyView>>> {
    Ok(Json(passkeys::list(&state, &authed).await?))
}

/// Begin registering a passkey: the options for `navigator.credentials.create()`.
#[utoipa::path(post, path = "/api/v1/me/passkeys/registration", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Ceremony, description = "Answer within 5 minutes at `POST /api/v1/me/passkeys`"),
        (status = 403, body = ErrorBody, description = "second_factor_required (pass the one you have first)"),
        (status = 404, body = ErrorBody, description = "passkeys_unavailable: the server's public_url is not configured"),
        (status = 423, body = ErrorBody, description = "session_locked"),
    ))]
pub async fn start_passkey_registration(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Json<Ceremony>> {
    Ok(Json(passkeys::start_registration(&state, &authed).await?))
}

/// Finish registering a passkey with the browser's answer; a session that owed its second
/// factor (and had none) has passed it.
#[utoipa::path(post, path = "/api/v1/me/passkeys", tag = "auth", request_body = NewPasskey, security(("bearer" = [])),
    responses(
        (status = 201, body = PasskeyView),
        (status = 400, body = ErrorBody, description = "credential_invalid: not a WebAuthn answer"),
        (status = 403, body = ErrorBody, description = "challenge_invalid (expired, spent or someone else's), passkey_refused (the answer did not verify), second_factor_required"),
        (status = 404, body = ErrorBody, description = "passkeys_unavailable: the server's public_url is not configured"),
        (status = 409, body = ErrorBody, description = "passkey_taken: this authenticator is registered already"),
        (status = 422, body = ErrorBody, description = "name_invalid"),
        (status = 423, body = ErrorBody, description = "session_locked"),
    ))]
pub async fn add_passkey(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
    ApiJson(req): ApiJson<NewPasskey>,
) -> ApiResult<(StatusCode, Json<PasskeyView>)> {
    let added =
        passkeys::finish_registration(&state, &authed, req.challenge_id, &req.name, req.credential)
            .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Remove one of my passkeys: it signs in no more.
#[utoipa::path(delete, path = "/api/v1/me/passkeys/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = ErrorBody, description = "passkey_not_found"),
        (status = 423, body = ErrorBody, description = "session_locked"),
    ))]
pub async fn remove_passkey(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    passkeys::remove(&state, &authed, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Begin signing in with a passkey (or passing the second factor with one): the options for
/// `navigator.credentials.get()`. No session needed.
#[utoipa::path(post, path = "/api/v1/auth/passkey/challenge", tag = "auth",
    responses(
        (status = 200, body = Ceremony, description = "Answer within 5 minutes at `POST /api/v1/auth/passkey` or `POST /api/v1/auth/second-factor/passkey`"),
        (status = 404, body = ErrorBody, description = "passkeys_unavailable: the server's public_url is not configured"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn passkey_challenge(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
) -> ApiResult<Json<Ceremony>> {
    state.limiter.check(ip).await?;
    Ok(Json(passkeys::start_assertion(&state).await?))
}

/// Sign in with a passkey, no password: its user verification counts as the second factor.
#[utoipa::path(post, path = "/api/v1/auth/passkey", tag = "auth", request_body = Assertion,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; the session cookie is set too"),
        (status = 400, body = ErrorBody, description = "credential_invalid"),
        (status = 403, body = ErrorBody, description = "passkey_refused (an unknown or removed passkey, another user's, or an answer that did not verify), passkey_cloned (the counter went backwards: the passkey is blocked), challenge_invalid, account_pending, account_suspended, account_retired"),
        (status = 404, body = ErrorBody, description = "passkeys_unavailable: the server's public_url is not configured"),
        (status = 423, body = ErrorBody, description = "account_locked"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn passkey_sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<Assertion>,
) -> ApiResult<Response> {
    state.limiter.check(ip).await?;
    let signed_in = passkeys::sign_in(&state, req.challenge_id, req.credential).await?;
    Ok(signed_in_response(&state, signed_in))
}

/// Pass this session's second factor with one of my passkeys.
#[utoipa::path(post, path = "/api/v1/auth/second-factor/passkey", tag = "auth", request_body = Assertion, security(("bearer" = [])),
    responses(
        (status = 204, description = "Passed: the session may be used"),
        (status = 400, body = ErrorBody, description = "credential_invalid"),
        (status = 403, body = ErrorBody, description = "passkey_refused, passkey_cloned (both counted towards the lockout), challenge_invalid"),
        (status = 404, body = ErrorBody, description = "passkeys_unavailable: the server's public_url is not configured"),
        (status = 423, body = ErrorBody, description = "account_locked: too many refused attempts; every session ended"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn passkey_second_factor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AnySession(authed): AnySession,
    ApiJson(req): ApiJson<Assertion>,
) -> ApiResult<StatusCode> {
    state.limiter.check(ip).await?;
    passkeys::pass_second_factor(&state, &authed, req.challenge_id, req.credential).await?;
    Ok(StatusCode::NO_CONTENT)
}
