//! Conversations and their members: create (1:1 or group, also on behalf of others), list
//! with unread counts, rename, add, remove and promote members.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::access::can_administer;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{
    Conversation, ConversationKind, MAX_MEMBERS, Member, MemberRole, Message, direct_key,
    validate_title,
};
use renkei_core::notify::NotifyLevel;
use renkei_core::user::User;
use renkei_store::{ListedConversation, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::cooperation::{announce_removals, require_messaging};
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::{ApiJson, IdPath};

/// A conversation as its member sees it.
#[derive(Serialize, ToSchema)]
pub struct ConversationView {
    #[serde(flatten)]
    conversation: Conversation,
    member_count: i64,
    /// Messages by others since my last read.
    unread: i64,
    my_role: Option<MemberRole>,
    last_read_seq: i64,
    last_message: Option<Message>,
    /// My own notification level here (`PUT …/notifications`).
    notify: NotifyLevel,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    kind: ConversationKind,
    /// Required for groups.
    #[serde(default)]
    title: Option<String>,
    /// The other members (for a direct conversation: exactly one).
    #[serde(default)]
    member_ids: Vec<Uuid>,
    /// Members who manage the group besides the creator.
    #[serde(default)]
    admin_ids: Vec<Uuid>,
    /// False when an organization admin creates a group for others without joining it.
    #[serde(default = "yes")]
    include_me: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationChange {
    /// A group's new title.
    #[serde(default)]
    title: Option<String>,
    /// Show this conversation's media and studies fewer days than the organization keeps them
    /// (1 up to the organization's retention), counted from each message; applies to what was
    /// already posted too. They are hidden here only (`410` through this conversation): the
    /// objects keep their own organization's retention.
    #[serde(default)]
    retention_days: Option<i64>,
}

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

/// `me`'s membership of conversation `id`; 404 for everyone else (existence is not revealed).
pub(crate) async fn membership(
    state: &AppState,
    me: &User,
    id: Uuid,
) -> ApiResult<(Conversation, Member)> {
    let member = state
        .store
        .member(id, me.id)
        .await
        .or_api("conversation_not_found")?;
    let conversation = state
        .store
        .conversation(id)
        .await
        .or_api("conversation_not_found")?;
    Ok((conversation, member))
}

/// Conversation `id` if `me` may manage its members: a group admin, or an admin of the
/// owning organization.
async fn managed(state: &AppState, me: &User, id: Uuid) -> ApiResult<Conversation> {
    let conversation = state
        .store
        .conversation(id)
        .await
        .or_api("conversation_not_found")?;
    let member = match state.store.member(id, me.id).await {
        Ok(m) => Some(m),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(ApiError::from_store(e, "conversation_not_found")),
    };
    let org_admin = can_administer(me, conversation.org_id);
    if member.is_none() && !org_admin {
        return Err(ApiError::not_found("conversation_not_found"));
    }
    if conversation.kind == ConversationKind::Direct {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "direct_conversation",
            "a direct conversation's members cannot change",
        ));
    }
    if !org_admin && member.is_none_or(|m| m.role != MemberRole::Admin) {
        return Err(ApiError::forbidden(
            "only the group's admins manage its members",
        ));
    }
    Ok(conversation)
}

/// Checks `id` is an active user; whether their organization may join is checked over the
/// whole set of members (`cooperation::require_messaging`).
async fn reachable_user(state: &AppState, id: Uuid) -> ApiResult<User> {
    let user = state.store.user(id).await.or_api("user_not_found")?;
    if !user.status.may_sign_in() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user_not_active",
            "that user is not active",
        ));
    }
    Ok(user)
}

/// A conversation of my list as I see it.
fn view(listed: ListedConversation) -> ConversationView {
    let summary = listed.summary;
    ConversationView {
        member_count: summary.member_count,
        unread: summary.unread,
        my_role: Some(summary.me.role),
        last_read_seq: summary.me.last_read_seq,
        last_message: listed.last_message,
        conversation: summary.conversation,
        notify: listed.notify,
    }
}

/// Conversation `id` as `me` sees it: a member's view read directly, or for a non-member
/// (an organization admin who created it for others) the conversation and its member count.
async fn view_of(state: &AppState, me: &User, id: Uuid) -> ApiResult<ConversationView> {
    match state.store.listed_conversation(me.id, id).await {
        Ok(listed) => Ok(view(listed)),
        Err(StoreError::NotFound) => {
            let conversation = state
                .store
                .conversation(id)
                .await
                .or_api("conversation_not_found")?;
            let member_count = state
                .store
                .members(id)
                .await
                .or_api("conversation_not_found")?
                .len() as i64;
            Ok(ConversationView {
                conversation,
                member_count,
                unread: 0,
                my_role: None,
                last_read_seq: 0,
                last_message: None,
                notify: NotifyLevel::All,
            })
        }
        Err(e) => Err(ApiError::from_store(e, "conversation_not_found")),
    }
}

