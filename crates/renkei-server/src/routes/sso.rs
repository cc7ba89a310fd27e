//! Single sign-on: the sign-in page's choices, the redirect to the hospital's provider and the
//! callback back from it, back-channel logout, and the organization's settings (its
//! administrators).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::Uuid;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{ClientIp, session_cookies};
use crate::AppState;
use crate::auth::session::{Member, cookie};
use crate::auth::sso::config::{self, CALLBACK_PATH, SsoConfigInput, SsoConfigView};
use crate::auth::sso::{flow, logout};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, IdPath};

/// The cookie binding a sign-in under way to the browser that started it.
const FLOW_COOKIE: &str = "renkei_sso";
/// Where the cookie is sent: the callback only needs it.
const FLOW_COOKIE_PATH: &str = "/api/v1/auth/sso";

#[derive(Serialize, ToSchema)]
pub struct SsoChoice {
    id: Uuid,
    name: String,
    /// Open this in the browser to sign in (a redirect to the provider).
    start_path: String,
}

#[derive(Serialize, ToSchema)]
pub struct SsoChoices {
    /// Organizations whose people sign in with their hospital's account.
    organizations: Vec<SsoChoice>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    /// Set by the provider when it refused or the person cancelled.
    error: Option<String>,
    /// The provider's issuer (RFC 9207); checked through the ID token instead.
    #[allow(dead_code)]
    iss: Option<String>,
}

fn flow_cookie(value: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let mut cookie = format!(
        "{FLOW_COOKIE}={value}; Path={FLOW_COOKIE_PATH}; SameSite=Lax; HttpOnly; Max-Age={max_age}"
    );
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).ok()
}

fn see_other(location: &str, cookies: impl IntoIterator<Item = Option<HeaderValue>>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    for cookie in cookies.into_iter().flatten() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// renkei's callback address: the configured public address, or this request's host.
fn callback_url(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(base) = &state.settings.public_url {
        return Ok(format!("{}{CALLBACK_PATH}", base.trim_end_matches('/')));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        .ok_or_else(|| ApiError::bad_request("invalid_host", "the request names no host"))?;
    let scheme = if state.settings.cookies_secure() {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}{CALLBACK_PATH}"))
}

/// Organizations whose people sign in with their hospital's identity provider.
#[utoipa::path(get, path = "/api/v1/auth/sso", tag = "auth",
    responses((status = 200, body = SsoChoices)))]
pub async fn choices(State(state): State<AppState>) -> ApiResult<Json<SsoChoices>> {
    let organizations = config::sign_in_choices(&state)
        .await?
        .into_iter()
        .map(|(id, name)| SsoChoice {
            id,
            name,
            start_path: format!("/api/v1/auth/sso/{id}/start"),
        })
        .collect();
    Ok(Json(SsoChoices { organizations }))
}

/// Start signing in with the organization's identity provider: a redirect there (with state,
/// nonce and PKCE), and a cookie binding the sign-in to this browser for 10 minutes.
#[utoipa::path(get, path = "/api/v1/auth/sso/{id}/start", tag = "auth",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 303, description = "To the provider's sign-in page"),
        (status = 404, body = ErrorBody, description = "sso_not_configured"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
        (status = 503, body = ErrorBody, description = "sso_provider_unavailable"),
    ))]
pub async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.limiter.check(ip).await?;
    let redirect_uri = callback_url(&state, &headers)?;
    let started = flow::start(&state, id, &redirect_uri).await?;
    let secure = state.settings.cookies_secure();
    Ok(see_other(
        &started.url,
        [flow_cookie(&started.browser_token, 600, secure)],
    ))
}

/// Where the identity provider sends people back. Signed in: a redirect to `/` with the
/// session cookies. Refused: a redirect to `/?sso_error=CODE` (`sso_state_invalid`,
/// `sso_wrong_issuer`, `sso_token_expired`, `sso_nonce_mismatch`, `sso_nonce_replayed`,
/// `sso_token_invalid`, `sso_code_refused`, `sso_unknown_user`, `sso_unverified_match`,
/// `sso_login_taken`, `sso_no_login`, `sso_application_pending`, `account_pending`,
/// `account_suspended`, `account_retired`, `account_locked`, `sso_provider_unavailable`,
/// `sso_cancelled`).
#[utoipa::path(get, path = "/api/v1/auth/sso/callback", tag = "auth", params(CallbackQuery),
    responses(
        (status = 303, description = "To the app, signed in or with `sso_error`"),
        (status = 429, body = ErrorBody, description = "rate_limited: too many sign-in attempts from this address"),
    ))]
pub async fn callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(query): ApiQuery<CallbackQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.limiter.check(ip).await?;
    let secure = state.settings.cookies_secure();
    let clear_flow = flow_cookie("", 0, secure);
    let (Some(flow_state), Some(code), None) = (query.state, query.code, query.error) else {
        return Ok(see_other("/?sso_error=sso_cancelled", [clear_flow]));
    };
    let browser = cookie(&headers, FLOW_COOKIE);
    match flow::finish(&state, &flow_state, &code, browser.as_deref()).await {
        Ok(signed_in) => {
            let [session, csrf] = session_cookies(&state, &signed_in.token, &signed_in.session);
            Ok(see_other("/", [clear_flow, session, csrf]))
        }
        Err(refusal) => {
            let location = format!("/?sso_error={}", refusal.code());
            Ok(see_other(&location, [clear_flow]))
        }
    }
}

/// OpenID Connect Back-Channel Logout: the provider posts `logout_token`
/// (`application/x-www-form-urlencoded`); the sessions it names end, with their sockets.
#[utoipa::path(post, path = "/api/v1/auth/sso/{id}/backchannel-logout", tag = "auth",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "logout_token=<JWT>"),
    responses(
        (status = 200, description = "The sessions named have ended"),
        (status = 400, body = ErrorBody, description = "invalid_logout_token"),
        (status = 503, body = ErrorBody, description = "sso_provider_unavailable"),
    ))]
pub async fn back_channel_logout(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let token = logout::logout_token_of(&body)?;
    logout::back_channel(&state, id, &token).await?;
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The organization's single sign-on settings (its administrators); never the secret.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/sso", tag = "organizations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = SsoConfigView),
        (status = 404, body = ErrorBody, description = "sso_not_configured"),
    ))]
pub async fn get_sso(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<SsoConfigView>> {
    config::get(&state, &me.user, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "sso_not_configured", "no provider"))
}

/// Set the organization's identity provider (its administrators). The client secret is sealed
/// with the master key and never shown again; leave it out to keep the stored one. Give the
/// `version` read when editing.
#[utoipa::path(put, path = "/api/v1/orgs/{id}/sso", tag = "organizations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = SsoConfigInput,
    responses(
        (status = 200, body = SsoConfigView),
        (status = 409, body = ErrorBody, description = "version_conflict, with `current`"),
        (status = 422, body = ErrorBody, description = "invalid_issuer, invalid_client_id, invalid_claim_name, client_secret_required, invalid_client_secret, invalid_break_glass"),
    ))]
pub async fn put_sso(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<SsoConfigInput>,
) -> ApiResult<Json<SsoConfigView>> {
    Ok(Json(config::put(&state, &me.user, id, input).await?))
}

/// Stop signing in with the identity provider (its administrators): passwords work again.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/sso", tag = "organizations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = ErrorBody, description = "sso_not_configured"),
    ))]
pub async fn delete_sso(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    config::delete(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
