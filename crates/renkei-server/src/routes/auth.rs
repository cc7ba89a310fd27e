//! Sign-in, sign-out and passcode unlock (the second factor is in `second_factor`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::sign_in::login_key;
use renkei_core::user::{User, UserStatus};
use renkei_store::{SessionRecord, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::backoff;
use crate::auth::session::{
    AnySession, CSRF_COOKIE, SESSION_COOKIE, second_factor_gate, second_factor_needed,
};
use crate::auth::token::{random_token, token_hash};
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::ApiJson;

/// Longest password or passcode even looked at; longer ones are wrong without hashing.
const MAX_SECRET_BYTES: usize = 1024;

/// The address a request came from.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(ip))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    login: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …` (also set as an HttpOnly cookie).
    token: String,
    /// Echo in `X-CSRF-Token` on cookie-authenticated writes.
    csrf_token: String,
    user: User,
    /// True when the user has a passcode: unlock before any data is served.
    locked: bool,
    /// Set when a second factor is needed before anything else: `verify` (enter the code of
    /// the authenticator app or a recovery code at `POST /api/v1/auth/second-factor`) or
    /// `enroll` (set one up at `POST /api/v1/me/second-factor/enrollment`).
    second_factor: Option<SecondFactorStep>,
}

/// What a session still owes at sign-in.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorStep {
    Verify,
    Enroll,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    passcode: String,
}

pub(crate) fn rate_limited(state: &AppState, ip: IpAddr) -> ApiResult<()> {
    state.limiter.check(ip).map_err(|wait| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many sign-in attempts from this address; wait a minute",
        )
        .retry_after(wait)
    })
}

fn account_locked(until: Timestamp) -> ApiError {
    let wait = (until.millis() - Timestamp::now().millis()) / 1000 + 1;
    ApiError::new(
        StatusCode::LOCKED,
        "account_locked",
        format!("too many wrong attempts; this account is locked for {wait} more seconds"),
    )
    .retry_after(wait)
}

/// Counts a wrong passcode or second-factor code (both need a signed-in session, so a
/// stranger cannot cause it); the last allowed locks the account and ends its sessions.
pub(crate) async fn count_failure(
    state: &AppState,
    user: &User,
    action: &'static str,
    wrong: ApiError,
) -> ApiError {
    let settings = &state.settings;
    let until = Timestamp::now().plus_secs(settings.login_lockout_seconds);
    let event = AuditEvent::new(
        action,
        Some(user.org_id),
        Some(user.id),
        "user",
        Some(user.id),
    );
    match state
        .store
        .record_failed_attempt(user.id, settings.login_max_failures, until, &event)
        .await
    {
        Ok(creds) if creds.locked_until == Some(until) => {
            let locked = AuditEvent::new(
                "auth.account_locked",
                Some(user.org_id),
                None,
                "user",
                Some(user.id),
            )
            .with_details(json!({"seconds": settings.login_lockout_seconds}));
            if let Err(e) = state.store.append_audit(&locked).await {
                return ApiError::from_store(e, "user_not_found");
            }
            state.messaging.user_ended(user.id);
            account_locked(until)
        }
        Ok(_) => wrong,
        Err(e) => ApiError::from_store(e, "user_not_found"),
    }
}

fn cookie_header(
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
    secure: bool,
) -> Option<HeaderValue> {
    let mut cookie = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={max_age}");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).ok()
}