/// My conversations, most recently active first, with unread counts and last messages.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = [ConversationView])))]
pub async fn list_conversations(
    State(state): State<AppState>,
    Signed(me): Signed,
) -> ApiResult<Json<Vec<ConversationView>>> {
    let list = state
        .store
        .conversation_list(me.user.id)
        .await
        .or_api("conversation_not_found")?;
    Ok(Json(list.into_iter().map(view).collect()))
}

/// Start a direct conversation (returns the existing one with that person) or a group.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", request_body = NewConversation, security(("bearer" = [])),
    responses((status = 201, body = ConversationView), (status = 200, body = ConversationView, description = "the existing direct conversation"),
        (status = 403, body = ErrorBody, description = "no_cooperation_agreement, or include_me=false without being an organization admin"),
        (status = 422, body = ErrorBody, description = "invalid members or title")))]
pub async fn create_conversation(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiJson(req): ApiJson<NewConversation>,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    let me = &me.user;
    let mut ids: Vec<Uuid> = Vec::new();
    for id in req.member_ids.iter().chain(&req.admin_ids) {
        if *id != me.id && !ids.contains(id) {
            ids.push(*id);
        }
    }
    if ids.len() + 1 > MAX_MEMBERS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_members",
            format!("a group has at most {MAX_MEMBERS} members"),
        ));
    }
    let mut orgs = vec![me.org_id];
    for id in &ids {
        orgs.push(reachable_user(&state, *id).await?.org_id);
    }
    require_messaging(&state, &orgs).await?;
    let now = Timestamp::now();
    let mut conversation = Conversation {
        id: renkei_core::new_id(),
        org_id: me.org_id,
        kind: req.kind,
        title: None,
        created_by: Some(me.id),
        last_seq: 0,
        retention_days: None,
        created_at: now,
        updated_at: now,
    };
    let (members, key) = match req.kind {
        ConversationKind::Direct => {
            let [other] = ids[..] else {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_members",
                    "a direct conversation is with exactly one other person",
                ));
            };
            if req.title.is_some() || !req.include_me {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_members",
                    "a direct conversation has no title and includes you",
                ));
            }
            let key = direct_key(me.id, other);
            if let Ok(existing) = state.store.conversation_by_direct_key(&key).await {
                rejoin_direct(&state, me, existing.id, [me.id, other]).await?;
                return Ok((
                    StatusCode::OK,
                    Json(view_of(&state, me, existing.id).await?),
                ));
            }
            (
                vec![(me.id, MemberRole::Member), (other, MemberRole::Member)],
                Some(key),
            )
        }
        ConversationKind::Group => {
            let title = req.title.as_deref().ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_name",
                    "a group needs a title",
                )
            })?;
            conversation.title = Some(validate_title(title)?);
            let mut members = Vec::new();
            if req.include_me {
                members.push((me.id, MemberRole::Admin));
            } else if !can_administer(me, me.org_id) {
                return Err(ApiError::forbidden(
                    "only organization admins create groups they are not in",
                ));
            }
            for id in &ids {
                let role = if req.admin_ids.contains(id) {
                    MemberRole::Admin
                } else {
                    MemberRole::Member
                };
                members.push((*id, role));
            }
            if members.is_empty() {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_members",
                    "a group needs members",
                ));
            }
            (members, None)
        }
    };
    let for_others = (!req.include_me).then(|| {
        conversation_audit(
            me,
            conversation.id,
            "conversation.create_for_others",
            json!({"members": members.iter().map(|(id, _)| id).collect::<Vec<_>>()}),
        )
    });
    let created = match state
        .store
        .create_conversation(&conversation, key.as_deref(), &members, for_others.as_ref())
        .await
    {
        Err(StoreError::Duplicate("direct_exists")) => {
            let existing = state
                .store
                .conversation_by_direct_key(key.as_deref().unwrap_or_default())
                .await
                .or_api("conversation_not_found")?;
            return Ok((
                StatusCode::OK,
                Json(view_of(&state, me, existing.id).await?),
            ));
        }
        other => other.or_api("conversation_not_found")?,
    };
    state.messaging.advanced(created.id, created.last_seq);
    Ok((
        StatusCode::CREATED,
        Json(view_of(&state, me, created.id).await?),
    ))
}

/// One conversation (members only).
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<Json<ConversationView>> {
    membership(&state, &me.user, id).await?;
    Ok(Json(view_of(&state, &me.user, id).await?))
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
    let conversation = managed(&state, &me.user, id).await?;
    if let Some(title) = &req.title {
        let title = validate_title(title)?;
        let audit = conversation_audit(
            &me.user,
            id,
            "conversation.renamed",
            json!({"title": title}),
        );
        let seq = state
            .store
            .set_title(id, &title, Some(me.user.id), &audit)
            .await
            .or_api("conversation_not_found")?;
        state.messaging.advanced(id, seq);
    }
    if let Some(days) = req.retention_days {
        let org = state
            .store
            .org(conversation.org_id)
            .await
            .or_api("conversation_not_found")?;
        let longest = conversation
            .retention_days
            .unwrap_or(org.policy.retention_days)
            .min(org.policy.retention_days);
        if !(1..=longest).contains(&days) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_retention",
                format!(
                    "retention_days must be between 1 and {longest}: a conversation may keep media for less time, never more"
                ),
            ));
        }
        let audit = conversation_audit(
            &me.user,
            id,
            "conversation.retention_changed",
            json!({"retention_days": days}),
        );
        let seq = state
            .store
            .set_retention(id, days, Some(me.user.id), &audit)
            .await
            .or_api("conversation_not_found")?;
        state.messaging.advanced(id, seq);
    }
    Ok(Json(view_of(&state, &me.user, id).await?))
}

