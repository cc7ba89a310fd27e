//! One storage scenario suite, run against SQLite always and PostgreSQL when configured.

use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{
    Conversation, ConversationKind, EventKind, MemberRole, NewMessage,
};
use renkei_core::notify::NotifyLevel;
use renkei_core::org::{Department, NewOrganization, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, User, UserPatch, UserStatus};
use renkei_store::{
    Attached, AuditFilter, ImportChange, ListedConversation, MemberMark, NewPushSubscription, Post,
    PostRefusal, Reach, SessionRecord, Store, StoreError,
};
use sqlx::{AnyConnection, Connection};

/// Runs `scenario` on a fresh SQLite store and, when configured, a fresh PostgreSQL one.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("t.db").display());
                let store = renkei_store::Store::connect(&format!("{url}?mode=rwc")).await.unwrap();
                super::$name(&store, &url).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = renkei_store::scratch::ScratchDatabase::create(stringify!($name)).await else { return };
                let store = renkei_store::Store::connect(db.url()).await.unwrap();
                super::$name(&store, db.url()).await;
                store.close().await;
            }
        }
    )+};
}

on_both_backends!(
    an_identity_providers_token_is_taken_once_until_it_expires,
    member_marks_rise_and_a_pushed_mark_behind_delivered_is_silent,
    a_devices_last_push_is_rewritten_once_a_minute_or_when_it_was_failing,
    organizations_round_trip_and_slugs_are_unique,
    users_round_trip_with_quotes_stored_literally,
    stale_user_edit_is_refused_and_changes_nothing,
    retiring_a_user_ends_their_sessions,
    failed_attempts_lock_the_account_at_the_limit,
    audit_chain_verifies_and_detects_tampering,
    audit_pages_filter_by_org_and_action,
    migrations_are_idempotent,
    posts_get_gap_free_numbers_and_resends_are_not_duplicated,
    refused_posts_change_nothing,
    a_large_batch_over_several_conversations_numbers_each_gap_free,
    timeline_replays_edits_deletions_and_membership,
    read_marks_only_move_forward,
    search_finds_parts_of_words_in_member_conversations_only,
    instances_indexed_together_commit_together_and_resends_are_found,
    usage_counters_follow_what_is_created,
    seats_follow_every_lifecycle_change,
    an_import_with_one_stale_row_keeps_none,
    a_conversations_retention_expires_its_links_not_the_object,
    sign_in_failures_count_per_typed_login_and_a_release_forgets_them,
    a_password_change_ends_every_other_session,
    the_active_users_page_leaves_out_applicants_and_retired_users,
    a_change_whose_audit_entry_fails_is_rolled_back_with_it,
    gateways_and_dicom_peers_are_not_kept_without_their_audit_entry,
    sign_in_sign_out_and_unlock_are_not_kept_without_their_audit_entry,
    sessions_seen_together_move_forward_and_a_locked_one_stays_put,
    the_one_statement_list_reads_what_each_conversation_shows,
);

fn event(action: &'static str) -> AuditEvent {
    AuditEvent::new(action, None, None, "test", None)
}

async fn org(store: &Store, slug: &str) -> Organization {
    let org = NewOrganization {
        name: format!("Hospital {slug}"),
        slug: Some(slug.into()),
        kind: None,
    }
    .build(Timestamp::now())
    .unwrap();
    store.insert_org(&org, &event("org.create")).await.unwrap();
    org
}

async fn user(store: &Store, org: &Organization, login: &str) -> User {
    let user = NewUser::from(Applicant {
        login: login.into(),
        display_name: "田中 一郎".into(),
        kana: "たなか いちろう".into(),
        romaji: None,
        profession: Profession::Doctor,
        department_id: None,
        email: None,
        phone: None,
        password: "a long password".into(),
    })
    .build(org.id, Timestamp::now())
    .unwrap();
    store
        .insert_user(&user, "$argon2id$fake", &event("user.create"))
        .await
        .unwrap();
    user
}

/// Single sign-on remembers the nonces and logout-token ids it took: a second use is refused
/// until the token expires, per issuer.
async fn an_identity_providers_token_is_taken_once_until_it_expires(store: &Store, _url: &str) {
    let issuer = "https://login.example-hospital.jp";
    let now = Timestamp(1_000_000);
    let expires = Timestamp(now.millis() + 60_000);
    store
        .use_sso_token(issuer, "nonce:abc", expires, now)
        .await
        .unwrap();
    let again = store
        .use_sso_token(issuer, "nonce:abc", expires, now)
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::Duplicate("token_replayed")),
        "{again:?}"
    );
    // Another issuer's token of the same id is its own.
    store
        .use_sso_token("https://other.example.jp", "nonce:abc", expires, now)
        .await
        .unwrap();
    // Once expired it is forgotten (the token itself is refused as expired before this).
    let later = Timestamp(expires.millis() + 1);
    store
        .use_sso_token(
            issuer,
            "nonce:abc",
            Timestamp(later.millis() + 60_000),
            later,
        )
        .await
        .unwrap();
}

async fn organizations_round_trip_and_slugs_are_unique(store: &Store, _url: &str) {
    assert_eq!(store.count_orgs().await.unwrap(), 0);
    let a = org(store, "oita-u").await;
    assert_eq!(store.org(a.id).await.unwrap(), a);
    assert_eq!(store.org_by_slug("oita-u").await.unwrap(), a);
    let mut dup = a.clone();
    dup.id = renkei_core::new_id();
    let err = store
        .insert_org(&dup, &event("org.create"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate("slug_taken")),
        "{err:?}"
    );
    assert_eq!(store.count_orgs().await.unwrap(), 1);

    let dept = Department {
        id: renkei_core::new_id(),
        org_id: a.id,
        name: "Cardiovascular Surgery".into(),
        on_call_user_id: None,
        version: 1,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    };
    store
        .insert_department(&dept, &event("department.create"))
        .await
        .unwrap();
    assert_eq!(
        store.list_departments(a.id).await.unwrap(),
        vec![dept.clone()]
    );
    assert_eq!(
        store
            .department_by_name(a.id, "Cardiovascular Surgery")
            .await
            .unwrap()
            .id,
        dept.id
    );
}

