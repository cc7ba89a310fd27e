//! Who is calling: the session behind a bearer token or cookie, and the gates a request passes.
//!
//! Three extractors, from least to most demanding: [`AnySession`] (signed in, maybe locked or
//! still owing a second factor), [`Unlocked`] (second factor passed where one is needed, not
//! passcode-locked), [`Member`] (unlocked, one-time password replaced, passcode set where
//! policy requires). Data endpoints take `Member`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use renkei_core::clock::Timestamp;
use renkei_core::lock::idle_locked;
use renkei_core::org::Organization;
use renkei_core::user::User;
use renkei_store::{SessionRecord, StoreError};

use crate::AppState;
use crate::auth::token::{constant_time_eq, token_hash};
use crate::error::{ApiError, OrApi};

/// Name of the HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "renkei_session";
/// Name of the script-readable cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "renkei_csrf";
/// Header that cookie-authenticated writes must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
const TOUCH_EVERY_MS: i64 = 15_000;

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Authed {
    pub session: SessionRecord,
    pub user: User,
    pub org: Organization,
    pub has_passcode: bool,
    /// Passcode-locked: no data until `POST /auth/unlock`.
    pub locked: bool,
    /// The user has a confirmed authenticator.
    pub second_factor_enrolled: bool,
    /// A second factor is needed (user, organization or own enrollment) and this session has
    /// not passed it yet: nothing but enrolling or entering a code until then.
    pub second_factor_pending: bool,
}

impl Authed {
    /// Whether this user must pass a second factor at sign-in.
    pub fn second_factor_needed(&self) -> bool {
        second_factor_needed(&self.user, &self.org, self.second_factor_enrolled)
    }
}

/// Whether `user` must pass a second factor: their own flag, their organization's policy, or
/// an authenticator they enrolled themselves.
pub fn second_factor_needed(user: &User, org: &Organization, enrolled: bool) -> bool {
    user.second_factor_required || org.policy.second_factor_required || enrolled
}

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

/// The session behind `token`, with its lock state now. `active` records this as user
/// activity (which keeps the idle lock away); a background check passes `false`.
pub async fn session_for_token(
    state: &AppState,
    token: &str,
    active: bool,
) -> Result<Authed, ApiError> {
    let store = &state.store;
    let session = match store.session_by_token_hash(&token_hash(token)).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::unauthenticated(
                "unauthenticated",
                "this session has ended; sign in again",
            ));
        }
        other => other.or_api("unauthenticated")?,
    };
    let now = Timestamp::now();
    if session.expires_at < now {
        store.delete_session(session.id).await.or_api("session")?;
        return Err(ApiError::unauthenticated(
            "session_expired",
            "this session has expired; sign in again",
        ));
    }
    let user = store
        .user(session.user_id)
        .await
        .or_api("unauthenticated")?;
    if !user.status.may_sign_in() {
        return Err(ApiError::unauthenticated(
            "unauthenticated",
            "this account cannot sign in",
        ));
    }
    let org = store.org(user.org_id).await.or_api("unauthenticated")?;
    let creds = store.credentials(user.id).await.or_api("unauthenticated")?;
    let has_passcode = creds.passcode_hash.is_some();
    let second_factor_pending = !session.second_factor_done
        && second_factor_needed(&user, &org, creds.second_factor_enrolled);
    let locked = session.locked
        || idle_locked(
            session.last_seen_at,
            now,
            org.policy.idle_lock_minutes,
            has_passcode,
        );
    let stale = now.millis() - session.last_seen_at.millis() >= TOUCH_EVERY_MS;
    if locked != session.locked || (active && !locked && stale) {
        let seen = if locked || !active {
            session.last_seen_at
        } else {
            now
        };
        store
            .touch_session(session.id, seen, locked)
            .await
            .or_api("session")?;
    }
    Ok(Authed {
        session,
        user,
        org,
        has_passcode,
        locked,
        second_factor_enrolled: creds.second_factor_enrolled,
        second_factor_pending,
    })
}

/// Refuses a session that may not see data: second factor owed, locked, one-time password
/// pending, or no passcode where the organization requires one.
pub fn member_gate(authed: &Authed) -> Result<(), ApiError> {
    unlocked_gate(authed)?;
    if authed.user.must_change_password {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "replace your one-time password first (PUT /api/v1/me/password)",
        ));
    }
    if authed.org.policy.passcode_required && !authed.has_passcode {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "passcode_required",
            "your organization requires a device passcode (PUT /api/v1/me/passcode)",
        ));
    }
    Ok(())
}

/// Refuses a session that owes its second factor or is passcode-locked.
pub fn unlocked_gate(authed: &Authed) -> Result<(), ApiError> {
    second_factor_gate(authed)?;
    if authed.locked {
        return Err(session_locked());
    }
    Ok(())
}

/// Refuses a session that owes its second factor.
pub fn second_factor_gate(authed: &Authed) -> Result<(), ApiError> {
    if authed.second_factor_pending {
        let message = if authed.second_factor_enrolled {
            "enter the code of your authenticator app first (POST /api/v1/auth/second-factor)"
        } else {
            "set up an authenticator app first (POST /api/v1/me/second-factor/enrollment)"
        };
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "second_factor_required",
            message,
        ));
    }
    Ok(())
}

fn session_locked() -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        "session_locked",
        "this session is locked; enter your passcode",
    )
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
