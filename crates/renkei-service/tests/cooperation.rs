//! Cooperation rules at the service level, on SQLite and PostgreSQL: who manages agreements
//! and councils, what a revocation takes away, who reads a council's statistics, and which
//! colleagues the directory shows.

#[macro_use]
mod common;

use common::{World, applicant, refusal};
use renkei_core::agreement::{AgreementStatus, CouncilStatus, Scope};
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Conversation, ConversationKind, MemberRole};
use renkei_core::org::{OrgKind, Organization};
use renkei_core::user::{Applicant, NewUser, Role, User};
use renkei_service::admin::stats::{self, Range};
use renkei_service::cooperation::directory::{self, DirectoryQuery};
use renkei_service::cooperation::{agreements, councils};
use renkei_service::{Kind, Services};
use renkei_store::{AuditFilter, StoreError};

on_both_backends!(
    only_an_org_admin_proposes_accepts_and_revokes,
    a_revocation_prunes_cross_organization_conversations_at_once,
    a_council_admin_invites_and_hospital_admins_opt_in,
    council_statistics_are_for_its_administrators_and_server_admins,
    directory_scope_follows_agreements,
);

/// An agreement proposed by `from_admin` to `to` and accepted by `to_admin`.
async fn in_force(
    s: &Services,
    from_admin: &User,
    to: &Organization,
    to_admin: &User,
    scopes: &[Scope],
) -> renkei_core::Uuid {
    let proposed = agreements::propose(s, from_admin, to.id, scopes)
        .await
        .unwrap();
    agreements::accept(s, to_admin, proposed.agreement.id)
        .await
        .unwrap();
    proposed.agreement.id
}

async fn only_an_org_admin_proposes_accepts_and_revokes(w: &World) {
    let s = &w.services;
    let (a, b, c) = (
        w.org_named("Aoba", OrgKind::Hospital).await,
        w.org_named("Birch", OrgKind::Hospital).await,
        w.org_named("Cedar", OrgKind::Hospital).await,
    );
    let (a_admin, a_staff) = (admin(w, &a, "a-admin").await, staff(w, &a, "a-staff").await);
    let (b_admin, b_staff) = (admin(w, &b, "b-admin").await, staff(w, &b, "b-staff").await);
    let c_admin = admin(w, &c, "c-admin").await;
    let scopes = [Scope::Messaging];

    assert_eq!(
        refusal(agreements::propose(s, &a_staff, b.id, &scopes).await),
        (Kind::Forbidden, "forbidden")
    );
    assert_eq!(
        refusal(agreements::propose(s, &a_admin, a.id, &scopes).await).0,
        Kind::Invalid,
        "an organization does not agree with itself"
    );
    let proposed = agreements::propose(s, &a_admin, b.id, &scopes)
        .await
        .unwrap();
    let id = proposed.agreement.id;
    assert_eq!(proposed.agreement.status, AgreementStatus::Proposed);
    assert!(proposed.proposed_by_us);
    assert_eq!(proposed.other_org_name, "Birch");
    assert_eq!(
        refusal(agreements::propose(s, &b_admin, a.id, &scopes).await),
        (Kind::Conflict, "agreement_exists")
    );

    assert_eq!(
        refusal(agreements::accept(s, &b_staff, id).await),
        (Kind::Forbidden, "forbidden")
    );
    assert_eq!(
        refusal(agreements::accept(s, &a_admin, id).await),
        (Kind::Forbidden, "forbidden"),
        "the proposer does not accept its own proposal"
    );
    assert_eq!(
        refusal(agreements::accept(s, &c_admin, id).await),
        (Kind::NotFound, "agreement_not_found"),
        "a third organization does not see it"
    );
    let accepted = agreements::accept(s, &b_admin, id).await.unwrap();
    assert_eq!(accepted.agreement.status, AgreementStatus::Active);
    assert!(!accepted.proposed_by_us);
    assert_eq!(accepted.other_org_id, a.id);
    assert_eq!(
        refusal(agreements::accept(s, &b_admin, id).await),
        (Kind::Conflict, "agreement_not_proposed")
    );

    assert_eq!(
        refusal(agreements::revoke(s, &a_staff, id).await),
        (Kind::Forbidden, "forbidden")
    );
    assert_eq!(
        refusal(agreements::revoke(s, &c_admin, id).await),
        (Kind::NotFound, "agreement_not_found")
    );
    let revoked = agreements::revoke(s, &a_admin, id).await.unwrap();
    assert_eq!(revoked.agreement.status, AgreementStatus::Revoked);
    assert_eq!(
        refusal(agreements::revoke(s, &b_admin, id).await),
        (Kind::Conflict, "agreement_revoked")
    );

    let listed = agreements::list(s, &b_staff).await.unwrap();
    assert_eq!(listed.len(), 1, "both sides list it, revoked too");
    assert_eq!(listed[0].agreement.status, AgreementStatus::Revoked);
    assert!(agreements::list(s, &c_admin).await.unwrap().is_empty());
}