async fn users_round_trip_with_quotes_stored_literally(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let mut u = user(store, &o, "tanaka").await;
    assert_eq!(store.user(u.id).await.unwrap(), u);
    assert_eq!(store.user_by_login("TANAKA").await.unwrap(), u);
    let patch = UserPatch {
        display_name: Some("O'Brien\"; DROP TABLE users; --".into()),
        email: Some(Some("t@oita.example".into())),
        ..UserPatch::default()
    };
    let next = patch.apply(&u).unwrap();
    u = store
        .update_user(&next, u.version, &event("user.update"))
        .await
        .unwrap();
    assert_eq!(u.display_name, "O'Brien\"; DROP TABLE users; --");
    assert_eq!(u.email.as_deref(), Some("t@oita.example"));
    assert_eq!(u.version, 2);
    assert_eq!(store.list_users(o.id, 0, 10).await.unwrap(), vec![u]);
    let err = store.user_by_login("nobody").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

async fn stale_user_edit_is_refused_and_changes_nothing(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    let first = UserPatch {
        kana: Some("さとう".into()),
        ..UserPatch::default()
    }
    .apply(&u)
    .unwrap();
    let saved = store
        .update_user(&first, 1, &event("user.update"))
        .await
        .unwrap();
    let second = UserPatch {
        phone: Some(Some("1234".into())),
        ..UserPatch::default()
    }
    .apply(&u)
    .unwrap();
    let err = store
        .update_user(&second, 1, &event("user.update"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale));
    assert_eq!(store.user(u.id).await.unwrap(), saved);
}

fn session_for(user: &User, token_hash: &str) -> SessionRecord {
    SessionRecord {
        id: renkei_core::new_id(),
        user_id: user.id,
        token_hash: token_hash.into(),
        csrf_token: "csrf".into(),
        created_at: Timestamp::now(),
        last_seen_at: Timestamp::now(),
        expires_at: Timestamp::now().plus_secs(3600),
        locked: false,
        second_factor_done: false,
    }
}

async fn sessions_seen_together_move_forward_and_a_locked_one_stays_put(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    let at = |ms: i64| Timestamp(1_800_000_000_000 + ms);
    let [active, newer, locked] = ["active", "newer", "locked"].map(|hash| SessionRecord {
        last_seen_at: at(0),
        ..session_for(&u, hash)
    });
    let newer = SessionRecord {
        last_seen_at: at(90_000),
        ..newer
    };
    for s in [&active, &newer, &locked] {
        store.insert_session(s).await.unwrap();
    }
    store.lock_session(locked.id).await.unwrap();
    assert!(store.session_by_token_hash("locked").await.unwrap().locked);

    let moved = store
        .mark_sessions_seen(&[
            (active.id, at(60_000)),
            (newer.id, at(60_000)),
            (locked.id, at(60_000)),
            (renkei_core::new_id(), at(60_000)),
        ])
        .await
        .unwrap();
    assert_eq!(moved, 1, "only the active, older, unlocked session moves");
    let seen = |hash: &'static str| async move {
        store
            .session_by_token_hash(hash)
            .await
            .unwrap()
            .last_seen_at
    };
    assert_eq!(seen("active").await, at(60_000));
    assert_eq!(seen("newer").await, at(90_000), "never moved back");
    assert_eq!(
        seen("locked").await,
        at(0),
        "a locked session is seen at its unlock"
    );
    assert_eq!(store.mark_sessions_seen(&[]).await.unwrap(), 0);
}

