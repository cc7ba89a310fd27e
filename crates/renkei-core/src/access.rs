//! Who may read or administer what; every handler asks here, never decides itself.

use uuid::Uuid;

use crate::conversation::{Conversation, ConversationKind, Member, MemberRole};
use crate::user::{Role, User};

/// Whether `actor` may administer organization `org_id` (its users, departments, policy).
pub fn can_administer(actor: &User, org_id: Uuid) -> bool {
    actor.has_role(Role::ServerAdmin) || (actor.has_role(Role::OrgAdmin) && actor.org_id == org_id)
}

/// Whether `actor` may read organization `org_id`'s directory and records.
pub fn can_read(actor: &User, org_id: Uuid) -> bool {
    actor.has_role(Role::ServerAdmin) || actor.org_id == org_id
}

/// Whether `actor` may create organizations and administer all of them.
pub fn is_server_admin(actor: &User) -> bool {
    actor.has_role(Role::ServerAdmin)
}

/// Whether a change to a user involves server administration: the user is a server
/// administrator now (`before`), or would be after it (`after`).
pub fn touches_server_admin(before: &[Role], after: &[Role]) -> bool {
    before.contains(&Role::ServerAdmin) || after.contains(&Role::ServerAdmin)
}

/// Whether `actor` may change a user whose roles are `before` and would be `after` (equal for
/// a profile edit, status change, password, passcode or second-factor reset, or release).
/// Only a server administrator changes a server administrator or makes one; the
/// organization scope is [`can_administer`]'s to check.
pub fn may_change_user(actor: &User, before: &[Role], after: &[Role]) -> bool {
    is_server_admin(actor) || !touches_server_admin(before, after)
}

/// Why `actor` may or may not manage a conversation's members and settings (add, remove,
/// change roles, rename, shorten retention). Refusals are ordered: a conversation the actor
/// cannot see is hidden before anything else is said about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupManagement {
    /// A group admin, or an admin of the owning organization.
    Allowed,
    /// Neither a member nor an admin of the owning organization: not revealed (404).
    Hidden,
    /// A direct conversation: its two members never change.
    Direct,
    /// A member who is not one of the group's admins.
    NotGroupAdmin,
}

/// Whether `member` (the caller's membership, if any) lets its holder read a conversation:
/// its history, events, receipts and members, and post in it. Non-members are not told it
/// exists.
pub fn may_read_conversation(member: Option<&Member>) -> bool {
    member.is_some()
}

/// Whether `actor` may list a conversation's members: its members, and administrators of the
/// owning organization (who may have created it for others without joining).
pub fn may_list_members(
    actor: &User,
    conversation: &Conversation,
    member: Option<&Member>,
) -> bool {
    may_read_conversation(member) || can_administer(actor, conversation.org_id)
}

/// Whether `actor`, with membership `member`, may manage `conversation`.
pub fn group_management(
    actor: &User,
    conversation: &Conversation,
    member: Option<&Member>,
) -> GroupManagement {
    let org_admin = can_administer(actor, conversation.org_id);
    if member.is_none() && !org_admin {
        GroupManagement::Hidden
    } else if conversation.kind == ConversationKind::Direct {
        GroupManagement::Direct
    } else if !org_admin && member.is_none_or(|m| m.role != MemberRole::Admin) {
        GroupManagement::NotGroupAdmin
    } else {
        GroupManagement::Allowed
    }
}

/// Whether `actor` may remove `target` from `conversation`: anyone may leave a conversation
/// they are in (a direct one too); removing someone else is managing the group.
pub fn member_removal(
    actor: &User,
    conversation: &Conversation,
    member: Option<&Member>,
    target: Uuid,
) -> GroupManagement {
    if target != actor.id {
        group_management(actor, conversation, member)
    } else if may_read_conversation(member) {
        GroupManagement::Allowed
    } else {
        GroupManagement::Hidden
    }
}

/// Whether `actor` may create a group they are not a member of: administrators of their
/// own organization only.
pub fn may_create_group_for_others(actor: &User) -> bool {
    can_administer(actor, actor.org_id)
}