/// The members (members, and admins of the owning organization).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/members", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [Member])))]
pub async fn list_members(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<Member>>> {
    let conversation = state
        .store
        .conversation(id)
        .await
        .or_api("conversation_not_found")?;
    if !can_administer(&me.user, conversation.org_id) {
        membership(&state, &me.user, id).await?;
    }
    Ok(Json(
        state
            .store
            .members(id)
            .await
            .or_api("conversation_not_found")?,
    ))
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
    let conversation = managed(&state, &me.user, id).await?;
    let user = reachable_user(&state, req.user_id).await?;
    let mut orgs = member_orgs(&state, id).await?;
    orgs.extend([conversation.org_id, user.org_id]);
    require_messaging(&state, &orgs).await?;
    let role = req.role.unwrap_or(MemberRole::Member);
    let audit = member_audit(&me.user, id, "conversation.member_added", req.user_id);
    let seq = state
        .store
        .add_member(id, req.user_id, role, Some(me.user.id), Some(&audit))
        .await
        .or_api("conversation_not_found")?;
    // An agreement revoked while this was checked is honoured: prune again.
    let removals = state
        .store
        .prune_conversation(id, me.user.id)
        .await
        .or_api("conversation_not_found")?;
    announce_removals(&state, &removals);
    state.messaging.membership_changed(id, None);
    state.messaging.advanced(id, seq);
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .members(id)
                .await
                .or_api("conversation_not_found")?,
        ),
    ))
}

/// Remove a member (group admins, organization admins; anyone may leave). Their live
/// connections stop receiving the conversation at once.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/members/{user_id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("user_id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path((id, user_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    if user_id == me.user.id {
        membership(&state, &me.user, id).await?;
    } else {
        managed(&state, &me.user, id).await?;
    }
    let audit = member_audit(&me.user, id, "conversation.member_removed", user_id);
    let seq = state
        .store
        .remove_member(id, user_id, Some(me.user.id), &audit)
        .await
        .or_api("member_not_found")?;
    state.messaging.membership_changed(id, Some(user_id));
    state.messaging.advanced(id, seq);
    Ok(StatusCode::NO_CONTENT)
}

/// Make a member a group admin, or an ordinary member.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/members/{user_id}", tag = "conversations", request_body = RoleChange, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("user_id" = uuid::Uuid, Path)), responses((status = 200, body = [Member])))]
pub async fn set_member_role(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path((id, user_id)): Path<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<RoleChange>,
) -> ApiResult<Json<Vec<Member>>> {
    managed(&state, &me.user, id).await?;
    let audit = conversation_audit(
        &me.user,
        id,
        "conversation.member_role_changed",
        json!({"user_id": user_id, "role": req.role}),
    );
    let seq = state
        .store
        .set_member_role(id, user_id, req.role, Some(me.user.id), &audit)
        .await
        .or_api("member_not_found")?;
    state.messaging.advanced(id, seq);
    Ok(Json(
        state
            .store
            .members(id)
            .await
            .or_api("conversation_not_found")?,
    ))
}

/// The organizations of a conversation's members.
async fn member_orgs(state: &AppState, id: Uuid) -> ApiResult<Vec<Uuid>> {
    state
        .store
        .member_orgs(id)
        .await
        .or_api("conversation_not_found")
}

/// Brings back into a direct conversation whichever of the pair left it (an agreement was
/// revoked, then made again), once the pair may talk again.
async fn rejoin_direct(state: &AppState, me: &User, id: Uuid, pair: [Uuid; 2]) -> ApiResult<()> {
    for user in pair {
        match state.store.member(id, user).await {
            Ok(_) => continue,
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(ApiError::from_store(e, "conversation_not_found")),
        }
        let seq = state
            .store
            .add_member(id, user, MemberRole::Member, Some(me.id), None)
            .await
            .or_api("conversation_not_found")?;
        state.messaging.membership_changed(id, None);
        state.messaging.advanced(id, seq);
    }
    Ok(())
}

/// The audit entry for `me` adding or removing `user`.
fn member_audit(me: &User, conversation: Uuid, action: &'static str, user: Uuid) -> AuditEvent {
    conversation_audit(me, conversation, action, json!({"user_id": user}))
}

/// The audit entry for a change to a conversation made by `me`; the store writes it in the
/// change's own transaction.
fn conversation_audit(
    me: &User,
    conversation: Uuid,
    action: &'static str,
    details: serde_json::Value,
) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(me.org_id),
        Some(me.id),
        "conversation",
        Some(conversation),
    )
    .with_details(details)
}
