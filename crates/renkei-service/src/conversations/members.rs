//! A conversation's members: listing them, adding (across organizations only under a
//! messaging agreement), removing (or leaving), and changing their roles.

use renkei_core::Uuid;
use renkei_core::access;
use renkei_core::conversation::{Member, MemberRole};
use renkei_core::user::User;
use serde_json::json;

use super::{conversation_audit, managed, require_management, with_member};
use crate::Services;
use crate::cooperation::{announce_removals, require_messaging};
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// The members, for members and admins of the owning organization.
pub async fn list_members(services: &Services, me: &User, id: Uuid) -> ServiceResult<Vec<Member>> {
    let (conversation, member) = with_member(services, me, id).await?;
    if !access::may_list_members(me, &conversation, member.as_ref()) {
        return Err(ServiceError::not_found("conversation_not_found"));
    }
    members(services, id).await
}

/// Every member of `id`.
async fn members(services: &Services, id: Uuid) -> ServiceResult<Vec<Member>> {
    services
        .store
        .members(id)
        .await
        .or_service("conversation_not_found")
}

/// Adds `user` with `role` (default: member) to a group `me` manages; every organization of
/// the members, old and new, must cooperate on messaging. Returns the members now.
pub async fn add_member(
    services: &Services,
    me: &User,
    id: Uuid,
    user: Uuid,
    role: Option<MemberRole>,
) -> ServiceResult<Vec<Member>> {
    let conversation = managed(services, me, id).await?;
    let added = reachable_user(services, user).await?;
    let mut orgs = services
        .store
        .member_orgs(id)
        .await
        .or_service("conversation_not_found")?;
    orgs.extend([conversation.org_id, added.org_id]);
    require_messaging(services, &orgs).await?;
    let role = role.unwrap_or(MemberRole::Member);
    let audit = member_audit(me, id, "conversation.member_added", user);
    let seq = services
        .store
        .add_member(id, user, role, Some(me.id), Some(&audit))
        .await
        .or_service("conversation_not_found")?;
    // An agreement revoked while this was checked is honoured: prune again.
    let removals = services
        .store
        .prune_conversation(id, me.id)
        .await
        .or_service("conversation_not_found")?;
    announce_removals(services, &removals);
    services.messaging.membership_changed(id, None);
    services.messaging.advanced(id, seq);
    members(services, id).await
}

/// Removes `user` (a group's managers; anyone may leave). Their live connections stop
/// receiving the conversation at once.
pub async fn remove_member(
    services: &Services,
    me: &User,
    id: Uuid,
    user: Uuid,
) -> ServiceResult<()> {
    let (conversation, member) = with_member(services, me, id).await?;
    require_management(access::member_removal(
        me,
        &conversation,
        member.as_ref(),
        user,
    ))?;
    let audit = member_audit(me, id, "conversation.member_removed", user);
    let seq = services
        .store
        .remove_member(id, user, Some(me.id), &audit)
        .await
        .or_service("member_not_found")?;
    services.messaging.membership_changed(id, Some(user));
    services.messaging.advanced(id, seq);
    Ok(())
}

/// Makes a member one of the group's admins, or an ordinary member. Returns the members now.
pub async fn set_member_role(
    services: &Services,
    me: &User,
    id: Uuid,
    user: Uuid,
    role: MemberRole,
) -> ServiceResult<Vec<Member>> {
    managed(services, me, id).await?;
    let audit = conversation_audit(
        me,
        id,
        "conversation.member_role_changed",
        json!({"user_id": user, "role": role}),
    );
    let seq = services
        .store
        .set_member_role(id, user, role, Some(me.id), &audit)
        .await
        .or_service("member_not_found")?;
    services.messaging.advanced(id, seq);
    members(services, id).await
}

/// User `id` if they are active; whether their organization may join is checked over the
/// whole set of members (`cooperation::require_messaging`).
pub(super) async fn reachable_user(services: &Services, id: Uuid) -> ServiceResult<User> {
    let user = services.store.user(id).await.or_service("user_not_found")?;
    if !user.status.may_sign_in() {
        return Err(ServiceError::new(
            Kind::Invalid,
            "user_not_active",
            "that user is not active",
        ));
    }
    Ok(user)
}

/// The audit entry for `me` adding or removing `user`.
fn member_audit(
    me: &User,
    conversation: Uuid,
    action: &'static str,
    user: Uuid,
) -> renkei_core::audit::AuditEvent {
    conversation_audit(me, conversation, action, json!({"user_id": user}))
}
