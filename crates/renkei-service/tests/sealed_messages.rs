//! Messages sealed at rest (issue 24): words planted in bodies, edits and deletions are read
//! through the services only, never in the database file, its write-ahead log, the blobs or a
//! backup (SQLite), nor in any row (PostgreSQL); once the organization's message retention
//! runs out, nowhere at all. Bodies stored before sealing are sealed at the next start.

#[macro_use]
mod common;

use common::World;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{ConversationKind, EventKind, NewMessage, Priority};
use renkei_core::org::{Organization, OrganizationPatch, Policy};
use renkei_core::user::{Role, User};
use renkei_core::{Uuid, new_id};
use renkei_service::Services;
use renkei_service::accounts;
use renkei_service::admin::audit::{self, AuditQuery};
use renkei_service::conversations::{self, NewConversation};
use renkei_service::messages;
use renkei_store::{AuditFilter, Backend, Store};
use serde_json::json;
use sqlx::{AnyConnection, Connection, Row};

on_both_backends!(
    planted_words_are_read_through_the_services_only_and_nowhere_once_expired,
    a_day_of_messages_is_kept_for_the_whole_retention_and_newer_ones_stay,
    bodies_stored_before_sealing_are_sealed_at_the_next_start,
);

/// Words no other part of a database holds, in bodies (kept), edits (before and after) and
/// deletions.
const POSTED: &str = "検査結果ZQXPOSTED";
const BEFORE_EDIT: &str = "編集前ZQXBEFORE";
const AFTER_EDIT: &str = "編集後ZQXAFTER";
const DELETED: &str = "削除済ZQXDELETED";
const PLANTED: [&str; 4] = [POSTED, BEFORE_EDIT, AFTER_EDIT, DELETED];

struct Ward {
    admin: User,
    doctor: User,
    nurse: User,
    org: Organization,
    conv: Uuid,
}

async fn ward(world: &World, slug: &str) -> Ward {
    let org = world.org(slug).await;
    let admin = world
        .user(&org, &format!("{slug}-admin"), &[Role::OrgAdmin])
        .await;
    let doctor = world.user(&org, &format!("{slug}-dr"), &[]).await;
    let nurse = world.user(&org, &format!("{slug}-ns"), &[]).await;
    let conv = conversations::create(
        &world.services,
        &doctor,
        NewConversation {
            kind: ConversationKind::Group,
            title: Some("病棟".into()),
            member_ids: vec![nurse.id],
            admin_ids: vec![],
            include_me: true,
        },
    )
    .await
    .unwrap()
    .view
    .conversation
    .id;
    Ward {
        admin,
        doctor,
        nurse,
        org,
        conv,
    }
}

fn message(body: &str) -> NewMessage {
    NewMessage {
        client_msg_id: new_id().to_string(),
        body: body.into(),
        reply_to: None,
        priority: Priority::Normal,
        mentions: vec![],
        attachments: vec![],
    }
}

async fn post(services: &Services, w: &Ward, body: &str) -> i64 {
    services
        .messaging
        .post(w.doctor.id, w.conv, message(body))
        .await
        .unwrap()
        .message
        .seq
}

/// Posts one kept message, one edited and one deleted; returns their numbers.
async fn plant(services: &Services, w: &Ward) -> (i64, i64, i64) {
    let kept = post(services, w, POSTED).await;
    let edited = post(services, w, BEFORE_EDIT).await;
    messages::edit(services, &w.doctor, w.conv, edited, AFTER_EDIT)
        .await
        .unwrap();
    let deleted = post(services, w, DELETED).await;
    messages::delete(services, &w.doctor, w.conv, deleted)
        .await
        .unwrap();
    (kept, edited, deleted)
}

/// Which of `words` the raw bytes of every file under `dir` hold (database, write-ahead log,
/// blobs, backups).
fn in_files(dir: &std::path::Path, words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap().flatten() {
                stack.push(entry.path());
            }
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for word in words {
            // The whole word, and its ASCII and Japanese halves apart.
            let ascii = word.trim_start_matches(|c: char| !c.is_ascii());
            let japanese = word.trim_end_matches(|c: char| c.is_ascii());
            for part in [*word, ascii, japanese] {
                if bytes.windows(part.len()).any(|w| w == part.as_bytes()) {
                    found.push(format!("{part} in {}", path.display()));
                }
            }
        }
    }
    found
}

/// Which of `words` any row of any table holds, as PostgreSQL prints the row.
async fn in_rows(world: &World, words: &[&str]) -> Vec<String> {
    let mut conn = AnyConnection::connect(&world.url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("name").unwrap())
    .collect();
    let mut found = Vec::new();
    for table in tables {
        let sql = format!("SELECT t::text AS r FROM \"{table}\" t");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            let text: String = row.try_get("r").unwrap();
            found.extend(
                words
                    .iter()
                    .filter(|w| text.contains(**w))
                    .map(|w| format!("{w} in {table}")),
            );
        }
    }
    conn.close().await.unwrap();
    found
}

