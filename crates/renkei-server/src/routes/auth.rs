//! Sign-in, sign-out and passcode unlock (the second factor is in `second_factor`, passkeys
//! in `passkeys`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::user::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::accounts::sign_in::{self, SecondFactorStep};
use crate::auth::session::{AnySession, CSRF_COOKIE, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// The address a request came from: the peer, or what a trusted proxy says the client is.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(ClientIp(state.proxies.client(peer, &forwarded)))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    passcode: String,
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

/// The session and CSRF cookies of a new session.
pub(super) fn session_cookies(
    state: &AppState,
    token: &str,
    session: &renkei_store::SessionRecord,
) -> [Option<HeaderValue>; 2] {
    let ttl_secs = state.settings.session_ttl_hours * 3600;
    let secure = state.settings.cookies_secure();
    [
        cookie_header(SESSION_COOKIE, token, ttl_secs, true, secure),
        cookie_header(CSRF_COOKIE, &session.csrf_token, ttl_secs, false, secure),
    ]
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
        (status = 403, body = ErrorBody, description = "account_pending, account_suspended, account_retired, sso_required (the organization signs in with its identity provider; only break-glass accounts use passwords)"),
        (status = 423, body = ErrorBody, description = "account_locked: the right password, but wrong passcodes or codes locked the account"),
        (status = 429, body = ErrorBody, description = "rate_limited (this address), or sign_in_delayed (this login: `retry_after` seconds); no password is checked"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    state.limiter.check(ip).await?;
    let signed_in = sign_in::login(&state, &req.login, &req.password).await?;
    Ok(signed_in_response(&state, signed_in))
}

/// A new session's answer: its token, CSRF token and user, and the cookies that carry them.
pub(super) fn signed_in_response(state: &AppState, signed_in: sign_in::SignedIn) -> Response {
    let (token, session) = (signed_in.token, signed_in.session);
    let cookies = session_cookies(state, &token, &session);
    let body = LoginResponse {
        token,
        csrf_token: session.csrf_token,
        user: signed_in.user,
        locked: session.locked,
        second_factor: signed_in.second_factor,
    };
    with_cookies(Json(body).into_response(), cookies)
}

/// End this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out; cookies cleared")))]
pub async fn logout(
    State(state): State<AppState>,
    AnySession(authed): AnySession,
) -> ApiResult<Response> {
    sign_in::logout(&state, &authed).await?;
    let secure = state.settings.cookies_secure();
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
    state.limiter.check(ip).await?;
    sign_in::unlock(&state, &authed, &req.passcode).await?;
    Ok(StatusCode::NO_CONTENT)
}