async fn retiring_a_user_ends_their_sessions(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    let other = user(store, &o, "sato").await;
    store.insert_session(&session_for(&u, "h1")).await.unwrap();
    store.insert_session(&session_for(&u, "h2")).await.unwrap();
    store
        .insert_session(&session_for(&other, "h3"))
        .await
        .unwrap();
    let retired = UserPatch {
        status: Some(UserStatus::Retired),
        ..UserPatch::default()
    }
    .apply(&u)
    .unwrap();
    store
        .update_user(&retired, u.version, &event("user.status"))
        .await
        .unwrap();
    assert!(matches!(
        store.session_by_token_hash("h1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.session_by_token_hash("h2").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.session_by_token_hash("h3").await.unwrap().user_id,
        other.id
    );
}

async fn failed_attempts_lock_the_account_at_the_limit(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    store.insert_session(&session_for(&u, "h1")).await.unwrap();
    let until = Timestamp::now().plus_secs(60);
    for expected in 1..3 {
        let c = store
            .record_failed_attempt(u.id, 3, until, &event("auth.login_failed"))
            .await
            .unwrap();
        assert_eq!((c.failed_attempts, c.locked_until), (expected, None));
    }
    let c = store
        .record_failed_attempt(u.id, 3, until, &event("auth.login_failed"))
        .await
        .unwrap();
    assert_eq!((c.failed_attempts, c.locked_until), (0, Some(until)));
    assert!(matches!(
        store.session_by_token_hash("h1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.credentials(u.id).await.unwrap().locked_until,
        Some(until)
    );
}

async fn audit_chain_verifies_and_detects_tampering(store: &Store, url: &str) {
    let o = org(store, "oita-u").await;
    user(store, &o, "tanaka").await;
    store.append_audit(&event("auth.login")).await.unwrap();
    assert_eq!(store.verify_audit().await.unwrap(), Ok(3));
    let entries = store
        .audit_page(&AuditFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    // Tampering goes around the store, as an attacker with database access would.
    let mut conn = AnyConnection::connect(url).await.unwrap();
    sqlx::raw_sql("UPDATE audit_log SET details = '{\"x\":1}' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.verify_audit().await.unwrap().unwrap_err().seq, 2);
}

async fn audit_pages_filter_by_org_and_action(store: &Store, _url: &str) {
    let a = org(store, "aaa").await;
    let b = org(store, "bbb").await;
    for o in [&a, &b] {
        let e = AuditEvent::new("auth.login", Some(o.id), None, "user", None);
        store.append_audit(&e).await.unwrap();
        store.append_audit(&e).await.unwrap();
    }
    let filter = AuditFilter {
        org_id: Some(a.id),
        action: Some("auth.login".into()),
        ..AuditFilter::default()
    };
    let page = store.audit_page(&filter, None, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].org_id, Some(a.id));
    let next = store
        .audit_page(&filter, Some(page[0].seq), 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].seq < page[0].seq);
}

async fn migrations_are_idempotent(store: &Store, url: &str) {
    org(store, "oita-u").await;
    let again = Store::connect(url).await.unwrap();
    assert_eq!(again.count_orgs().await.unwrap(), 1);
}

async fn group(store: &Store, org: &Organization, members: &[&User]) -> Conversation {
    let conv = group_draft(org, members[0]);
    let list: Vec<_> = members.iter().map(|u| (u.id, MemberRole::Member)).collect();
    store
        .create_conversation(&conv, None, &list, None)
        .await
        .unwrap()
}

fn post(conv: &Conversation, sender: &User, client_id: &str, body: &str) -> Post {
    Post {
        conversation_id: conv.id,
        sender_id: sender.id,
        message: NewMessage {
            client_msg_id: client_id.into(),
            body: body.into(),
            reply_to: None,
            priority: renkei_core::conversation::Priority::Normal,
            mentions: vec![],
            attachments: vec![],
        },
    }
}

async fn posts_get_gap_free_numbers_and_resends_are_not_duplicated(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
    );
    let conv = group(store, &o, &[&a, &b]).await;
    assert_eq!(conv.last_seq, 2, "two member.added events");
    let batch = vec![
        post(&conv, &a, "a-1", "one"),
        post(&conv, &b, "b-1", "two"),
        post(&conv, &a, "a-1", "one again"),
    ];
    let results = store.post_batch(&batch).await.unwrap();
    let seqs: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().unwrap().message.seq)
        .collect();
    assert_eq!(seqs, vec![3, 4, 3]);
    assert!(results[2].as_ref().unwrap().duplicate);
    assert_eq!(results[2].as_ref().unwrap().message.body, "one");
    let again = store
        .post_batch(&[post(&conv, &b, "b-1", "two")])
        .await
        .unwrap();
    assert_eq!(again[0].as_ref().unwrap().message.seq, 4);
    let page = store.messages_page(conv.id, None, None, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["one", "two"]
    );
    assert_eq!(store.conversation(conv.id).await.unwrap().last_seq, 4);
}

async fn refused_posts_change_nothing(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, outsider) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let conv = group(store, &o, &[&a, &b]).await;
    let other = group(store, &o, &[&a, &outsider]).await;
    store
        .post_batch(&[post(&other, &a, "used", "elsewhere")])
        .await
        .unwrap();
    let mut reply = post(&conv, &a, "r-1", "re");
    reply.message.reply_to = Some(99);
    let mut mention = post(&conv, &a, "m-1", "@kato");
    mention.message.mentions = vec![outsider.id];
    let batch = vec![
        post(&conv, &outsider, "x-1", "let me in"),
        reply,
        mention,
        post(&conv, &a, "used", "again"),
        post(&conv, &a, "ok-1", "fine"),
    ];
    let results = store.post_batch(&batch).await.unwrap();
    let refusals: Vec<_> = results
        .iter()
        .take(4)
        .map(|r| *r.as_ref().unwrap_err())
        .collect();
    assert_eq!(
        refusals,
        vec![
            PostRefusal::NotMember,
            PostRefusal::ReplyNotFound,
            PostRefusal::MentionNotMember,
            PostRefusal::ClientIdReused
        ]
    );
    assert_eq!(
        results[4].as_ref().unwrap().message.seq,
        3,
        "refusals used no numbers"
    );
    assert_eq!(
        store
            .messages_page(conv.id, None, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_large_batch_over_several_conversations_numbers_each_gap_free(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let convs = [
        group(store, &o, &[&a, &b]).await,
        group(store, &o, &[&a, &c]).await,
        group(store, &o, &[&b, &c]).await,
    ];
    let senders = [[&a, &b], [&a, &c], [&b, &c]];
    // 300 posts round the three conversations (past any one statement's row count), with a
    // resend of the first post, a reply to a message of this very batch, a client id reused
    // in another conversation, and a refused post, all in the middle of the batch.
    let mut batch: Vec<Post> = (0..300)
        .map(|i| {
            let k = i % 3;
            post(
                &convs[k],
                senders[k][i / 3 % 2],
                &format!("m-{i}"),
                &format!("body {i}"),
            )
        })
        .collect();
    batch.insert(150, post(&convs[0], &a, "m-0", "resent"));
    let mut reply = post(&convs[1], &a, "reply", "re: the first of this batch");
    reply.message.reply_to = Some(3);
    batch.insert(151, reply);
    batch.insert(152, post(&convs[1], &a, "m-0", "same client id elsewhere"));
    batch.insert(153, post(&convs[2], &a, "outsider", "not a member"));
    let results = store.post_batch(&batch).await.unwrap();
    assert_eq!(results.len(), 304);
    let resend = results[150].as_ref().unwrap();
    assert!(resend.duplicate);
    assert_eq!(resend.message, results[0].as_ref().unwrap().message);
    assert!(
        !results[151].as_ref().unwrap().duplicate,
        "{:?}",
        results[151]
    );
    assert_eq!(results[152], Err(PostRefusal::ClientIdReused));
    assert_eq!(results[153], Err(PostRefusal::NotMember));
    for (k, conv) in convs.iter().enumerate() {
        let mine: Vec<_> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter(|p| !p.duplicate && p.message.conversation_id == conv.id)
            .collect();
        let seqs: Vec<i64> = mine.iter().map(|p| p.message.seq).collect();
        let expected: Vec<i64> = (3..3 + seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "conversation {k}: in batch order, gap-free");
        let events = store.events_after(conv.id, 2, 1_000).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            expected,
            "conversation {k}: one event per message"
        );
        let stored: Vec<_> = events.into_iter().filter_map(|e| e.message).collect();
        assert_eq!(
            stored,
            mine.iter().map(|p| p.message.clone()).collect::<Vec<_>>(),
            "conversation {k}: stored as answered"
        );
        assert_eq!(
            store.conversation(conv.id).await.unwrap().last_seq,
            2 + seqs.len() as i64
        );
    }
    assert_eq!(
        counters(store, &o).await,
        vec![
            ("conversations".to_owned(), None, 3),
            ("messages".to_owned(), None, 301),
        ],
        "each stored message counted once"
    );
    let again = store
        .post_batch(&[post(&convs[1], &a, "reply", "resent after the commit")])
        .await
        .unwrap();
    assert_eq!(again[0].as_ref().unwrap().message.reply_to, Some(3));
}

async fn timeline_replays_edits_deletions_and_membership(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let conv = group(store, &o, &[&a, &b]).await;
    store
        .post_batch(&[
            post(&conv, &a, "1", "first"),
            post(&conv, &b, "2", "second"),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .edit_message(conv.id, 3, "first, corrected", a.id, &event("message.edit"))
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        store
            .delete_message(conv.id, 4, b.id, &event("message.delete"))
            .await
            .unwrap(),
        6
    );
    assert!(matches!(
        store
            .delete_message(conv.id, 4, b.id, &event("message.delete"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .add_member(conv.id, c.id, MemberRole::Member, Some(a.id), None)
            .await
            .unwrap(),
        7
    );
    assert_eq!(
        store
            .remove_member(
                conv.id,
                b.id,
                Some(a.id),
                &event("conversation.member_removed")
            )
            .await
            .unwrap(),
        8
    );
    let events = store.events_after(conv.id, 2, 100).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.seq, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (3, EventKind::MessageCreated),
            (4, EventKind::MessageCreated),
            (5, EventKind::MessageEdited),
            (6, EventKind::MessageDeleted),
            (7, EventKind::MemberAdded),
            (8, EventKind::MemberRemoved)
        ]
    );
    assert_eq!(events[0].message.as_ref().unwrap().body, "first, corrected");
    assert!(events[0].message.as_ref().unwrap().edited_at.is_some());
    assert_eq!(
        events[1].message.as_ref().unwrap().body,
        "",
        "a deleted message loses its content"
    );
    assert_eq!(events[3].data["target_seq"], 4);
    let members: Vec<_> = store
        .members(conv.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(members, vec![a.id, c.id]);
    assert_eq!(store.events_after(conv.id, 7, 100).await.unwrap().len(), 1);
}

async fn read_marks_only_move_forward(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
    );
    let conv = group(store, &o, &[&a, &b]).await;
    store
        .post_batch(&[post(&conv, &a, "1", "one"), post(&conv, &a, "2", "two")])
        .await
        .unwrap();
    let list = store.conversations_of(b.id).await.unwrap();
    assert_eq!(
        (
            list[0].unread,
            list[0].last_message_seq,
            list[0].member_count
        ),
        (2, Some(4), 2)
    );
    assert_eq!(store.mark_read(conv.id, b.id, 3).await.unwrap(), 3);
    assert_eq!(
        store.mark_read(conv.id, b.id, 1).await.unwrap(),
        3,
        "never backwards"
    );
    assert_eq!(
        store.mark_read(conv.id, b.id, 999).await.unwrap(),
        4,
        "never past the end"
    );
    assert_eq!(store.conversations_of(b.id).await.unwrap()[0].unread, 0);
    assert_eq!(
        store.conversations_of(a.id).await.unwrap()[0].unread,
        0,
        "own messages are not unread"
    );
}

async fn member_marks_rise_and_a_pushed_mark_behind_delivered_is_silent(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let conv = group(store, &o, &[&a, &b, &c]).await;
    store
        .post_batch(&[post(&conv, &a, "1", "one"), post(&conv, &a, "2", "two")])
        .await
        .unwrap();
    let last = store.conversations_of(b.id).await.unwrap()[0]
        .last_message_seq
        .unwrap();
    let (id, bid, cid) = (conv.id, b.id, c.id);

    // b's socket got everything; c's phone only a push.
    let mut moved = store
        .raise_member_marks(
            MemberMark::Delivered,
            &[(id, bid, last), (id, cid, last - 1)],
        )
        .await
        .unwrap();
    moved.sort_by_key(|m| m.1 != bid);
    assert_eq!(moved, vec![(id, bid, last), (id, cid, last - 1)]);
    let moved = store
        .raise_member_marks(MemberMark::Pushed, &[(id, bid, last), (id, cid, last)])
        .await
        .unwrap();
    assert_eq!(moved, vec![(id, cid, last)], "b already showed delivered");
    assert_eq!(
        store.pushed_seq(id, bid).await.unwrap(),
        0,
        "a pushed mark behind delivered is not even written"
    );
    assert_eq!(store.pushed_seq(id, cid).await.unwrap(), last);

    // Never backwards, never past the newest event, nothing for a non-member.
    let stranger = user(store, &o, "kimura").await;
    let moved = store
        .raise_member_marks(
            MemberMark::Pushed,
            &[(id, cid, 1), (id, stranger.id, last), (id, bid, last + 50)],
        )
        .await
        .unwrap();
    assert!(moved.is_empty(), "{moved:?}");
    assert_eq!(store.pushed_seq(id, cid).await.unwrap(), last);
    assert_eq!(store.pushed_seq(id, bid).await.unwrap(), 0);
}

async fn a_devices_last_push_is_rewritten_once_a_minute_or_when_it_was_failing(
    store: &Store,
    _url: &str,
) {
    let o = org(store, "oita-u").await;
    let a = user(store, &o, "tanaka").await;
    let new = NewPushSubscription {
        user_id: a.id,
        session_id: None,
        endpoint: "https://fcm.googleapis.com/fcm/send/device-1".into(),
        p256dh: "key".into(),
        auth: "auth".into(),
        device_label: None,
        expiration_time: None,
    };
    let (id, _) = store
        .register_push_subscription(&new, &event("push.subscribe"))
        .await
        .unwrap();
    let last = || async { store.push_subscriptions_of(a.id).await.unwrap()[0].clone() };
    let t0 = 1_800_000_000_000;
    store.mark_pushed(&[id], Timestamp(t0)).await.unwrap();
    assert_eq!(last().await.last_pushed_at, Some(Timestamp(t0)));

    // Pushes within the minute leave the row alone; the first after it moves the mark.
    store
        .mark_pushed(&[id], Timestamp(t0 + 59_000))
        .await
        .unwrap();
    assert_eq!(last().await.last_pushed_at, Some(Timestamp(t0)));
    store
        .mark_pushed(&[id], Timestamp(t0 + 61_000))
        .await
        .unwrap();
    assert_eq!(last().await.last_pushed_at, Some(Timestamp(t0 + 61_000)));

    // A failing device that gets through again is healthy at once, within the minute too.
    store
        .mark_push_failing(id, Timestamp(t0 + 62_000))
        .await
        .unwrap();
    assert!(last().await.failing_since.is_some());
    store
        .mark_pushed(&[id], Timestamp(t0 + 63_000))
        .await
        .unwrap();
    let now = last().await;
    assert_eq!(now.failing_since, None);
    assert_eq!(now.last_pushed_at, Some(Timestamp(t0 + 63_000)));
}

async fn search_finds_parts_of_words_in_member_conversations_only(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let conv = group(store, &o, &[&a, &b]).await;
    let secret = group(store, &o, &[&c]).await;
    store
        .post_batch(&[
            post(&conv, &a, "1", "急性心筋梗塞の患者が搬送されます"),
            post(&conv, &b, "2", "Cardiology consult at 03:00, 100% urgent"),
            post(&secret, &c, "3", "心筋炎の疑い"),
        ])
        .await
        .unwrap();
    let found = |q: &'static str, who: &User| {
        let store = store.clone();
        let id = who.id;
        async move {
            store
                .search_messages(id, q, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("心筋梗塞", &a).await, vec![3]);
    assert_eq!(
        found("心筋", &a).await,
        vec![3],
        "two characters, and not the other conversation's"
    );
    assert_eq!(found("心", &c).await.len(), 1);
    assert_eq!(
        found("cardio", &b).await,
        vec![4],
        "partial and case-insensitive"
    );
    assert_eq!(found("100%", &b).await, vec![4]);
    assert_eq!(found("%", &b).await, vec![4], "wildcards are literal");
    assert!(found("\"quoted\"", &a).await.is_empty());
}

fn instance(study: &str, series: &str, sop: &str) -> renkei_store::IndexRequest {
    renkei_store::IndexRequest {
        org_id: renkei_core::Uuid::nil(),
        entry: renkei_core::dicom::IndexedInstance {
            study_uid: study.into(),
            series_uid: series.into(),
            sop_uid: sop.into(),
            sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            patient_tail: "5678".into(),
            study_date: Some("20240102".into()),
            modality: Some("CT".into()),
            body_part: None,
            study_description: None,
            series_description: None,
            series_number: Some(1),
            instance_number: Some(1),
            frames: 1,
            burned_in_risk: false,
            held: false,
            text_regions: Vec::new(),
            size: 10,
        },
        object_id: format!("dicom-{sop}"),
        key: renkei_store::blobs::WrappedKey {
            version: 1,
            sealed: "sealed".into(),
        },
        expires_at: Timestamp::now().plus_secs(3600),
    }
}

async fn instances_indexed_together_commit_together_and_resends_are_found(
    store: &Store,
    _url: &str,
) {
    use renkei_store::Indexed;
    let org = org(store, "imaging").await;
    let with_org = |mut r: renkei_store::IndexRequest| {
        r.org_id = org.id;
        r
    };
    // One batch: two new instances in two series, a resend of the first, and two instances
    // of one series of another study.
    let batch = [
        with_org(instance("1.2.3", "1.2.3.1", "1.2.3.1.1")),
        with_org(instance("1.2.3", "1.2.3.2", "1.2.3.2.1")),
        with_org(instance("1.2.3", "1.2.3.1", "1.2.3.1.1")),
        with_org(instance("7.8.9", "7.8.9.1", "7.8.9.1.1")),
        with_org(instance("7.8.9", "7.8.9.1", "7.8.9.1.2")),
    ];
    let indexed = store.index_instances(&batch).await.unwrap();
    let Indexed::New { study } = indexed[0].clone() else {
        panic!("{indexed:?}")
    };
    assert_eq!(indexed[1], Indexed::New { study });
    // What a resend is told of the instance of record: study, object, key (not when).
    let existing = |indexed: &Indexed| match indexed.clone() {
        Indexed::Existing {
            study,
            object_id,
            key,
            ..
        } => (study, object_id, key),
        other => panic!("a resend, not {other:?}"),
    };
    assert_eq!(
        existing(&indexed[2]),
        (
            study,
            "dicom-1.2.3.1.1".to_owned(),
            Some(batch[0].key.clone())
        ),
        "a resend names the object of record and its key"
    );
    let found = store.study(study).await.unwrap();
    assert_eq!((found.series_count, found.instance_count), (2, 2));
    let Indexed::New { study: other } = indexed[3].clone() else {
        panic!("{indexed:?}")
    };
    assert_ne!(other, study);
    assert_eq!(indexed[4], Indexed::New { study: other });
    let found = store.study(other).await.unwrap();
    assert_eq!((found.series_count, found.instance_count), (1, 2));
    let series = store.series_of(other).await.unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].instance_count, 2);

    // An instance whose bytes could not be stored is taken back, with its series; an object
    // that is not the instance's changes nothing.
    store
        .unindex_instance(study, "1.2.3.2.1", "dicom-other")
        .await
        .unwrap();
    assert_eq!(store.study(study).await.unwrap().instance_count, 2);
    store
        .unindex_instance(study, "1.2.3.2.1", "dicom-1.2.3.2.1")
        .await
        .unwrap();
    let found = store.study(study).await.unwrap();
    assert_eq!((found.series_count, found.instance_count), (1, 1));
    assert_eq!(store.series_of(study).await.unwrap().len(), 1);
    // A resend of an instance whose object went missing can point it at its new copy.
    let fresh = instance("1.2.3", "1.2.3.1", "1.2.3.1.1");
    store
        .repoint_instance(
            study,
            "1.2.3.1.1",
            "dicom-1.2.3.1.1",
            "dicom-copy",
            &fresh.key,
        )
        .await
        .unwrap();
    let fresh_key = fresh.key.clone();
    let again = store.index_instances(&[with_org(fresh)]).await.unwrap();
    assert_eq!(
        existing(&again[0]),
        (study, "dicom-copy".to_owned(), Some(fresh_key))
    );
    // The last instance taken back takes its study with it.
    let lone = store
        .index_instances(&[with_org(instance("4.5.6", "4.5.6.1", "4.5.6.1.1"))])
        .await
        .unwrap();
    let Indexed::New { study: lone } = lone[0].clone() else {
        panic!("{lone:?}")
    };
    store
        .unindex_instance(lone, "4.5.6.1.1", "dicom-4.5.6.1.1")
        .await
        .unwrap();
    assert!(store.study(lone).await.is_err(), "an empty study is gone");

    // A batch with an instance the database refuses (an organization that does not exist)
    // indexes nothing at all.
    let mut foreign = instance("9.9.9", "9.9.9.1", "9.9.9.1.1");
    foreign.org_id = renkei_core::new_id();
    let refused = [with_org(instance("1.2.3", "1.2.3.1", "1.2.3.1.2")), foreign];
    assert!(store.index_instances(&refused).await.is_err());
    let after = store.study(study).await.unwrap();
    assert_eq!(after.instance_count, 1, "nothing of a failed batch remains");
}

/// The counters of `org` this month: (metric, department, value).
async fn counters(store: &Store, org: &Organization) -> Vec<(String, Option<uuid::Uuid>, i64)> {
    let today = Timestamp::now().utc_day();
    let mut rows: Vec<_> = store
        .usage_by_month(&[org.id], &today, &today)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.metric.as_str().to_owned(), c.department_id, c.value))
        .collect();
    rows.sort();
    rows
}

async fn usage_counters_follow_what_is_created(store: &Store, _url: &str) {
    let (a, b) = (org(store, "oita-u").await, org(store, "beppu").await);
    let dept = Department {
        id: renkei_core::new_id(),
        org_id: a.id,
        name: "ICU".into(),
        on_call_user_id: None,
        version: 1,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    };
    store
        .insert_department(&dept, &event("department.create"))
        .await
        .unwrap();
    let mut tanaka = user(store, &a, "tanaka").await;
    let patch = UserPatch {
        department_id: Some(Some(dept.id)),
        ..UserPatch::default()
    };
    tanaka = store
        .update_user(&patch.apply(&tanaka).unwrap(), 1, &event("user.update"))
        .await
        .unwrap();
    let sato = user(store, &a, "sato").await;
    let beppu = user(store, &b, "beppu.nurse").await;
    let home = group(store, &a, &[&tanaka, &sato]).await;
    let across = group(store, &a, &[&sato, &beppu]).await;
    let batch = vec![
        post(&home, &tanaka, "t-1", "one"),
        post(&home, &sato, "s-1", "two"),
        post(&across, &sato, "s-2", "three"),
        post(&across, &beppu, "b-1", "four"),
        post(&home, &tanaka, "t-1", "a resend is not counted"),
        post(&home, &beppu, "b-2", "refused: not a member"),
    ];
    store.post_batch(&batch).await.unwrap();
    let d = Some(dept.id);
    let own = |m: &str, dept, n| (m.to_owned(), dept, n);
    assert_eq!(
        counters(store, &a).await,
        vec![
            own("conversations", None, 1),
            own("conversations", d, 1),
            own("cross_org_conversations", None, 1),
            own("cross_org_messages", None, 1),
            own("messages", None, 2),
            own("messages", d, 1),
        ]
    );
    assert_eq!(
        counters(store, &b).await,
        vec![
            own("cross_org_conversations", None, 1),
            own("cross_org_messages", None, 1),
            own("messages", None, 1),
        ],
        "the partner hospital counts its staff's messages and the shared conversation"
    );
}

async fn seats_follow_every_lifecycle_change(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let today = vec![Timestamp::now().utc_day()];
    assert!(store.seat_history(o.id, &today).await.unwrap().is_empty());
    let a = user(store, &o, "tanaka").await;
    user(store, &o, "sato").await;
    let seats = &store.seat_history(o.id, &today).await.unwrap()[0];
    assert_eq!((seats.active, seats.peak), (2, 2));
    assert_eq!(seats.by_profession.get("doctor"), Some(&2));
    let retire = UserPatch {
        status: Some(UserStatus::Retired),
        ..UserPatch::default()
    };
    store
        .update_user(&retire.apply(&a).unwrap(), 1, &event("user.status"))
        .await
        .unwrap();
    let seats = &store.seat_history(o.id, &today).await.unwrap()[0];
    assert_eq!(
        (seats.active, seats.peak),
        (1, 2),
        "retiring frees the seat at once; the day's peak stays"
    );
    // A later day without changes carries the count forward.
    let later = renkei_core::stats::days_between(&today[0], "2099-01-02", 100_000).unwrap();
    let tail = store.seat_history(o.id, &later).await.unwrap();
    assert_eq!(
        tail.last().map(|d| (d.day.as_str(), d.active, d.peak)),
        Some(("2099-01-02", 1, 1))
    );
}

async fn an_import_with_one_stale_row_keeps_none(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let sato = user(store, &o, "sato").await;
    let fresh = NewUser {
        staff_number: Some("E-9".into()),
        ..NewUser::from(Applicant {
            login: "kato".into(),
            display_name: "加藤".into(),
            kana: String::new(),
            romaji: None,
            profession: Profession::Nurse,
            department_id: None,
            email: None,
            phone: None,
            password: "a long password".into(),
        })
    }
    .build(o.id, Timestamp::now())
    .unwrap();
    let mut renamed = sato.clone();
    renamed.display_name = "佐藤 花子".into();
    let changes = [
        ImportChange::Create {
            user: fresh.clone(),
            password_hash: "$argon2id$fake".into(),
            audit: event("user.create"),
        },
        ImportChange::Update {
            next: renamed,
            version: sato.version + 1,
            audit: event("user.update"),
        },
    ];
    let err = store.apply_import(o.id, &changes).await.unwrap_err();
    assert!(matches!(err, StoreError::Stale), "{err:?}");
    assert!(
        matches!(store.user(fresh.id).await, Err(StoreError::NotFound)),
        "the created row was rolled back"
    );
    assert_eq!(store.user(sato.id).await.unwrap(), sato);
    let all = store.users_of(o.id, None).await.unwrap();
    assert_eq!(all.len(), 1);
    // With the right version both apply, and the staff number is unique in the organization.
    let mut renamed = sato.clone();
    renamed.display_name = "佐藤 花子".into();
    let ok = [
        changes[0].clone(),
        ImportChange::Update {
            next: renamed,
            version: sato.version,
            audit: event("user.update"),
        },
    ];
    store.apply_import(o.id, &ok).await.unwrap();
    assert_eq!(store.users_of(o.id, None).await.unwrap().len(), 2);
    let mut clash = fresh.clone();
    clash.id = renkei_core::new_id();
    clash.login = "kato2".into();
    let err = store
        .apply_import(
            o.id,
            &[ImportChange::Create {
                user: clash,
                password_hash: "x".into(),
                audit: event("user.create"),
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate("staff_number_taken")),
        "{err:?}"
    );
}

async fn a_conversations_retention_expires_its_links_not_the_object(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let now = Timestamp::now();
    let media = renkei_core::media::Media {
        id: renkei_core::new_id(),
        org_id: o.id,
        uploader_id: a.id,
        kind: renkei_core::media::MediaKind::Photo,
        mime: "image/jpeg".into(),
        name: "wound.jpg".into(),
        size: 10,
        width: None,
        height: None,
        has_thumbnail: false,
        created_at: now,
        expires_at: now.plus_secs(3 * 86_400),
        expired: false,
    };
    let uploaded = AuditEvent::new(
        "media.upload",
        Some(o.id),
        Some(a.id),
        "media",
        Some(media.id),
    );
    store.insert_media(&media, &[], &uploaded).await.unwrap();
    let (short, kept) = (
        group(store, &o, &[&a, &b]).await,
        group(store, &o, &[&a, &b]).await,
    );
    let with_photo = |conv: &Conversation, id: &str| {
        let mut p = post(conv, &a, id, "photo");
        p.message.attachments = vec![renkei_core::conversation::Attachment {
            kind: "media".into(),
            id: media.id,
            name: None,
            key_image: None,
        }];
        p
    };
    for result in store
        .post_batch(&[with_photo(&short, "p-1"), with_photo(&kept, "p-2")])
        .await
        .unwrap()
    {
        result.unwrap();
    }
    store
        .set_retention(
            short.id,
            1,
            Some(a.id),
            &event("conversation.retention_changed"),
        )
        .await
        .unwrap();
    // Posted after the change: the same retention applies.
    store
        .post_batch(&[with_photo(&short, "p-3")])
        .await
        .unwrap()[0]
        .as_ref()
        .unwrap();
    assert_eq!(
        store.media(media.id).await.unwrap().expires_at,
        media.expires_at,
        "a conversation's retention never moves the object's own expiry"
    );
    let reach = |conv: Option<&Conversation>, who: &User, at: Timestamp| {
        store.reach(Attached::Media, media.id, who.id, conv.map(|c| c.id), at)
    };
    let later = now.plus_secs(86_400 + 60);
    assert_eq!(reach(Some(&short), &b, now).await.unwrap(), Reach::Live);
    assert_eq!(
        reach(Some(&short), &b, later).await.unwrap(),
        Reach::Expired
    );
    assert_eq!(reach(Some(&kept), &b, later).await.unwrap(), Reach::Live);
    assert_eq!(reach(None, &b, later).await.unwrap(), Reach::Live);
    assert_eq!(
        reach(None, &c, now).await.unwrap(),
        Reach::Unlinked,
        "not a member"
    );
    // The sweep hides both links of the short conversation, and destroys nothing.
    let swept = store.expire_due(Attached::Media, later, 10).await.unwrap();
    assert_eq!((swept.links, swept.records.len()), (2, 0));
    let again = store.expire_due(Attached::Media, later, 10).await.unwrap();
    assert_eq!(again, renkei_store::Expired::default());
    assert_eq!(reach(Some(&short), &b, now).await.unwrap(), Reach::Expired);
    assert!(!store.media(media.id).await.unwrap().expired);
    // Without its other conversation, the member reaches it only through expired links.
    let only_short = group(store, &o, &[&a, &c]).await;
    store
        .post_batch(&[with_photo(&only_short, "p-4")])
        .await
        .unwrap()[0]
        .as_ref()
        .unwrap();
    store
        .set_retention(
            only_short.id,
            1,
            None,
            &event("conversation.retention_changed"),
        )
        .await
        .unwrap();
    store.expire_due(Attached::Media, later, 10).await.unwrap();
    assert_eq!(reach(None, &c, now).await.unwrap(), Reach::Expired);
}

const BACKOFF: renkei_core::sign_in::Backoff = renkei_core::sign_in::Backoff {
    free_attempts: 2,
    first_wait_secs: 10,
    max_wait_secs: 100,
    forget_after_secs: 3600,
};

async fn sign_in_failures_count_per_typed_login_and_a_release_forgets_them(
    store: &Store,
    _url: &str,
) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    store.insert_session(&session_for(&u, "h1")).await.unwrap();
    let now = Timestamp(1_000_000_000);
    let fail = |login: &'static str, at: Timestamp| async move {
        store
            .record_sign_in_failure(login, &BACKOFF, at, &event("auth.login_failed"))
            .await
            .unwrap()
    };
    // Counted the same for a login nobody has and for tanaka's; the wait doubles.
    for login in ["tanaka", "nobody"] {
        let mut got = Vec::new();
        for _ in 0..4 {
            let f = fail(login, now).await;
            got.push((f.failures, f.wait_until, f.attempts_left));
        }
        assert_eq!(
            got,
            [
                (1, None, 1),
                (2, Some(now.plus_secs(10)), 0),
                (3, Some(now.plus_secs(20)), 0),
                (4, Some(now.plus_secs(40)), 0),
            ],
            "{login}"
        );
        let kept = store.sign_in_failures(login).await.unwrap().unwrap();
        assert_eq!(
            (kept.failures, kept.wait_until),
            (4, Some(now.plus_secs(40)))
        );
    }
    // No session ended.
    assert!(store.session_by_token_hash("h1").await.is_ok());
    // Administrators see their own users held, not unknown logins.
    let holds = store.sign_in_holds(o.id, Timestamp(0), now).await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(
        (holds[0].user_id, holds[0].failures, holds[0].wait_until),
        (u.id, 4, Some(now.plus_secs(40)))
    );
    // A quiet spell starts the count again, and drops other old rows.
    let later = now.plus_secs(3601);
    let f = fail("tanaka", later).await;
    assert_eq!((f.failures, f.wait_until), (1, None));
    assert_eq!(store.sign_in_failures("nobody").await.unwrap(), None);
    // A release forgets wrong passwords and lifts a passcode lock too.
    store
        .record_failed_attempt(u.id, 1, later.plus_secs(60), &event("auth.unlock_failed"))
        .await
        .unwrap();
    let held = store
        .sign_in_holds(o.id, Timestamp(0), later)
        .await
        .unwrap();
    assert_eq!(held[0].locked_until, Some(later.plus_secs(60)));
    store
        .release_sign_in(u.id, "tanaka", &event("user.sign_in_released"))
        .await
        .unwrap();
    assert_eq!(store.sign_in_failures("tanaka").await.unwrap(), None);
    assert_eq!(store.credentials(u.id).await.unwrap().locked_until, None);
    assert_eq!(
        store
            .sign_in_holds(o.id, Timestamp(0), later)
            .await
            .unwrap(),
        vec![]
    );
}

async fn a_password_change_ends_every_other_session(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    let other = user(store, &o, "sato").await;
    let keep = session_for(&u, "h1");
    for s in [&keep, &session_for(&u, "h2"), &session_for(&other, "h3")] {
        store.insert_session(s).await.unwrap();
    }
    store
        .set_password(
            u.id,
            "$argon2id$new",
            false,
            Some(keep.id),
            &event("auth.password_changed"),
        )
        .await
        .unwrap();
    assert!(store.session_by_token_hash("h1").await.is_ok());
    assert!(matches!(
        store.session_by_token_hash("h2").await,
        Err(StoreError::NotFound)
    ));
    assert!(store.session_by_token_hash("h3").await.is_ok());
    assert_eq!(
        store.credentials(u.id).await.unwrap().password_hash,
        "$argon2id$new"
    );
}

async fn the_active_users_page_leaves_out_applicants_and_retired_users(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let active = user(store, &o, "tanaka").await;
    for (login, status) in [
        ("pending1", UserStatus::Pending),
        ("gone", UserStatus::Retired),
    ] {
        let mut u = user(store, &o, login).await;
        let version = u.version;
        u.status = status;
        store
            .update_user(&u, version, &event("user.status"))
            .await
            .unwrap();
    }
    let page = store.list_active_users(o.id, 0, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![active.id]
    );
    assert_eq!(store.list_users(o.id, 0, 10).await.unwrap().len(), 3);
}

/// Moves the audit chain's head back onto a number already taken (or forward again), so the
/// next entry cannot be written: a failure injected between a change and its entry.
async fn shift_audit_head(url: &str, by: i64) {
    let mut conn = AnyConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_head SET seq = seq + ({by}) WHERE id = 1"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
}

async fn a_change_whose_audit_entry_fails_is_rolled_back_with_it(store: &Store, url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    let conv = group(store, &o, &[&a, &b]).await;
    store
        .post_batch(&[post(&conv, &a, "1", "first")])
        .await
        .unwrap();
    store.append_audit(&event("test.seed")).await.unwrap();
    let all = AuditFilter::default();
    let entries = store.audit_page(&all, None, 1000).await.unwrap().len();
    let last_seq = store.conversation(conv.id).await.unwrap().last_seq;

    shift_audit_head(url, -1).await;
    let failed = [
        store
            .edit_message(conv.id, 3, "changed", a.id, &event("message.edit"))
            .await
            .err(),
        store
            .delete_message(conv.id, 3, a.id, &event("message.delete"))
            .await
            .err(),
        store
            .add_member(
                conv.id,
                c.id,
                MemberRole::Member,
                Some(a.id),
                Some(&event("conversation.member_added")),
            )
            .await
            .err(),
        store
            .remove_member(
                conv.id,
                b.id,
                Some(a.id),
                &event("conversation.member_removed"),
            )
            .await
            .err(),
        store
            .set_member_role(
                conv.id,
                b.id,
                MemberRole::Admin,
                Some(a.id),
                &event("conversation.member_role_changed"),
            )
            .await
            .err(),
        store
            .set_title(
                conv.id,
                "renamed",
                Some(a.id),
                &event("conversation.renamed"),
            )
            .await
            .err(),
        store
            .set_retention(
                conv.id,
                1,
                Some(a.id),
                &event("conversation.retention_changed"),
            )
            .await
            .err(),
    ];
    assert!(failed.iter().all(Option::is_some), "{failed:?}");
    let for_others = group_draft(&o, &a);
    assert!(
        store
            .create_conversation(
                &for_others,
                None,
                &[(b.id, MemberRole::Member)],
                Some(&event("conversation.create_for_others")),
            )
            .await
            .is_err()
    );
    shift_audit_head(url, 1).await;

    // Neither the changes nor their entries were kept.
    let message = store.message(conv.id, 3).await.unwrap();
    assert_eq!(message.body, "first");
    assert!(message.edited_at.is_none() && message.deleted_at.is_none());
    let kept = store.conversation(conv.id).await.unwrap();
    assert_eq!(kept.last_seq, last_seq, "no timeline event was kept");
    assert_eq!(kept.title.as_deref(), Some("ICU night"));
    assert_eq!(kept.retention_days, None);
    assert!(
        store
            .events_after(conv.id, last_seq, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let members: Vec<_> = store
        .members(conv.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(members.len(), 2);
    assert!(
        store
            .members(conv.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.role == MemberRole::Member),
        "no role change was kept"
    );
    assert!(members.contains(&b.id) && !members.contains(&c.id));
    assert!(matches!(
        store.conversation(for_others.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.audit_page(&all, None, 1000).await.unwrap().len(),
        entries
    );
    assert_eq!(store.verify_audit().await.unwrap(), Ok(entries as i64));

    // Once the entry can be written, the same change commits with it.
    store
        .edit_message(conv.id, 3, "changed", a.id, &event("message.edit"))
        .await
        .unwrap();
    assert_eq!(store.message(conv.id, 3).await.unwrap().body, "changed");
    let newest = store.audit_page(&all, None, 1).await.unwrap();
    assert_eq!(newest[0].action, "message.edit");
    assert_eq!(store.verify_audit().await.unwrap(), Ok(entries as i64 + 1));
}

/// A group conversation not stored yet, created by `by`.
fn group_draft(org: &Organization, by: &User) -> Conversation {
    Conversation {
        id: renkei_core::new_id(),
        org_id: org.id,
        kind: ConversationKind::Group,
        title: Some("ICU night".into()),
        created_by: Some(by.id),
        last_seq: 0,
        retention_days: None,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    }
}

async fn gateways_and_dicom_peers_are_not_kept_without_their_audit_entry(store: &Store, url: &str) {
    use renkei_core::dicom::{NewDicomPeer, NewGateway};
    let o = org(store, "oita-u").await;
    let now = Timestamp::now();
    let gateway = |name: &str| NewGateway { name: name.into() }.build(o.id, now).unwrap();
    let peer = |ae: &str| {
        NewDicomPeer {
            ae_title: ae.into(),
            allow: vec!["10.0.0.1".into()],
            allow_any_address: false,
        }
        .build(o.id, now)
        .unwrap()
    };
    store
        .insert_gateway(&gateway("kept"), "hash-kept", &event("gateway.add"))
        .await
        .unwrap();
    store
        .insert_dicom_peer(&peer("KEPT"), &event("dicom_peer.add"))
        .await
        .unwrap();
    let all = AuditFilter::default();
    let entries = store.audit_page(&all, None, 1000).await.unwrap().len();

    shift_audit_head(url, -1).await;
    let failed = [
        store
            .insert_gateway(&gateway("lost"), "hash-lost", &event("gateway.add"))
            .await
            .err(),
        store
            .delete_gateway(o.id, "kept", |_| event("gateway.remove"))
            .await
            .err(),
        store
            .insert_dicom_peer(&peer("LOST"), &event("dicom_peer.add"))
            .await
            .err(),
        store
            .delete_dicom_peer(o.id, "KEPT", &event("dicom_peer.remove"))
            .await
            .err(),
        store
            .update_dicom_peer_allow(o.id, "KEPT", &[], &event("dicom_peer.allow"))
            .await
            .err(),
    ];
    shift_audit_head(url, 1).await;
    assert!(failed.iter().all(Option::is_some), "{failed:?}");

    let names: Vec<_> = store
        .gateways(o.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["kept"]);
    assert!(store.gateway_by_token("hash-kept").await.is_ok());
    let peers = store.dicom_peers(o.id).await.unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].ae_title, "KEPT");
    assert_eq!(
        peers[0].allow,
        ["10.0.0.1/32"],
        "the allow list is unchanged"
    );
    assert_eq!(
        store.audit_page(&all, None, 1000).await.unwrap().len(),
        entries
    );
    assert_eq!(store.verify_audit().await.unwrap(), Ok(entries as i64));
}

/// A member's list read conversation by conversation: the summaries, the notification levels,
/// and one read of each newest message (what the list did before it was one statement).
async fn list_read_one_by_one(store: &Store, user: &User) -> Vec<ListedConversation> {
    let levels = store.notify_levels(user.id).await.unwrap();
    let mut out = Vec::new();
    for summary in store.conversations_of(user.id).await.unwrap() {
        let last_message = match summary.last_message_seq {
            Some(seq) => Some(store.message(summary.conversation.id, seq).await.unwrap()),
            None => None,
        };
        out.push(ListedConversation {
            notify: levels[&summary.conversation.id],
            last_message,
            summary,
        });
    }
    out
}

async fn the_one_statement_list_reads_what_each_conversation_shows(store: &Store, _url: &str) {
    let o = org(store, "oita-u").await;
    let (a, b, c) = (
        user(store, &o, "tanaka").await,
        user(store, &o, "sato").await,
        user(store, &o, "kato").await,
    );
    // Unread: two messages by others, one of them read.
    let unread = group(store, &o, &[&a, &b, &c]).await;
    store
        .post_batch(&[
            post(&unread, &b, "u1", "one"),
            post(&unread, &c, "u2", "two"),
        ])
        .await
        .unwrap();
    store.mark_read(unread.id, a.id, 4).await.unwrap();
    // Read: everything read, the last message my own.
    let read = group(store, &o, &[&a, &b]).await;
    store
        .post_batch(&[post(&read, &b, "r1", "hello"), post(&read, &a, "r2", "hi")])
        .await
        .unwrap();
    store.mark_read(read.id, a.id, 99).await.unwrap();
    // Direct, its last message edited.
    let pair = Conversation {
        id: renkei_core::new_id(),
        org_id: o.id,
        kind: ConversationKind::Direct,
        title: None,
        created_by: Some(a.id),
        last_seq: 0,
        retention_days: None,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    };
    let key = renkei_core::conversation::direct_key(a.id, c.id);
    let direct = store
        .create_conversation(
            &pair,
            Some(&key),
            &[(a.id, MemberRole::Member), (c.id, MemberRole::Member)],
            None,
        )
        .await
        .unwrap();
    store
        .post_batch(&[post(&direct, &c, "d1", "call me")])
        .await
        .unwrap();
    store
        .edit_message(direct.id, 3, "call me back", c.id, &event("message.edit"))
        .await
        .unwrap();
    // Retention shortened and muted, its last message deleted.
    let muted = group(store, &o, &[&a, &b]).await;
    store
        .post_batch(&[post(&muted, &b, "m1", "gone soon")])
        .await
        .unwrap();
    store
        .delete_message(muted.id, 3, b.id, &event("message.delete"))
        .await
        .unwrap();
    store
        .set_retention(
            muted.id,
            7,
            Some(b.id),
            &event("conversation.retention_changed"),
        )
        .await
        .unwrap();
    store
        .set_notify_level(muted.id, a.id, NotifyLevel::Mute)
        .await
        .unwrap();
    // Mentions only, no message yet; and I am admin there.
    let quiet = group(store, &o, &[&c, &a]).await;
    store
        .set_member_role(
            quiet.id,
            a.id,
            MemberRole::Admin,
            Some(c.id),
            &event("conversation.member_role_changed"),
        )
        .await
        .unwrap();
    store
        .set_notify_level(quiet.id, a.id, NotifyLevel::Mentions)
        .await
        .unwrap();
    // Not mine: never in it, or removed from it.
    let others = group(store, &o, &[&b, &c]).await;
    let left = group(store, &o, &[&b, &a]).await;
    store
        .remove_member(
            left.id,
            a.id,
            Some(b.id),
            &event("conversation.member_removed"),
        )
        .await
        .unwrap();

    let list = store.conversation_list(a.id).await.unwrap();
    assert_eq!(list, list_read_one_by_one(store, &a).await);
    let shown: Vec<_> = list.iter().map(|l| l.summary.conversation.id).collect();
    let mut expected = vec![unread.id, read.id, direct.id, muted.id, quiet.id];
    expected.sort();
    let mut sorted = shown.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "my conversations only");
    let find = |id| {
        list.iter()
            .find(|l| l.summary.conversation.id == id)
            .unwrap()
    };
    assert_eq!(find(unread.id).summary.unread, 1);
    assert_eq!(find(read.id).summary.unread, 0);
    assert_eq!(find(read.id).last_message.as_ref().unwrap().body, "hi");
    let call = find(direct.id);
    assert_eq!(call.summary.conversation.kind, ConversationKind::Direct);
    assert_eq!(call.summary.member_count, 2);
    assert!(call.last_message.as_ref().unwrap().edited_at.is_some());
    let gone = find(muted.id);
    assert_eq!(
        (gone.notify, gone.summary.conversation.retention_days),
        (NotifyLevel::Mute, Some(7))
    );
    assert!(gone.last_message.as_ref().unwrap().deleted_at.is_some());
    assert_eq!(gone.summary.unread, 0, "a deleted message is not unread");
    let q = find(quiet.id);
    assert_eq!(
        (q.notify, q.summary.me.role, q.last_message.is_none()),
        (NotifyLevel::Mentions, MemberRole::Admin, true)
    );

    for listed in &list {
        let id = listed.summary.conversation.id;
        assert_eq!(&store.listed_conversation(a.id, id).await.unwrap(), listed);
    }
    for id in [others.id, left.id, renkei_core::new_id()] {
        assert!(matches!(
            store.listed_conversation(a.id, id).await,
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(
        store.conversation_list(b.id).await.unwrap(),
        list_read_one_by_one(store, &b).await
    );
}

async fn sign_in_sign_out_and_unlock_are_not_kept_without_their_audit_entry(
    store: &Store,
    url: &str,
) {
    let o = org(store, "oita-u").await;
    let u = user(store, &o, "tanaka").await;
    let open = SessionRecord {
        locked: true,
        ..session_for(&u, "open")
    };
    store.insert_session(&open).await.unwrap();
    let all = AuditFilter::default();
    let entries = store.audit_page(&all, None, 1000).await.unwrap().len();

    shift_audit_head(url, -1).await;
    let new = session_for(&u, "new");
    let failed = [
        store.open_session(&new, &event("auth.login")).await.err(),
        store
            .close_session(open.id, &event("auth.logout"))
            .await
            .err(),
        store
            .unlock_session(&open, Timestamp::now(), &event("auth.unlock"))
            .await
            .err(),
    ];
    assert!(failed.iter().all(Option::is_some), "{failed:?}");
    shift_audit_head(url, 1).await;

    assert!(matches!(
        store.session_by_token_hash("new").await,
        Err(StoreError::NotFound)
    ));
    let kept = store.session_by_token_hash("open").await.unwrap();
    assert!(kept.locked, "the session stayed locked");
    assert_eq!(
        store.audit_page(&all, None, 1000).await.unwrap().len(),
        entries
    );

    // With the chain intact, each writes its change and its entry.
    store
        .unlock_session(&open, Timestamp::now(), &event("auth.unlock"))
        .await
        .unwrap();
    assert!(!store.session_by_token_hash("open").await.unwrap().locked);
    store
        .open_session(&new, &event("auth.login"))
        .await
        .unwrap();
    store
        .close_session(open.id, &event("auth.logout"))
        .await
        .unwrap();
    assert!(store.session_by_token_hash("new").await.is_ok());
    assert!(matches!(
        store.session_by_token_hash("open").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.audit_page(&all, None, 1000).await.unwrap().len(),
        entries + 3
    );
}
