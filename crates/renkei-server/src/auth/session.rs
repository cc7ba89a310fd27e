//! Who is calling: the session behind a bearer token or cookie, and the gates a request passes.
//!
//! Three extractors, from least to most demanding: [`AnySession`] (signed in, maybe locked or
//! still owing a second factor), [`Unlocked`] (second factor passed where one is needed, not
//! passcode-locked), [`Member`] (unlocked, one-time password replaced, passcode set where
//! policy requires). Data endpoints take `Member`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};

use crate::AppState;
use crate::auth::token::constant_time_eq;
use crate::error::ApiError;

pub use renkei_service::auth::session::*;

/// Name of the HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "renkei_session";
/// Name of the script-readable cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "renkei_csrf";
/// Header that cookie-authenticated writes must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Any valid session, locked or not.
pub struct AnySession(pub Authed);
/// A session that is not passcode-locked.
pub struct Unlocked(pub Authed);
/// A session allowed to see data.
pub struct Member(pub Authed);

pub fn bearer_or_cookie(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))?;
        return Some((token.trim().to_owned(), false));
    }
    cookie(headers, SESSION_COOKIE).map(|t| (t, true))
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authed, ApiError> {
    let (token, via_cookie) = bearer_or_cookie(&parts.headers)
        .ok_or_else(|| ApiError::unauthenticated("unauthenticated", "sign in first"))?;
    let authed = session_for_token(state, &token, true).await?;
    if via_cookie && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent, &authed.session.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "a cookie-authenticated change must carry the X-CSRF-Token header",
            ));
        }
    }
    Ok(authed)
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await.map(AnySession)
    }
}

impl FromRequestParts<AppState> for Unlocked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authed = authenticate(parts, state).await?;
        unlocked_gate(&authed)?;
        Ok(Unlocked(authed))
    }
}

impl FromRequestParts<AppState> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authed = authenticate(parts, state).await?;
        member_gate(&authed)?;
        Ok(Member(authed))
    }
}
