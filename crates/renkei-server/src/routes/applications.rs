//! Applications: the invite link (administrators), the public sign-up it leads to, and the
//! queue of pending applicants to approve or reject.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::clock::Timestamp;
use renkei_core::org::Department;
use renkei_core::user::{Applicant, Profession, User, UserStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ClientIp;
use crate::AppState;
use crate::accounts::user_admin;
use crate::admin::applications::{self, InviteOptions};
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, IdPath};

#[derive(Serialize, ToSchema)]
pub struct InviteLink {
    /// None until an administrator creates one.
    token: Option<String>,
    /// The sign-up page's path, e.g. `/signup/<token>`.
    path: Option<String>,
    created_at: Option<Timestamp>,
    /// The link stops working at this time.
    expires_at: Option<Timestamp>,
    /// Set once an administrator revoked it.
    revoked_at: Option<Timestamp>,
    /// `none`, `active`, `expired` or `revoked`.
    status: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignUpForm {
    organization: String,
    departments: Vec<Department>,
    professions: Vec<Profession>,
}

#[derive(Serialize, ToSchema)]
pub struct Applied {
    /// Always `pending`: an administrator must approve before the account signs in.
    status: UserStatus,
}

fn link(invite: Option<renkei_store::Invite>) -> InviteLink {
    let status = match &invite {
        None => "none",
        Some(i) if i.revoked_at.is_some() => "revoked",
        Some(i) if Timestamp::now() >= i.expires_at => "expired",
        Some(_) => "active",
    };
    InviteLink {
        path: invite.as_ref().map(|i| format!("/signup/{}", i.token)),
        created_at: invite.as_ref().map(|i| i.created_at),
        expires_at: invite.as_ref().map(|i| i.expires_at),
        revoked_at: invite.as_ref().and_then(|i| i.revoked_at),
        token: invite.map(|i| i.token),
        status: status.to_owned(),
    }
}

/// The organization's invite link (its administrators).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/invite", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = InviteLink)))]
pub async fn get_invite(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<InviteLink>> {
    let invite = applications::invite(&state, &me.user, id).await?;
    Ok(Json(link(invite)))
}

/// Create the invite link, or replace it: the previous link stops working at once. It
/// works for `expires_in_days` (default 14, at most 90).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/invite", tag = "users", security(("bearer" = [])),
    request_body = InviteOptions, params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = InviteLink), (status = 400, body = ErrorBody, description = "invalid_invite_expiry")))]
pub async fn rotate_invite(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(options): ApiJson<InviteOptions>,
) -> ApiResult<(StatusCode, Json<InviteLink>)> {
    let invite = applications::rotate_invite(&state, &me.user, id, &options).await?;
    Ok((StatusCode::CREATED, Json(link(Some(invite)))))
}

/// Revoke the invite link: its sign-up page answers 410 `invite_revoked` (audited).
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/invite", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = InviteLink), (status = 404, body = ErrorBody, description = "invite_not_found")))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<InviteLink>> {
    let invite = applications::revoke_invite(&state, &me.user, id).await?;
    Ok(Json(link(Some(invite))))
}

/// What the sign-up page shows for an invite link (no sign-in; unknown links are 404).
#[utoipa::path(get, path = "/api/v1/signup/{token}", tag = "users",
    params(("token" = String, Path)),
    responses((status = 200, body = SignUpForm), (status = 404, body = ErrorBody, description = "invite_not_found"),
        (status = 410, body = ErrorBody, description = "invite_expired or invite_revoked"),
        (status = 429, body = ErrorBody)))]
pub async fn signup_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<SignUpForm>> {
    state.limiter.check(ip).await?;
    let (org, departments) = applications::sign_up_form(&state, &token).await?;
    Ok(Json(SignUpForm {
        organization: org.name,
        departments,
        professions: Profession::ALL.to_vec(),
    }))
}

/// Apply for an account through an invite link: it stays pending until approved.
/// Attempts count against the same per-address limit as sign-ins.
#[utoipa::path(post, path = "/api/v1/signup/{token}", tag = "users", request_body = Applicant,
    params(("token" = String, Path)),
    responses((status = 201, body = Applied), (status = 404, body = ErrorBody, description = "invite_not_found"),
        (status = 410, body = ErrorBody, description = "invite_expired or invite_revoked"),
        (status = 422, body = ErrorBody, description = "a field is invalid, or password_too_common / password_contains_login / password_contains_name (a taken login answers 201 like any application)"),
        (status = 429, body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(token): ApiPath<String>,
    ApiJson(input): ApiJson<Applicant>,
) -> ApiResult<(StatusCode, Json<Applied>)> {
    state.limiter.check(ip).await?;
    let status = applications::sign_up(&state, &token, input).await?;
    Ok((StatusCode::CREATED, Json(Applied { status })))
}

/// Pending applicants of an organization, oldest first.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/applications", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [User])))]
pub async fn list_applications(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(user_admin::applications(&state, &me.user, id).await?))
}

/// Approve a pending applicant: the account becomes active and may sign in.
#[utoipa::path(post, path = "/api/v1/users/{id}/approve", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = User), (status = 409, body = ErrorBody, description = "not_pending")))]
pub async fn approve(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<User>> {
    Ok(Json(
        user_admin::decide_application(&state, &me.user, id, true).await?,
    ))
}

/// Reject a pending applicant: the account is retired and never signs in.
#[utoipa::path(post, path = "/api/v1/users/{id}/reject", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = User), (status = 409, body = ErrorBody, description = "not_pending")))]
pub async fn reject(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<User>> {
    Ok(Json(
        user_admin::decide_application(&state, &me.user, id, false).await?,
    ))
}
