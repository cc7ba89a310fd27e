//! Conversations and messages at the service level, on both databases: who may read, post and
//! manage, direct conversations, audited creation for others, retention, and agreements.

#[macro_use]
mod common;

use common::{World, applicant};
use renkei_core::Uuid;
use renkei_core::agreement::Scope;
use renkei_core::conversation::{ConversationKind, MemberRole, NewMessage, Priority};
use renkei_core::notify::NotifyLevel;
use renkei_core::user::{NewUser, Role, User, UserStatus};
use renkei_service::conversations::{self, ConversationChange, NewConversation};
use renkei_service::{Kind, ServiceError, ServiceResult, messages};

on_both_backends!(
    non_members_neither_read_nor_post,
    plain_members_do_not_manage_a_group_and_its_admins_do,
    direct_conversations_are_one_per_pair_and_keep_their_members,
    a_group_created_for_others_is_audited_once_with_its_creation,
    retention_only_ever_shortens_within_the_organizations,
    members_of_other_organizations_need_a_messaging_agreement,
    senders_edit_their_messages_and_group_admins_delete_any,
);

fn group(title: &str, members: &[&User]) -> NewConversation {
    NewConversation {
        kind: ConversationKind::Group,
        title: Some(title.into()),
        member_ids: members.iter().map(|u| u.id).collect(),
        admin_ids: vec![],
        include_me: true,
    }
}

fn direct(with: &User) -> NewConversation {
    NewConversation {
        kind: ConversationKind::Direct,
        title: None,
        member_ids: vec![with.id],
        admin_ids: vec![],
        include_me: true,
    }
}

fn text(client_msg_id: &str, body: &str) -> NewMessage {
    NewMessage {
        client_msg_id: client_msg_id.into(),
        body: body.into(),
        reply_to: None,
        priority: Priority::Normal,
        mentions: vec![],
        attachments: vec![],
    }
}

fn retitle(title: &str) -> ConversationChange {
    ConversationChange {
        title: Some(title.into()),
        retention_days: None,
    }
}

fn keep(days: i64) -> ConversationChange {
    ConversationChange {
        title: None,
        retention_days: Some(days),
    }
}

/// The refusal of `result`, which must be one of `kind` with `code`.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: ServiceResult<T>, kind: Kind, code: &str) -> ServiceError {
    let err = result.expect_err("refused");
    assert_eq!((err.kind, err.code), (kind, code), "{err}");
    err
}

async fn new_group(world: &World, owner: &User, title: &str, members: &[&User]) -> Uuid {
    let created = conversations::create(&world.services, owner, group(title, members))
        .await
        .unwrap();
    assert!(created.new);
    created.view.conversation.id
}

