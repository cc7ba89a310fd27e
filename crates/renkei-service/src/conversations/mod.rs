//! Conversations as their members and managers reach them: who may read or manage one, how
//! a member sees it, and (in the submodules) creating one, changing it and its members.

mod change;
mod create;
mod members;

pub use change::{ConversationChange, change};
pub use create::{Created, NewConversation, create};
pub use members::{add_member, list_members, remove_member, set_member_role};

use renkei_core::Uuid;
use renkei_core::access::{self, GroupManagement};
use renkei_core::audit::AuditEvent;
use renkei_core::conversation::{Conversation, Member, MemberRole, Message};
use renkei_core::notify::NotifyLevel;
use renkei_core::user::User;
use renkei_store::{ListedConversation, StoreError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::Services;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// A conversation as its member sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub member_count: i64,
    /// Messages by others since my last read.
    pub unread: i64,
    pub my_role: Option<MemberRole>,
    pub last_read_seq: i64,
    pub last_message: Option<Message>,
    /// My own notification level here (`PUT …/notifications`).
    pub notify: NotifyLevel,
}

impl From<ListedConversation> for ConversationView {
    fn from(listed: ListedConversation) -> Self {
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
}

/// `me`'s membership of conversation `id`; `conversation_not_found` for everyone else
/// (existence is not revealed).
pub async fn membership(
    services: &Services,
    me: &User,
    id: Uuid,
) -> ServiceResult<(Conversation, Member)> {
    let member = match own_member(services, me.id, id).await? {
        Some(member) if access::may_read_conversation(Some(&member)) => member,
        _ => return Err(ServiceError::not_found("conversation_not_found")),
    };
    let conversation = services
        .store
        .conversation(id)
        .await
        .or_service("conversation_not_found")?;
    Ok((conversation, member))
}

/// `user`'s membership of `id`, if any.
pub(crate) async fn own_member(
    services: &Services,
    user: Uuid,
    id: Uuid,
) -> ServiceResult<Option<Member>> {
    match services.store.member(id, user).await {
        Ok(member) => Ok(Some(member)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(ServiceError::from_store(e, "conversation_not_found")),
    }
}

/// Conversation `id` with `me`'s membership of it, if any (404 when it does not exist).
async fn with_member(
    services: &Services,
    me: &User,
    id: Uuid,
) -> ServiceResult<(Conversation, Option<Member>)> {
    let conversation = services
        .store
        .conversation(id)
        .await
        .or_service("conversation_not_found")?;
    Ok((conversation, own_member(services, me.id, id).await?))
}

/// The refusal for a management decision, or nothing when it is allowed.
fn require_management(decision: GroupManagement) -> ServiceResult<()> {
    match decision {
        GroupManagement::Allowed => Ok(()),
        GroupManagement::Hidden => Err(ServiceError::not_found("conversation_not_found")),
        GroupManagement::Direct => Err(ServiceError::new(
            Kind::Invalid,
            "direct_conversation",
            "a direct conversation's members cannot change",
        )),
        GroupManagement::NotGroupAdmin => Err(ServiceError::forbidden(
            "only the group's admins manage its members",
        )),
    }
}

/// Conversation `id` if `me` may manage it (`access::group_management`).
async fn managed(services: &Services, me: &User, id: Uuid) -> ServiceResult<Conversation> {
    let (conversation, member) = with_member(services, me, id).await?;
    require_management(access::group_management(me, &conversation, member.as_ref()))?;
    Ok(conversation)
}

/// My conversations, most recently active first, with unread counts and last messages.
pub async fn list(services: &Services, me: &User) -> ServiceResult<Vec<ConversationView>> {
    let list = services
        .store
        .conversation_list(me.id)
        .await
        .or_service("conversation_not_found")?;
    Ok(list.into_iter().map(ConversationView::from).collect())
}

/// One conversation, for its members.
pub async fn get(services: &Services, me: &User, id: Uuid) -> ServiceResult<ConversationView> {
    membership(services, me, id).await?;
    view_of(services, me, id).await
}

/// Conversation `id` as `me` sees it: a member's view read directly, or for a non-member
/// (an organization admin who created it for others) the conversation and its member count.
async fn view_of(services: &Services, me: &User, id: Uuid) -> ServiceResult<ConversationView> {
    match services.store.listed_conversation(me.id, id).await {
        Ok(listed) => Ok(listed.into()),
        Err(StoreError::NotFound) => {
            let conversation = services
                .store
                .conversation(id)
                .await
                .or_service("conversation_not_found")?;
            let member_count = services
                .store
                .members(id)
                .await
                .or_service("conversation_not_found")?
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
        Err(e) => Err(ServiceError::from_store(e, "conversation_not_found")),
    }
}

/// Sets how much of conversation `id` asks for `me`'s attention (members; their own setting).
pub async fn set_notify_level(
    services: &Services,
    me: &User,
    id: Uuid,
    level: NotifyLevel,
) -> ServiceResult<NotifyLevel> {
    membership(services, me, id).await?;
    services
        .store
        .set_notify_level(id, me.id, level)
        .await
        .or_service("conversation_not_found")?;
    Ok(level)
}

/// The audit entry for a change to a conversation made by `me`; the store writes it in the
/// change's own transaction.
fn conversation_audit(
    me: &User,
    conversation: Uuid,
    action: &'static str,
    details: Value,
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