async fn a_revocation_prunes_cross_organization_conversations_at_once(w: &World) {
    let s = &w.services;
    let (a, b) = (
        w.org_named("Aoba", OrgKind::Hospital).await,
        w.org_named("Birch", OrgKind::Hospital).await,
    );
    let (a_admin, a_staff) = (admin(w, &a, "a-admin").await, staff(w, &a, "a-staff").await);
    let (b_admin, b_staff) = (admin(w, &b, "b-admin").await, staff(w, &b, "b-staff").await);
    let id = in_force(s, &a_admin, &b, &b_admin, &[Scope::Messaging]).await;
    let now = Timestamp::now();
    let conversation = Conversation {
        id: renkei_core::new_id(),
        org_id: a.id,
        kind: ConversationKind::Group,
        title: Some("shared".into()),
        created_by: Some(a_staff.id),
        last_seq: 0,
        retention_days: None,
        created_at: now,
        updated_at: now,
    };
    let shared = s
        .store
        .create_conversation(
            &conversation,
            None,
            &[
                (a_staff.id, MemberRole::Admin),
                (b_staff.id, MemberRole::Member),
            ],
            None,
        )
        .await
        .unwrap();
    let own = s
        .store
        .create_conversation(
            &Conversation {
                id: renkei_core::new_id(),
                ..conversation.clone()
            },
            None,
            &[
                (a_staff.id, MemberRole::Admin),
                (a_admin.id, MemberRole::Member),
            ],
            None,
        )
        .await
        .unwrap();

    agreements::revoke(s, &b_admin, id).await.unwrap();

    assert!(matches!(
        s.store.member(shared.id, b_staff.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.store.member(shared.id, a_staff.id).await.is_ok());
    assert_eq!(s.store.members(own.id).await.unwrap().len(), 2);
    let revocations = s
        .store
        .audit_page(
            &AuditFilter {
                action: Some("agreement.revoke".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].target_id, Some(id));
}

async fn a_council_admin_invites_and_hospital_admins_opt_in(w: &World) {
    let s = &w.services;
    let council = w.org_named("Kita Council", OrgKind::Council).await;
    let (h1, h2, h3) = (
        w.org_named("Aoba", OrgKind::Hospital).await,
        w.org_named("Birch", OrgKind::Hospital).await,
        w.org_named("Cedar", OrgKind::Hospital).await,
    );
    let (c_admin, c_staff) = (
        admin(w, &council, "c-admin").await,
        staff(w, &council, "c-staff").await,
    );
    let (h1_admin, h1_staff) = (
        admin(w, &h1, "h1-admin").await,
        staff(w, &h1, "h1-staff").await,
    );
    let h2_admin = admin(w, &h2, "h2-admin").await;
    let h3_admin = admin(w, &h3, "h3-admin").await;

    assert_eq!(
        refusal(councils::invite(s, &c_staff, council.id, h1.id).await),
        (Kind::Forbidden, "forbidden")
    );
    assert_eq!(
        refusal(councils::invite(s, &c_admin, council.id, council.id).await),
        (Kind::Invalid, "not_a_hospital")
    );
    for h in [&h1, &h2] {
        councils::invite(s, &c_admin, council.id, h.id)
            .await
            .unwrap();
    }
    assert_eq!(
        refusal(councils::get(s, &h3_admin, council.id).await),
        (Kind::NotFound, "council_not_found"),
        "a hospital not invited does not see the council"
    );
    assert_eq!(
        refusal(councils::opt_in(s, &h1_staff, council.id).await),
        (Kind::Forbidden, "forbidden")
    );
    councils::opt_in(s, &h1_admin, council.id).await.unwrap();
    assert_eq!(
        refusal(councils::opt_in(s, &h1_admin, council.id).await),
        (Kind::Conflict, "already_opted_in")
    );
    councils::opt_in(s, &h2_admin, council.id).await.unwrap();
    let done = councils::create_agreements(s, &c_admin, council.id, &[Scope::Directory])
        .await
        .unwrap();
    assert_eq!(done.created, 1);
    assert!(done.council.i_administer);
    assert_eq!(done.council.scopes, Some(vec![Scope::Directory]));
    assert!(
        s.store
            .cooperates(h1.id, h2.id, Scope::Directory)
            .await
            .unwrap()
    );

    let seen = councils::get(s, &h1_staff, council.id).await.unwrap();
    assert!(!seen.i_administer);
    assert!(
        seen.members
            .iter()
            .all(|m| m.status == CouncilStatus::OptedIn)
    );
    let mine = councils::mine(s, &h1_staff).await.unwrap();
    assert_eq!(mine.len(), 1);

    councils::opt_out(s, &h2_admin, council.id).await.unwrap();
    assert!(
        !s.store
            .cooperates(h1.id, h2.id, Scope::Directory)
            .await
            .unwrap(),
        "opting out ends the council's agreements"
    );
}

async fn council_statistics_are_for_its_administrators_and_server_admins(w: &World) {
    let s = &w.services;
    let council = w.org_named("Kita Council", OrgKind::Council).await;
    let h = w.org_named("Aoba", OrgKind::Hospital).await;
    let c_admin = admin(w, &council, "c-admin").await;
    let c_staff = staff(w, &council, "c-staff").await;
    let h_admin = admin(w, &h, "h-admin").await;
    let server_admin = user(
        w,
        &h,
        "root",
        "鈴木 一",
        "すずき はじめ",
        &[Role::ServerAdmin],
    )
    .await;
    councils::invite(s, &c_admin, council.id, h.id)
        .await
        .unwrap();
    councils::opt_in(s, &h_admin, council.id).await.unwrap();
    let range = Range::default();

    for reader in [&c_admin, &server_admin] {
        let report = stats::usage_of(s, reader, council.id, &range)
            .await
            .unwrap();
        assert_eq!(report.org_id, council.id);
        let members: Vec<_> = report.members.iter().map(|m| m.org_id).collect();
        assert_eq!(members, vec![h.id], "a council's report covers its members");
        stats::seats_of(s, reader, council.id, &range)
            .await
            .unwrap();
        let file = stats::export_usage(s, reader, council.id, &range)
            .await
            .unwrap();
        assert!(file.file_name.starts_with("kita-council-usage-"));
    }
    assert_eq!(
        refusal(stats::usage_of(s, &h_admin, council.id, &range).await),
        (Kind::NotFound, "organization_not_found"),
        "a member hospital's admin does not read the council's figures"
    );
    assert_eq!(
        refusal(stats::seats_of(s, &h_admin, council.id, &range).await),
        (Kind::NotFound, "organization_not_found")
    );
    assert_eq!(
        refusal(stats::export_usage(s, &h_admin, council.id, &range).await),
        (Kind::NotFound, "organization_not_found")
    );
    assert_eq!(
        refusal(stats::usage_of(s, &c_staff, council.id, &range).await),
        (Kind::Forbidden, "forbidden"),
        "the council's own staff learn it exists, not its figures"
    );
    let backwards = Range {
        from: Some("2026-02-01".into()),
        to: Some("2026-01-01".into()),
    };
    assert_eq!(
        refusal(stats::usage_of(s, &c_admin, council.id, &backwards).await),
        (Kind::BadRequest, "invalid_range")
    );
}

/// The logins `me` finds with an empty search.
async fn everyone_seen_by(s: &Services, me: &User) -> Vec<String> {
    let found = directory::search(s, me, &DirectoryQuery::default())
        .await
        .unwrap();
    let mut names: Vec<String> = found
        .items
        .into_iter()
        .map(|e| format!("{}@{}", e.display_name, e.org_name))
        .collect();
    names.sort();
    names
}

async fn directory_scope_follows_agreements(w: &World) {
    let s = &w.services;
    let (a, b) = (
        w.org_named("Aoba", OrgKind::Hospital).await,
        w.org_named("Birch", OrgKind::Hospital).await,
    );
    let a_admin = user(
        w,
        &a,
        "a-admin",
        "青木 一",
        "あおき はじめ",
        &[Role::OrgAdmin],
    )
    .await;
    let b_admin = user(w, &b, "b-admin", "馬場 二", "ばば じ", &[Role::OrgAdmin]).await;
    let a_only = vec!["青木 一@Aoba".to_owned()];
    let both = vec!["青木 一@Aoba".to_owned(), "馬場 二@Birch".to_owned()];

    assert_eq!(everyone_seen_by(s, &a_admin).await, a_only);
    let messaging = in_force(s, &a_admin, &b, &b_admin, &[Scope::Messaging]).await;
    assert_eq!(
        everyone_seen_by(s, &a_admin).await,
        a_only,
        "messaging alone does not open the directory"
    );
    agreements::revoke(s, &a_admin, messaging).await.unwrap();
    let shared = in_force(s, &b_admin, &a, &a_admin, &[Scope::Directory]).await;
    assert_eq!(everyone_seen_by(s, &a_admin).await, both);
    assert_eq!(everyone_seen_by(s, &b_admin).await, both);
    let found = directory::search(
        s,
        &a_admin,
        &DirectoryQuery {
            q: "ばば".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].org_id, b.id);
    agreements::revoke(s, &a_admin, shared).await.unwrap();
    assert_eq!(everyone_seen_by(s, &a_admin).await, a_only);

    let not_a_member = DirectoryQuery {
        conversation_id: Some(renkei_core::new_id()),
        ..Default::default()
    };
    assert_eq!(
        refusal(directory::search(s, &a_admin, &not_a_member).await),
        (Kind::NotFound, "conversation_not_found")
    );
    let too_long = DirectoryQuery {
        q: "あ".repeat(1000),
        ..Default::default()
    };
    assert_eq!(
        refusal(directory::search(s, &a_admin, &too_long).await),
        (Kind::Invalid, "query_too_long")
    );
}

/// A new active user of `org` with `roles`, named `name` (read `kana`).
async fn user(
    w: &World,
    org: &Organization,
    login: &str,
    name: &str,
    kana: &str,
    roles: &[Role],
) -> User {
    let who = Applicant {
        display_name: name.into(),
        kana: kana.into(),
        ..applicant(login)
    };
    let input = NewUser {
        roles: roles.to_vec(),
        ..NewUser::from(who)
    };
    w.add_user(org, input).await
}

/// An organization administrator of `org`.
async fn admin(w: &World, org: &Organization, login: &str) -> User {
    user(
        w,
        org,
        login,
        "管理 太郎",
        "かんり たろう",
        &[Role::OrgAdmin],
    )
    .await
}

/// A staff member of `org` without administration roles.
async fn staff(w: &World, org: &Organization, login: &str) -> User {
    user(w, org, login, "山田 花子", "やまだ はなこ", &[]).await
}