/// Whether `actor` may edit message of `sender`: only its sender.
pub fn may_edit_message(actor: Uuid, sender: Uuid) -> bool {
    actor == sender
}

/// Whether `actor` (a member with `role`) may delete a message of `sender`: its sender, or
/// one of the group's admins.
pub fn may_delete_message(actor: Uuid, role: MemberRole, sender: Uuid) -> bool {
    actor == sender || role == MemberRole::Admin
}

/// The longest retention, in days, a conversation may be given: never more than its
/// organization keeps media (`org_days`), nor more than it has now (it only shortens).
pub fn longest_retention(current: Option<i64>, org_days: i64) -> i64 {
    current.unwrap_or(org_days).min(org_days)
}

/// Whether a conversation now keeping media `current` days (none: the organization's
/// `org_days`) may be set to keep them `days`: at least one day, at most
/// [`longest_retention`]. Who may set it is [`group_management`]'s to say.
pub fn may_set_retention(days: i64, current: Option<i64>, org_days: i64) -> bool {
    (1..=longest_retention(current, org_days)).contains(&days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::user::{Profession, UserStatus};

    fn user(roles: &[Role]) -> User {
        User {
            id: crate::new_id(),
            org_id: Uuid::nil(),
            login: "x".into(),
            display_name: "x".into(),
            kana: "x".into(),
            romaji: "x".into(),
            profession: Profession::Nurse,
            department_id: None,
            email: None,
            phone: None,
            roles: roles.to_vec(),
            status: UserStatus::Active,
            staff_number: None,
            affiliations: vec![],
            second_factor_required: false,
            second_factor_enrolled: false,
            must_change_password: false,
            version: 1,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn an_org_admin_changes_no_server_admin_and_makes_none() {
        let org_admin = user(&[Role::OrgAdmin]);
        let server = [Role::ServerAdmin];
        let demoted = [Role::OrgAdmin];
        // Demoting a server administrator: the roles granted hold none, but it touches one.
        assert!(!may_change_user(&org_admin, &server, &demoted));
        // Resets, status and profile edits keep the roles: still a server administrator.
        assert!(!may_change_user(&org_admin, &server, &server));
        assert!(!may_change_user(&org_admin, &demoted, &server));
        assert!(!may_change_user(&org_admin, &[], &server));
        assert!(may_change_user(&org_admin, &demoted, &[]));
        assert!(may_change_user(&org_admin, &[], &[]));
    }

    #[test]
    fn a_server_admin_changes_anyone() {
        let root = user(&[Role::ServerAdmin]);
        assert!(may_change_user(&root, &[Role::ServerAdmin], &[]));
        assert!(may_change_user(&root, &[], &[Role::ServerAdmin]));
    }

    fn conversation(kind: ConversationKind, org_id: Uuid) -> Conversation {
        Conversation {
            id: crate::new_id(),
            org_id,
            kind,
            title: None,
            created_by: None,
            last_seq: 0,
            retention_days: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn member(user: &User, role: MemberRole) -> Member {
        Member {
            user_id: user.id,
            role,
            joined_seq: 1,
            last_read_seq: 0,
        }
    }

    #[test]
    fn only_members_read_a_conversation() {
        let nurse = user(&[]);
        assert!(may_read_conversation(Some(&member(
            &nurse,
            MemberRole::Member
        ))));
        assert!(!may_read_conversation(None));
    }

    #[test]
    fn members_and_the_owning_org_admins_list_members() {
        let group = conversation(ConversationKind::Group, Uuid::nil());
        let nurse = user(&[]);
        let own_admin = user(&[Role::OrgAdmin]);
        let mut other_admin = user(&[Role::OrgAdmin]);
        other_admin.org_id = crate::new_id();
        assert!(may_list_members(
            &nurse,
            &group,
            Some(&member(&nurse, MemberRole::Member))
        ));
        assert!(!may_list_members(&nurse, &group, None));
        assert!(may_list_members(&own_admin, &group, None));
        assert!(!may_list_members(&other_admin, &group, None));
    }

    #[test]
    fn group_admins_and_owning_org_admins_manage_a_group() {
        let group = conversation(ConversationKind::Group, Uuid::nil());
        let nurse = user(&[]);
        let plain = member(&nurse, MemberRole::Member);
        let admin = member(&nurse, MemberRole::Admin);
        assert_eq!(
            group_management(&nurse, &group, Some(&admin)),
            GroupManagement::Allowed
        );
        assert_eq!(
            group_management(&nurse, &group, Some(&plain)),
            GroupManagement::NotGroupAdmin
        );
        assert_eq!(
            group_management(&nurse, &group, None),
            GroupManagement::Hidden
        );
        let own_admin = user(&[Role::OrgAdmin]);
        assert_eq!(
            group_management(&own_admin, &group, None),
            GroupManagement::Allowed
        );
        let mut other_admin = user(&[Role::OrgAdmin]);
        other_admin.org_id = crate::new_id();
        assert_eq!(
            group_management(&other_admin, &group, None),
            GroupManagement::Hidden
        );
        let root = user(&[Role::ServerAdmin]);
        assert_eq!(
            group_management(&root, &group, None),
            GroupManagement::Allowed
        );
    }

    #[test]
    fn a_direct_conversation_is_never_managed_and_a_stranger_is_not_told_it_is_direct() {
        let direct = conversation(ConversationKind::Direct, Uuid::nil());
        let nurse = user(&[]);
        let admin = member(&nurse, MemberRole::Admin);
        assert_eq!(
            group_management(&nurse, &direct, Some(&admin)),
            GroupManagement::Direct
        );
        assert_eq!(
            group_management(&user(&[Role::OrgAdmin]), &direct, None),
            GroupManagement::Direct
        );
        assert_eq!(
            group_management(&nurse, &direct, None),
            GroupManagement::Hidden
        );
    }

    #[test]
    fn anyone_may_leave_but_removing_others_is_managing() {
        let group = conversation(ConversationKind::Group, Uuid::nil());
        let direct = conversation(ConversationKind::Direct, Uuid::nil());
        let nurse = user(&[]);
        let plain = member(&nurse, MemberRole::Member);
        let other = crate::new_id();
        assert_eq!(
            member_removal(&nurse, &group, Some(&plain), nurse.id),
            GroupManagement::Allowed
        );
        assert_eq!(
            member_removal(&nurse, &direct, Some(&plain), nurse.id),
            GroupManagement::Allowed
        );
        assert_eq!(
            member_removal(&nurse, &group, None, nurse.id),
            GroupManagement::Hidden
        );
        assert_eq!(
            member_removal(&nurse, &group, Some(&plain), other),
            GroupManagement::NotGroupAdmin
        );
        assert_eq!(
            member_removal(&nurse, &direct, Some(&plain), other),
            GroupManagement::Direct
        );
    }

    #[test]
    fn only_org_admins_create_groups_for_others() {
        assert!(may_create_group_for_others(&user(&[Role::OrgAdmin])));
        assert!(may_create_group_for_others(&user(&[Role::ServerAdmin])));
        assert!(!may_create_group_for_others(&user(&[])));
    }

    #[test]
    fn senders_edit_and_senders_or_group_admins_delete() {
        let (me, them) = (crate::new_id(), crate::new_id());
        assert!(may_edit_message(me, me));
        assert!(!may_edit_message(me, them));
        assert!(may_delete_message(me, MemberRole::Member, me));
        assert!(!may_delete_message(me, MemberRole::Member, them));
        assert!(may_delete_message(me, MemberRole::Admin, them));
    }

    #[test]
    fn retention_only_shortens_within_the_organizations() {
        assert_eq!(longest_retention(None, 7), 7);
        assert_eq!(longest_retention(Some(3), 7), 3);
        // The organization shortened its own retention below the conversation's.
        assert_eq!(longest_retention(Some(5), 2), 2);
        assert!(may_set_retention(1, None, 7));
        assert!(may_set_retention(7, None, 7));
        assert!(!may_set_retention(8, None, 7));
        assert!(!may_set_retention(0, None, 7));
        assert!(!may_set_retention(4, Some(3), 7));
        assert!(may_set_retention(3, Some(3), 7));
    }
}
