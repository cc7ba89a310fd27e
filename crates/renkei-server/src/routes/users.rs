//! Users: list, create, read, and edit every field (with versions, never a silent overwrite).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::user::{NewUser, User, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::accounts::user_admin::{self, UserList, UserView};
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, IdPath, IfMatch, expected_version};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Rows to skip (default 0).
    offset: Option<i64>,
    /// Rows to return, 1–500 (default 100).
    limit: Option<i64>,
}

fn with_etag(user: User) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", user.version)).ok();
    let mut response = Json(user).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// An organization's users, by name: every user with roles and security state for its
/// administrators; active users as directory entries for its members.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/users", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), Page), responses((status = 200, body = UserList)))]
pub async fn list_users(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<UserList>> {
    let (offset, limit) = (page.offset.unwrap_or(0), page.limit.unwrap_or(100));
    Ok(Json(
        user_admin::list(&state, &me.user, id, offset, limit).await?,
    ))
}

/// Create a user (the organization's administrators); the password given is one-time.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/users", tag = "users", request_body = NewUser, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = User), (status = 409, body = ErrorBody, description = "login_taken"),
        (status = 422, body = ErrorBody, description = "a field is invalid; the code names the rule")))]
pub async fn create_user(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = user_admin::create(&state, &me.user, id, input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user; the `ETag` is the version to send back in `If-Match` when editing. A member
/// who does not administer the user's organization gets the directory entry only.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = User, description = "the full record (administrators) or a `Colleague`"), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    Ok(match user_admin::view(&state, &me.user, id).await? {
        UserView::Full(user) => with_etag(user),
        UserView::Directory(colleague) => Json(colleague).into_response(),
    })
}

/// Edit any field of a user, including status (suspend, retire: their sessions end at once).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = User),
        (status = 409, body = ErrorBody, description = "version_conflict with `current`, or login_taken"),
        (status = 422, body = ErrorBody, description = "a field is invalid, or invalid_status_transition"),
        (status = 428, body = ErrorBody, description = "version_required")))]
pub async fn update_user(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Response> {
    let version = expected_version(if_match, patch.version)?;
    let saved = user_admin::update(&state, &me.user, id, &patch, version).await?;
    Ok(with_etag(saved))
}

#[derive(Serialize, ToSchema)]
pub struct PasswordReset {
    /// Shown once: the user signs in with it and must choose their own password.
    one_time_password: String,
}

/// Reset a user's password to a one-time password (returned once); their sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PasswordReset), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<PasswordReset>> {
    let one_time_password = user_admin::reset_password(&state, &me.user, id).await?;
    Ok(Json(PasswordReset { one_time_password }))
}

/// Clear a user's device passcode (they set a new one at next sign-in); their sessions end.
#[utoipa::path(delete, path = "/api/v1/users/{id}/passcode", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn reset_passcode(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    user_admin::reset_passcode(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset a user's second factor: their authenticator and recovery codes are forgotten (they
/// set up a new one at next sign-in where one is required); their sessions end.
#[utoipa::path(delete, path = "/api/v1/users/{id}/second-factor", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    user_admin::reset_second_factor(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