fn with_cookies(mut response: Response, cookies: [Option<HeaderValue>; 2]) -> Response {
    for cookie in cookies.into_iter().flatten() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Sign in with login and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; the session cookie is set too. When `second_factor` is set, the session serves nothing but that step (403 second_factor_required elsewhere)"),
        (status = 401, body = ErrorBody, description = "invalid_credentials, with `attempts_left` before sign-in slows down and, once it does, `retry_after` (the same for unknown logins)"),
        (status = 403, body = ErrorBody, description = "account_pending, account_suspended, account_retired"),
        (status = 423, body = ErrorBody, description = "account_locked: the right password, but wrong passcodes or codes locked the account"),
        (status = 429, body = ErrorBody, description = "rate_limited (this address), or sign_in_delayed (this login: `retry_after` seconds); no password is checked"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    rate_limited(&state, ip)?;
    let key = login_key(&req.login);
    backoff::check(&state, &key).await?;
    let store = &state.store;
    let user = match store.user_by_login(&req.login).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => {
            state.hasher.waste_verification().await;
            return Err(backoff::record_failure(&state, &key, None).await.into());
        }
        Err(e) => return Err(ApiError::from_store(e, "user_not_found")),
    };
    let creds = store.credentials(user.id).await.or_api("user_not_found")?;
    let matches = req.password.len() <= MAX_SECRET_BYTES
        && state
            .hasher
            .verify(&req.password, &creds.password_hash)
            .await?;
    if !matches {
        return Err(backoff::record_failure(&state, &key, Some(&user))
            .await
            .into());
    }
    store
        .clear_sign_in_failures(&key)
        .await
        .or_api("user_not_found")?;
    // Wrong passcodes or codes lock the account; only the right password learns that.
    if let Some(until) = creds.locked_until.filter(|u| *u > Timestamp::now()) {
        return Err(account_locked(until));
    }
    let refusal = match user.status {
        UserStatus::Active => None,
        UserStatus::Pending => Some((
            "account_pending",
            "this account awaits an administrator's approval",
        )),
        UserStatus::Suspended => Some((
            "account_suspended",
            "this account is suspended; ask your administrator",
        )),
        UserStatus::Retired => Some(("account_retired", "this account has been retired")),
    };
    if let Some((code, message)) = refusal {
        return Err(ApiError::new(StatusCode::FORBIDDEN, code, message));
    }
    let org = store.org(user.org_id).await.or_api("user_not_found")?;
    let second_factor = match (
        second_factor_needed(&user, &org, creds.second_factor_enrolled),
        creds.second_factor_enrolled,
    ) {
        (false, _) => None,
        (true, true) => Some(SecondFactorStep::Verify),
        (true, false) => Some(SecondFactorStep::Enroll),
    };
    // With a second factor to come, only that success clears the count: otherwise signing
    // in again would give whoever knows the password endless guesses at the code.
    if second_factor.is_none() {
        store
            .clear_failed_attempts(user.id)
            .await
            .or_api("user_not_found")?;
    }
    let now = Timestamp::now();
    let token = random_token();
    let ttl_secs = state.settings.session_ttl_hours * 3600;
    let session = SessionRecord {
        id: renkei_core::new_id(),
        user_id: user.id,
        token_hash: token_hash(&token),
        csrf_token: random_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now.plus_secs(ttl_secs),
        locked: creds.passcode_hash.is_some(),
        second_factor_done: false,
    };
    store
        .insert_session(&session)
        .await
        .or_api("user_not_found")?;
    let event = AuditEvent::new(
        "auth.login",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(session.id),
    );
    store.append_audit(&event).await.or_api("user_not_found")?;
    let secure = state.settings.secure_cookies;
    let cookies = [
        cookie_header(SESSION_COOKIE, &token, ttl_secs, true, secure),
        cookie_header(CSRF_COOKIE, &session.csrf_token, ttl_secs, false, secure),
    ];
    let body = LoginResponse {
        token,
        csrf_token: session.csrf_token,
        user,
        locked: session.locked,
        second_factor,
    };
    Ok(with_cookies(Json(body).into_response(), cookies))
}

/// End this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out; cookies cleared")))]
pub async fn logout(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Response> {
    state
        .store
        .delete_session(authed.session.id)
        .await
        .or_api("session")?;
    let event = AuditEvent::new(
        "auth.logout",
        Some(authed.user.org_id),
        Some(authed.user.id),
        "session",
        Some(authed.session.id),
    );
    state.store.append_audit(&event).await.or_api("session")?;
    let secure = state.settings.secure_cookies;
    let cookies = [
        cookie_header(SESSION_COOKIE, "", 0, true, secure),
        cookie_header(CSRF_COOKIE, "", 0, false, secure),
    ];
    Ok(with_cookies(
        StatusCode::NO_CONTENT.into_response(),
        cookies,
    ))
}

/// Unlock a passcode-locked session.
#[utoipa::path(post, path = "/api/v1/auth/unlock", tag = "auth", request_body = UnlockRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Unlocked"),
        (status = 403, body = ErrorBody, description = "wrong_passcode, second_factor_required"),
        (status = 409, body = ErrorBody, description = "no_passcode: none is set"),
        (status = 423, body = ErrorBody, description = "account_locked: too many wrong passcodes; every session ended"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AnySession(authed): AnySession,
    ApiJson(req): ApiJson<UnlockRequest>,
) -> ApiResult<StatusCode> {
    rate_limited(&state, ip)?;
    second_factor_gate(&authed)?;
    let user = &authed.user;
    let creds = state
        .store
        .credentials(user.id)
        .await
        .or_api("user_not_found")?;
    let Some(passcode_hash) = creds.passcode_hash else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_passcode",
            "no passcode is set for this account",
        ));
    };
    let matches = req.passcode.len() <= MAX_SECRET_BYTES
        && state.hasher.verify(&req.passcode, &passcode_hash).await?;
    if !matches {
        let wrong = ApiError::new(StatusCode::FORBIDDEN, "wrong_passcode", "wrong passcode");
        return Err(count_failure(&state, user, "auth.unlock_failed", wrong).await);
    }
    state
        .store
        .clear_failed_attempts(user.id)
        .await
        .or_api("user_not_found")?;
    state
        .store
        .touch_session(authed.session.id, Timestamp::now(), false)
        .await
        .or_api("session")?;
    let event = AuditEvent::new(
        "auth.unlock",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(authed.session.id),
    );
    state.store.append_audit(&event).await.or_api("session")?;
    Ok(StatusCode::NO_CONTENT)
}