/// Where `words` are readable outside the services of `store`: files (and a backup) on
/// SQLite, rows on PostgreSQL (and the scratch folder's files: blobs).
async fn readable_at_rest(world: &World, store: &Store, words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    if store.backend() == Backend::Sqlite {
        let backup = world.dir().join(format!("backup-{}.db", new_id()));
        store.backup_to(&backup).await.unwrap();
    } else {
        found.extend(in_rows(world, words).await);
    }
    found.extend(in_files(world.dir(), words));
    found
}

async fn history_bodies(services: &Services, me: &User, conv: Uuid) -> Vec<String> {
    messages::history(services, me, conv, None, None, Some(200))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect()
}

async fn found(services: &Services, me: &User, q: &str) -> Vec<String> {
    messages::search(services, me, q, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect()
}

/// The `before` of the newest audit entry of `action`.
async fn audit_copy(services: &Services, admin: &User, action: &str) -> serde_json::Value {
    let entries = audit::list(
        services,
        admin,
        &AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let details: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
    details["before"].clone()
}

async fn keep_messages_for(world: &World, org: &Organization, days: i64) {
    let org = world.store().org(org.id).await.unwrap();
    accounts::update_org(
        world.store(),
        None,
        &org,
        OrganizationPatch {
            version: None,
            name: None,
            slug: None,
            policy: Some(Policy {
                message_retention_days: Some(days),
                ..org.policy
            }),
        },
        org.version,
    )
    .await
    .unwrap();
}

async fn planted_words_are_read_through_the_services_only_and_nowhere_once_expired(world: &World) {
    let s = &world.services;
    let w = ward(world, "seal").await;
    let (kept, edited, _) = plant(s, &w).await;

    // Before expiry: through the services, and nowhere at rest.
    let bodies = history_bodies(s, &w.nurse, w.conv).await;
    assert!(bodies.contains(&POSTED.to_owned()), "{bodies:?}");
    assert!(bodies.contains(&AFTER_EDIT.to_owned()), "{bodies:?}");
    assert_eq!(found(s, &w.nurse, "検査結果").await, vec![POSTED]);
    assert_eq!(found(s, &w.nurse, "zqxposted").await, vec![POSTED]);
    assert_eq!(found(s, &w.nurse, "編集後").await, vec![AFTER_EDIT]);
    assert!(
        found(s, &w.nurse, "編集前").await.is_empty(),
        "an edit replaces the text"
    );
    assert!(
        found(s, &w.nurse, "削除済").await.is_empty(),
        "a deletion removes it"
    );
    let events = messages::events(s, &w.nurse, w.conv, None, None)
        .await
        .unwrap();
    let edit = events
        .iter()
        .find(|e| e.kind == EventKind::MessageEdited)
        .unwrap();
    assert_eq!(edit.data["body"], AFTER_EDIT);
    assert_eq!(audit_copy(s, &w.admin, "message.edit").await, BEFORE_EDIT);
    assert_eq!(audit_copy(s, &w.admin, "message.delete").await, DELETED);
    assert_eq!(
        readable_at_rest(world, world.store(), &PLANTED).await,
        Vec::<String>::new()
    );

    // The retention runs out: the day's key goes, and everything it sealed with it.
    keep_messages_for(world, &w.org, 1).await;
    let later = Timestamp::now().plus_secs(3 * 86_400);
    s.sweep_expired(later).await.unwrap();
    let bodies = history_bodies(s, &w.nurse, w.conv).await;
    assert!(
        PLANTED
            .iter()
            .all(|p| !bodies.iter().any(|b| b.contains(p))),
        "{bodies:?}"
    );
    for q in ["検査結果", "zqxposted", "編集後"] {
        assert!(found(s, &w.nurse, q).await.is_empty(), "{q}");
    }
    let events = messages::events(s, &w.nurse, w.conv, None, None)
        .await
        .unwrap();
    let text = serde_json::to_string(&events).unwrap();
    assert!(PLANTED.iter().all(|p| !text.contains(p)), "{text}");
    let marker = events
        .iter()
        .find(|e| e.kind == EventKind::MessagesExpired)
        .expect("the timeline shows where messages expired");
    assert!(marker.data["up_to_seq"].as_i64().unwrap() >= edited.max(kept));
    assert_eq!(audit_copy(s, &w.admin, "message.edit").await, json!(null));
    assert_eq!(audit_copy(s, &w.admin, "message.delete").await, json!(null));
    let expired = audit::list(
        s,
        &w.admin,
        &AuditQuery {
            action: Some("messages.expired".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(expired.len(), 1, "who, when and which numbers are audited");
    assert_eq!(expired[0].target_id, Some(w.conv));
    assert!(PLANTED.iter().all(|p| !expired[0].details.contains(p)));
    assert_eq!(
        readable_at_rest(world, world.store(), &PLANTED).await,
        Vec::<String>::new()
    );
    assert!(world.store().verify_audit().await.unwrap().is_ok());

    // The conversation goes on with a new key.
    post(s, &w, "新しいメッセージ").await;
    assert_eq!(
        history_bodies(s, &w.nurse, w.conv).await,
        vec!["新しいメッセージ"]
    );
}

async fn a_day_of_messages_is_kept_for_the_whole_retention_and_newer_ones_stay(world: &World) {
    let s = &world.services;
    let w = ward(world, "keep").await;
    post(s, &w, "今日のメッセージ").await;
    keep_messages_for(world, &w.org, 2).await;
    // Today's messages live two whole days after today.
    for days in [0, 1, 2] {
        s.sweep_expired(Timestamp::now().plus_secs(days * 86_400))
            .await
            .unwrap();
        assert_eq!(
            history_bodies(s, &w.nurse, w.conv).await,
            vec!["今日のメッセージ"],
            "{days} days later"
        );
    }
    // Another organization without a retention keeps its messages.
    let other = ward(world, "other").await;
    post(s, &other, "残るメッセージ").await;
    s.sweep_expired(Timestamp::now().plus_secs(4 * 86_400))
        .await
        .unwrap();
    assert!(history_bodies(s, &w.nurse, w.conv).await.is_empty());
    assert_eq!(
        history_bodies(s, &other.nurse, other.conv).await,
        vec!["残るメッセージ"]
    );
}

async fn bodies_stored_before_sealing_are_sealed_at_the_next_start(world: &World) {
    let s = &world.services;
    let w = ward(world, "legacy").await;
    let (kept, edited, _) = plant(s, &w).await;
    // As an earlier release stored them: bodies, the edit event and audit copies in the clear.
    let mut conn = AnyConnection::connect(&world.url).await.unwrap();
    for (seq, body) in [(kept, POSTED), (edited, AFTER_EDIT)] {
        sqlx::query(
            "UPDATE messages SET body = $1, key_epoch = NULL, search_tokens = ''
             WHERE conversation_id = $2 AND seq = $3",
        )
        .bind(body)
        .bind(w.conv.to_string())
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE conversation_events SET data = $1 WHERE conversation_id = $2 AND kind = 'message.edited'")
        .bind(json!({"target_seq": edited, "body": AFTER_EDIT}).to_string())
        .bind(w.conv.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE sealing_state SET resealed_at = NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let copy = AuditEvent::new(
        "message.delete",
        Some(w.org.id),
        Some(w.doctor.id),
        "conversation",
        Some(w.conv),
    )
    .with_details(json!({"seq": kept, "before": BEFORE_EDIT}));
    world.store().append_audit(&copy).await.unwrap();
    world
        .store()
        .append_audit(&AuditEvent::new("later.entry", None, None, "test", None))
        .await
        .unwrap();
    if world.store().backend() == Backend::Postgres {
        assert!(
            !in_rows(world, &PLANTED).await.is_empty(),
            "planted in the clear"
        );
    }

    // The next start seals them, and chains the audit log again.
    world.store().close().await;
    let s = world.reopen().await;
    assert_eq!(
        readable_at_rest(world, &s.store, &PLANTED).await,
        Vec::<String>::new()
    );
    let bodies = history_bodies(&s, &w.nurse, w.conv).await;
    assert!(bodies.contains(&POSTED.to_owned()), "{bodies:?}");
    assert!(bodies.contains(&AFTER_EDIT.to_owned()), "{bodies:?}");
    assert_eq!(found(&s, &w.nurse, "検査結果").await, vec![POSTED]);
    let events = messages::events(&s, &w.nurse, w.conv, None, None)
        .await
        .unwrap();
    let edit = events
        .iter()
        .find(|e| e.kind == EventKind::MessageEdited)
        .unwrap();
    assert_eq!(edit.data["body"], AFTER_EDIT);
    assert_eq!(
        audit_copy(&s, &w.admin, "message.delete").await,
        BEFORE_EDIT
    );
    assert!(
        s.store.verify_audit().await.unwrap().is_ok(),
        "the chain holds"
    );
    let resealed = s
        .store
        .audit_page(
            &AuditFilter {
                action: Some("audit.resealed".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(resealed.len(), 1, "the rewritten chain is recorded");
    s.store.close().await;
}