async fn non_members_neither_read_nor_post(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let (a, b, outsider) = (
        world.user(&org, "ann", &[]).await,
        world.user(&org, "ben", &[]).await,
        world.user(&org, "outsider", &[]).await,
    );
    let id = new_group(world, &a, "Ward 5", &[&b]).await;
    s.messaging
        .post(a.id, id, text("m1", "hello"))
        .await
        .unwrap();

    // A member reads everything.
    assert_eq!(conversations::get(s, &b, id).await.unwrap().member_count, 2);
    assert_eq!(
        messages::history(s, &b, id, None, None, None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        conversations::list_members(s, &b, id).await.unwrap().len(),
        2
    );

    // Someone else is not told it exists, whatever they try.
    let hidden = |r: ServiceResult<()>| refused(r, Kind::NotFound, "conversation_not_found");
    let o = &outsider;
    hidden(conversations::get(s, o, id).await.map(drop));
    hidden(conversations::membership(s, o, id).await.map(drop));
    hidden(conversations::list_members(s, o, id).await.map(drop));
    hidden(
        messages::history(s, o, id, None, None, None)
            .await
            .map(drop),
    );
    hidden(messages::events(s, o, id, None, None).await.map(drop));
    hidden(messages::receipts(s, o, id, 2).await.map(drop));
    hidden(messages::typing(s, o, id).await);
    hidden(messages::mark_read(s, o.id, id, 2).await.map(drop));
    hidden(
        conversations::set_notify_level(s, o, id, NotifyLevel::Mute)
            .await
            .map(drop),
    );
    hidden(
        s.messaging
            .post(o.id, id, text("m2", "let me in"))
            .await
            .map(drop),
    );
    hidden(messages::edit(s, o, id, 2, "mine now").await.map(drop));
    hidden(messages::delete(s, o, id, 2).await);
    assert_eq!(messages::replay_start(s, o.id, id).await.unwrap(), None);
    // Nor does its text turn up in their search.
    assert!(
        messages::search(s, o, "hello", None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        messages::search(s, &b, "hello", None, None)
            .await
            .unwrap()
            .len(),
        1
    );
    // Nothing the outsider tried reached the timeline.
    let events = messages::events(s, &a, id, None, None).await.unwrap();
    assert_eq!(events.len(), 3, "two joins and one message: {events:?}");
}

async fn plain_members_do_not_manage_a_group_and_its_admins_do(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let admin = world.user(&org, "admin", &[]).await;
    let plain = world.user(&org, "plain", &[]).await;
    let third = world.user(&org, "third", &[]).await;
    let id = new_group(world, &admin, "Ward 5", &[&plain]).await;

    let forbidden = |r: ServiceResult<()>| refused(r, Kind::Forbidden, "forbidden");
    forbidden(
        conversations::add_member(s, &plain, id, third.id, None)
            .await
            .map(drop),
    );
    forbidden(conversations::remove_member(s, &plain, id, admin.id).await);
    forbidden(
        conversations::change(s, &plain, id, retitle("Mine"))
            .await
            .map(drop),
    );
    forbidden(
        conversations::set_member_role(s, &plain, id, plain.id, MemberRole::Admin)
            .await
            .map(drop),
    );
    let members = conversations::list_members(s, &admin, id).await.unwrap();
    assert_eq!(members.len(), 2, "nothing changed");

    // The group's admin adds, renames and promotes.
    let members = conversations::add_member(s, &admin, id, third.id, None)
        .await
        .unwrap();
    assert_eq!(members.len(), 3);
    let view = conversations::change(s, &admin, id, retitle("Ward 5 night"))
        .await
        .unwrap();
    assert_eq!(view.conversation.title.as_deref(), Some("Ward 5 night"));
    let members = conversations::set_member_role(s, &admin, id, plain.id, MemberRole::Admin)
        .await
        .unwrap();
    let promoted = members.iter().find(|m| m.user_id == plain.id).unwrap();
    assert_eq!(promoted.role, MemberRole::Admin);
    // Promoted, they manage too.
    conversations::remove_member(s, &plain, id, third.id)
        .await
        .unwrap();
    assert_eq!(
        conversations::list_members(s, &admin, id)
            .await
            .unwrap()
            .len(),
        2
    );
    // Anyone leaves on their own.
    conversations::remove_member(s, &plain, id, plain.id)
        .await
        .unwrap();
    refused(
        conversations::get(s, &plain, id).await,
        Kind::NotFound,
        "conversation_not_found",
    );

    // An admin of the owning organization manages without being a member; another
    // organization's admin is not told the group exists.
    let org_admin = world.user(&org, "org-admin", &[Role::OrgAdmin]).await;
    conversations::add_member(s, &org_admin, id, third.id, None)
        .await
        .unwrap();
    assert_eq!(
        conversations::list_members(s, &org_admin, id)
            .await
            .unwrap()
            .len(),
        2
    );
    let elsewhere = world.org("elsewhere").await;
    let foreign_admin = world
        .user(&elsewhere, "foreign-admin", &[Role::OrgAdmin])
        .await;
    refused(
        conversations::change(s, &foreign_admin, id, retitle("Ours")).await,
        Kind::NotFound,
        "conversation_not_found",
    );
    refused(
        conversations::list_members(s, &foreign_admin, id).await,
        Kind::NotFound,
        "conversation_not_found",
    );

    // Each change was audited with the conversation as its target.
    let actions = world.audit_actions(id).await;
    for action in [
        "conversation.member_added",
        "conversation.renamed",
        "conversation.member_role_changed",
        "conversation.member_removed",
        "conversation.create",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    assert_eq!(actions.len(), 7, "{actions:?}");
}

async fn direct_conversations_are_one_per_pair_and_keep_their_members(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let a = world.user(&org, "ann", &[]).await;
    let b = world.user(&org, "ben", &[]).await;
    let c = world.user(&org, "cal", &[]).await;
    let first = conversations::create(s, &a, direct(&b)).await.unwrap();
    assert!(first.new);
    let id = first.view.conversation.id;
    // Either of the pair asking again gets the same conversation.
    let again = conversations::create(s, &b, direct(&a)).await.unwrap();
    assert!(!again.new);
    assert_eq!(again.view.conversation.id, id);

    // Its members never change, and it is never renamed.
    let direct_refusal = |r: ServiceResult<()>| refused(r, Kind::Invalid, "direct_conversation");
    direct_refusal(
        conversations::add_member(s, &a, id, c.id, None)
            .await
            .map(drop),
    );
    direct_refusal(conversations::remove_member(s, &a, id, b.id).await);
    direct_refusal(
        conversations::change(s, &a, id, retitle("Us"))
            .await
            .map(drop),
    );
    // A stranger is not even told it is direct.
    refused(
        conversations::add_member(s, &c, id, c.id, None).await,
        Kind::NotFound,
        "conversation_not_found",
    );

    // Malformed pairs.
    let mut three = direct(&b);
    three.member_ids.push(c.id);
    refused(
        conversations::create(s, &a, three).await,
        Kind::Invalid,
        "invalid_members",
    );
    let mut titled = direct(&c);
    titled.title = Some("Us".into());
    refused(
        conversations::create(s, &a, titled).await,
        Kind::Invalid,
        "invalid_members",
    );

    // Leaving is allowed; asking again brings the one who left back into the same one.
    conversations::remove_member(s, &a, id, a.id).await.unwrap();
    refused(
        conversations::get(s, &a, id).await,
        Kind::NotFound,
        "conversation_not_found",
    );
    let back = conversations::create(s, &a, direct(&b)).await.unwrap();
    assert_eq!((back.new, back.view.conversation.id), (false, id));
    assert_eq!(back.view.my_role, Some(MemberRole::Member));
    assert_eq!(
        conversations::list_members(s, &b, id).await.unwrap().len(),
        2
    );
}

async fn a_group_created_for_others_is_audited_once_with_its_creation(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let org_admin = world.user(&org, "org-admin", &[Role::OrgAdmin]).await;
    let plain = world.user(&org, "plain", &[]).await;
    let (a, b) = (
        world.user(&org, "ann", &[]).await,
        world.user(&org, "ben", &[]).await,
    );

    let mut for_others = group("Night shift", &[&a, &b]);
    for_others.include_me = false;
    for_others.admin_ids = vec![a.id];
    let audit_before = world.store().count_audit(org.id).await.unwrap();
    // A plain member may not; nothing is written.
    refused(
        conversations::create(s, &plain, for_others.clone()).await,
        Kind::Forbidden,
        "forbidden",
    );
    assert!(conversations::list(s, &a).await.unwrap().is_empty());

    let created = conversations::create(s, &org_admin, for_others)
        .await
        .unwrap();
    let id = created.view.conversation.id;
    assert!(created.new);
    assert_eq!(created.view.my_role, None, "the creator is not a member");
    assert_eq!(created.view.member_count, 2);
    assert_eq!(
        world.audit_actions(id).await,
        vec!["conversation.create_for_others".to_owned()]
    );
    assert_eq!(
        world.store().count_audit(org.id).await.unwrap(),
        audit_before + 1,
        "exactly one entry"
    );
    let members = conversations::list_members(s, &a, id).await.unwrap();
    let role_of = |u: &User| members.iter().find(|m| m.user_id == u.id).map(|m| m.role);
    assert_eq!(role_of(&a), Some(MemberRole::Admin));
    assert_eq!(role_of(&b), Some(MemberRole::Member));
    assert_eq!(role_of(&org_admin), None);
    // The creator still manages it, as the organization's admin.
    conversations::change(s, &org_admin, id, retitle("Night"))
        .await
        .unwrap();

    // A group one creates for oneself is audited as a plain creation.
    let mine = new_group(world, &plain, "Mine", &[&a]).await;
    assert_eq!(world.audit_actions(mine).await, vec!["conversation.create"]);
    assert!(world.store().verify_audit().await.unwrap().is_ok());

    // Members must be active users.
    let retired = NewUser {
        status: Some(UserStatus::Retired),
        ..NewUser::from(applicant("gone"))
    };
    let gone = world.add_user(&org, retired).await;
    refused(
        conversations::create(s, &plain, group("With gone", &[&gone])).await,
        Kind::Invalid,
        "user_not_active",
    );
}

async fn retention_only_ever_shortens_within_the_organizations(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let longest = org.policy.retention_days;
    assert!(
        longest >= 3,
        "the default policy keeps media {longest} days"
    );
    let admin = world.user(&org, "admin", &[]).await;
    let plain = world.user(&org, "plain", &[]).await;
    let id = new_group(world, &admin, "Ward 5", &[&plain]).await;

    let invalid = |r: ServiceResult<()>| refused(r, Kind::Invalid, "invalid_retention");
    invalid(
        conversations::change(s, &admin, id, keep(longest + 1))
            .await
            .map(drop),
    );
    invalid(
        conversations::change(s, &admin, id, keep(0))
            .await
            .map(drop),
    );
    refused(
        conversations::change(s, &plain, id, keep(1)).await,
        Kind::Forbidden,
        "forbidden",
    );
    let view = conversations::change(s, &admin, id, keep(longest - 1))
        .await
        .unwrap();
    assert_eq!(view.conversation.retention_days, Some(longest - 1));
    // Once shortened, never lengthened again, even within the organization's.
    invalid(
        conversations::change(s, &admin, id, keep(longest))
            .await
            .map(drop),
    );
    let view = conversations::change(s, &admin, id, keep(1)).await.unwrap();
    assert_eq!(view.conversation.retention_days, Some(1));
    let changes = world.audit_actions(id).await;
    assert_eq!(
        changes,
        vec![
            "conversation.retention_changed",
            "conversation.retention_changed",
            "conversation.create"
        ],
        "refusals write nothing"
    );
}

async fn members_of_other_organizations_need_a_messaging_agreement(world: &World) {
    let s = &world.services;
    let (home, directory_only, partner) = (
        world.org("home").await,
        world.org("directory-only").await,
        world.org("partner").await,
    );
    world
        .agreement(&home, &directory_only, &[Scope::Directory])
        .await;
    world.agreement(&home, &partner, &[Scope::Messaging]).await;
    let me = world.user(&home, "me", &[]).await;
    let colleague = world.user(&home, "colleague", &[]).await;
    let looked_up = world.user(&directory_only, "looked-up", &[]).await;
    let partnered = world.user(&partner, "partnered", &[]).await;

    let no_agreement =
        |r: ServiceResult<()>| refused(r, Kind::Forbidden, "no_cooperation_agreement");
    no_agreement(
        conversations::create(s, &me, direct(&looked_up))
            .await
            .map(drop),
    );
    no_agreement(
        conversations::create(s, &me, group("Both", &[&colleague, &looked_up]))
            .await
            .map(drop),
    );
    let ours = new_group(world, &me, "Ours", &[&colleague]).await;
    no_agreement(
        conversations::add_member(s, &me, ours, looked_up.id, None)
            .await
            .map(drop),
    );
    // Every pair must cooperate: a partner of mine does not bring in a partner's stranger.
    let with_partner = new_group(world, &me, "With partner", &[&partnered]).await;
    no_agreement(
        conversations::add_member(s, &me, with_partner, looked_up.id, None)
            .await
            .map(drop),
    );
    assert_eq!(conversations::list(s, &me).await.unwrap().len(), 2);

    // With the messaging scope in force they talk.
    let talk = conversations::create(s, &me, direct(&partnered))
        .await
        .unwrap();
    assert!(talk.new);
    conversations::add_member(s, &me, ours, partnered.id, None)
        .await
        .unwrap();
    assert_eq!(conversations::list(s, &partnered).await.unwrap().len(), 3);
}

async fn senders_edit_their_messages_and_group_admins_delete_any(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let admin = world.user(&org, "admin", &[]).await;
    let (a, b) = (
        world.user(&org, "ann", &[]).await,
        world.user(&org, "ben", &[]).await,
    );
    let id = new_group(world, &admin, "Ward 5", &[&a, &b]).await;
    let seq = s
        .messaging
        .post(a.id, id, text("a1", "BP 120/80"))
        .await
        .unwrap()
        .message
        .seq;

    refused(
        messages::edit(s, &b, id, seq, "BP 80/40").await,
        Kind::Forbidden,
        "forbidden",
    );
    refused(
        messages::edit(s, &admin, id, seq, "BP 80/40").await,
        Kind::Forbidden,
        "forbidden",
    );
    refused(
        messages::delete(s, &b, id, seq).await,
        Kind::Forbidden,
        "forbidden",
    );
    let edited = messages::edit(s, &a, id, seq, "BP 125/80").await.unwrap();
    assert_eq!(edited.body, "BP 125/80");
    assert!(edited.edited_at.is_some());

    // A group admin deletes anyone's; a deleted message is gone for edits and deletes.
    messages::delete(s, &admin, id, seq).await.unwrap();
    refused(
        messages::edit(s, &a, id, seq, "again").await,
        Kind::NotFound,
        "message_not_found",
    );
    refused(
        messages::delete(s, &a, id, seq).await,
        Kind::NotFound,
        "message_not_found",
    );
    let actions = world.audit_actions(id).await;
    assert_eq!(
        actions,
        vec!["message.delete", "message.edit", "conversation.create"]
    );

    // Read marks and receipts.
    let seq = s
        .messaging
        .post(a.id, id, text("a2", "rounds at 9"))
        .await
        .unwrap()
        .message
        .seq;
    assert_eq!(messages::mark_read(s, b.id, id, seq).await.unwrap(), seq);
    let receipts = messages::receipts(s, &a, id, seq).await.unwrap();
    assert_eq!((receipts.read_by, receipts.of), (1, 2));
    refused(
        messages::search(s, &a, "   ", None, None).await,
        Kind::BadRequest,
        "invalid_query",
    );
}
