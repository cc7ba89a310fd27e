//! Conversations and their members over HTTP: create (1:1 or group, also on behalf of
//! others), list with unread counts, rename, add, remove and promote members. The rules are
//! `renkei_service::conversations`'.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::conversation::{Member, MemberRole};
use renkei_service::conversations as service;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, IdPath};

/// `me`'s membership of a conversation; 404 for everyone else.
pub use renkei_service::conversations::{ConversationChange, ConversationView, NewConversation};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    user_id: Uuid,
    #[serde(default)]
    role: Option<MemberRole>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: MemberRole,
}

/// My conversations, most recently active first, with unread counts and last messages.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = [ConversationView])))]
pub async fn list_conversations(
    State(state): State<AppState>,
    Signed(me): Signed,
) -> ApiResult<Json<Vec<ConversationView>>> {
    Ok(Json(service::list(&state, &me.user).await?))
}

/// Start a direct conversation (returns the existing one with that person) or a group.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", request_body = NewConversation, security(("bearer" = [])),
    responses((status = 201, body = ConversationView), (status = 200, body = ConversationView, description = "the existing direct conversation"),
        (status = 403, body = ErrorBody, description = "no_cooperation_agreement, or include_me=false without being an organization admin"),
        (status = 404, body = ErrorBody, description = "user_not_found: a member named is not a user this session may see"),
        (status = 422, body = ErrorBody, description = "invalid members or title")))]
pub async fn create_conversation(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiJson(req): ApiJson<NewConversation>,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    let created = service::create(&state, &me.user, req).await?;
    let status = if created.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(created.view)))
}

/// One conversation (members only).
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(service::get(&state, &me.user, id).await?))
}

/// Rename a group or shorten how long its media are kept (its admins).
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations", request_body = ConversationChange, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConversationView), (status = 422, body = ErrorBody, description = "invalid_retention")))]
pub async fn rename_conversation(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<ConversationChange>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(service::change(&state, &me.user, id, req).await?))
}

/// The members (members, and admins of the owning organization).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/members", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [Member])))]
pub async fn list_members(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(service::list_members(&state, &me.user, id).await?))
}

/// Add a member (group admins, organization admins).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/members", tag = "conversations", request_body = NewMember, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = [Member]), (status = 409, body = ErrorBody, description = "already_member")))]
pub async fn add_member(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<NewMember>,
) -> ApiResult<(StatusCode, Json<Vec<Member>>)> {
    let members = service::add_member(&state, &me.user, id, req.user_id, req.role).await?;
    Ok((StatusCode::CREATED, Json(members)))
}

/// Remove a member (group admins, organization admins; anyone may leave). Their live
/// connections stop receiving the conversation at once.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/members/{user_id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("user_id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    service::remove_member(&state, &me.user, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make a member a group admin, or an ordinary member.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/members/{user_id}", tag = "conversations", request_body = RoleChange, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("user_id" = uuid::Uuid, Path)), responses((status = 200, body = [Member])))]
pub async fn set_member_role(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<RoleChange>,
) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(
        service::set_member_role(&state, &me.user, id, user_id, req.role).await?,
    ))
}
