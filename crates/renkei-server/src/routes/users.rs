//! Users: list, create, read, and edit every field (with versions, never a silent overwrite).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::access::{can_administer, may_change_user};
use renkei_core::user::{NewUser, Profession, Role, User, UserPatch, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::orgs::{administered_org, readable_org};
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::{ApiJson, ApiQuery, IdPath, IfMatch, expected_version};
use crate::{AppState, accounts};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Rows to skip (default 0).
    offset: Option<i64>,
    /// Rows to return, 1–500 (default 100).
    limit: Option<i64>,
}

/// Only a server administrator changes a server administrator or makes one: the roles
/// before and after the change are both looked at.
pub(crate) fn check_user_change(actor: &User, before: &[Role], after: &[Role]) -> ApiResult<()> {
    if !may_change_user(actor, before, after) {
        return Err(ApiError::forbidden(
            "only server administrators change a server administrator or make one",
        ));
    }
    Ok(())
}

fn with_etag(user: User) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", user.version)).ok();
    let mut response = Json(user).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// The user `id` if `actor` administers their organization (404 when not visible).
pub(crate) async fn administered_user(
    state: &AppState,
    actor: &User,
    id: renkei_core::Uuid,
) -> ApiResult<User> {
    let user = state.store.user(id).await.or_api("user_not_found")?;
    administered_org(state, actor, user.org_id)
        .await
        .map_err(|e| {
            if e.status == StatusCode::NOT_FOUND {
                ApiError::not_found("user_not_found")
            } else {
                e
            }
        })?;
    Ok(user)
}

/// What a member sees of a colleague: a directory entry, without login, roles or security
/// state.
#[derive(Serialize, ToSchema)]
pub struct Colleague {
    id: renkei_core::Uuid,
    org_id: renkei_core::Uuid,
    display_name: String,
    kana: String,
    romaji: String,
    profession: Profession,
    department_id: Option<renkei_core::Uuid>,
    status: UserStatus,
}

impl From<User> for Colleague {
    fn from(u: User) -> Self {
        Colleague {
            id: u.id,
            org_id: u.org_id,
            display_name: u.display_name,
            kana: u.kana,
            romaji: u.romaji,
            profession: u.profession,
            department_id: u.department_id,
            status: u.status,
        }
    }
}

/// The full records for the organization's administrators; the directory for its members.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum UserList {
    Full(Vec<User>),
    Directory(Vec<Colleague>),
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
    let org = readable_org(&state, &me.user, id).await?;
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let offset = page.offset.unwrap_or(0).max(0);
    let store = &state.store;
    let list = if can_administer(&me.user, org.id) {
        UserList::Full(
            store
                .list_users(org.id, offset, limit)
                .await
                .or_api("organization_not_found")?,
        )
    } else {
        let active = store
            .list_active_users(org.id, offset, limit)
            .await
            .or_api("organization_not_found")?;
        UserList::Directory(active.into_iter().map(Colleague::from).collect())
    };
    Ok(Json(list))
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
    let org = administered_org(&state, &me.user, id).await?;
    check_user_change(&me.user, &[], &input.roles)?;
    let user =
        accounts::create_user(&state.store, &state.hasher, Some(me.user.id), &org, input).await?;
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
    let user = state.store.user(id).await.or_api("user_not_found")?;
    readable_org(&state, &me.user, user.org_id)
        .await
        .map_err(|_| ApiError::not_found("user_not_found"))?;
    if !can_administer(&me.user, user.org_id) && me.user.id != user.id {
        if user.status != UserStatus::Active {
            return Err(ApiError::not_found("user_not_found"));
        }
        return Ok(Json(Colleague::from(user)).into_response());
    }
    Ok(with_etag(user))
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
    let user = administered_user(&state, &me.user, id).await?;
    let roles_after = patch.roles.as_deref().unwrap_or(&user.roles);
    check_user_change(&me.user, &user.roles, roles_after)?;
    let version = expected_version(if_match, patch.version)?;
    let saved =
        accounts::update_user(&state.store, Some(me.user.id), &user, &patch, version).await?;
    if !saved.status.may_sign_in() {
        state.messaging.user_ended(saved.id);
    }
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
    let user = administered_user(&state, &me.user, id).await?;
    check_user_change(&me.user, &user.roles, &user.roles)?;
    let one_time_password =
        accounts::reset_password(&state.store, &state.hasher, Some(me.user.id), &user).await?;
    state.messaging.user_ended(user.id);
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
    let user = administered_user(&state, &me.user, id).await?;
    check_user_change(&me.user, &user.roles, &user.roles)?;
    accounts::reset_passcode(&state.store, Some(me.user.id), &user).await?;
    state.messaging.user_ended(user.id);
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
    let user = administered_user(&state, &me.user, id).await?;
    check_user_change(&me.user, &user.roles, &user.roles)?;
    crate::auth::second_factor::reset(&state.store, Some(me.user.id), &user).await?;
    state.messaging.user_ended(user.id);
    Ok(StatusCode::NO_CONTENT)
}
