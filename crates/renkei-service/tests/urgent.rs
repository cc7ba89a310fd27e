//! Urgent messages that nobody can miss, on both databases: re-alerts by the schedule (a
//! manual clock steps through minutes), acknowledgement, escalation to the covering colleague
//! or the department's on-call user exactly once, a restart and a second node, delivery
//! states, and their audit entries. A recording notifier stands in for Web Push.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{World, applicant, refusal, setup};
use renkei_core::clock::{Clock, ManualClock, Timestamp};
use renkei_core::conversation::{ConversationKind, EventKind, NewMessage, Priority};
use renkei_core::org::{DepartmentPatch, Organization};
use renkei_core::urgent::DeliveryState;
use renkei_core::user::{Applicant, NewUser, User};
use renkei_core::{Uuid, new_id};
use renkei_service::conversations::{self, NewConversation};
use renkei_service::notify::{Alert, AlertKind, Notifier};
use renkei_service::urgent::{self, PushReceipt, schedule};
use renkei_service::{Kind, Services, accounts, messages};

/// Remembers every alert with the (manual) time it was sent.
struct Recorder {
    clock: Arc<ManualClock>,
    sent: Mutex<Vec<(Alert, Timestamp)>>,
}

impl Notifier for Recorder {
    fn notify(&self, alert: Alert) {
        let at = self.clock.now();
        self.sent.lock().unwrap().push((alert, at));
    }
}

impl Recorder {
    fn of(&self, kind: AlertKind) -> Vec<(Alert, Timestamp)> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a.kind == kind)
            .cloned()
            .collect()
    }

    fn to(&self, user: Uuid, kind: AlertKind) -> Vec<Timestamp> {
        self.of(kind)
            .into_iter()
            .filter(|(a, _)| a.user_id == user)
            .map(|(_, at)| at)
            .collect()
    }
}

/// Services with a recording notifier and a manual clock.
fn instrumented(services: &Services) -> (Services, Arc<Recorder>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(Timestamp::now()));
    let recorder = Arc::new(Recorder {
        clock: clock.clone(),
        sent: Mutex::new(Vec::new()),
    });
    let mut services = services.clone();
    services.notifier = recorder.clone();
    services.clock = clock.clone();
    (services, recorder, clock)
}

/// A ward: a sender, two recipients in a group, and the services watching them.
struct Ward {
    services: Services,
    recorder: Arc<Recorder>,
    clock: Arc<ManualClock>,
    org: Organization,
    sender: User,
    r1: User,
    r2: User,
    conv: Uuid,
}

async fn ward(world: &World, slug: &str) -> Ward {
    let (services, recorder, clock) = instrumented(&world.services);
    let org = world.org(slug).await;
    let sender = world.user(&org, &format!("{slug}-s"), &[]).await;
    let r1 = world.user(&org, &format!("{slug}-r1"), &[]).await;
    let r2 = world.user(&org, &format!("{slug}-r2"), &[]).await;
    let conv = conversations::create(
        &services,
        &sender,
        NewConversation {
            kind: ConversationKind::Group,
            title: Some("ICU".into()),
            member_ids: vec![r1.id, r2.id],
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
        services,
        recorder,
        clock,
        org,
        sender,
        r1,
        r2,
        conv,
    }
}

fn message(body: &str, priority: Priority) -> NewMessage {
    NewMessage {
        client_msg_id: new_id().to_string(),
        body: body.into(),
        reply_to: None,
        priority,
        mentions: vec![],
        attachments: vec![],
    }
}

impl Ward {
    /// Posts an urgent message and sets the clock to its commit time; returns its seq.
    async fn urgent(&self, body: &str) -> (i64, Timestamp) {
        let posted = self
            .services
            .messaging
            .post(self.sender.id, self.conv, message(body, Priority::Urgent))
            .await
            .unwrap();
        self.clock.set(posted.message.created_at);
        (posted.message.seq, posted.message.created_at)
    }

    /// Sets the clock `secs` after `t0` and runs one round of the schedule.
    async fn at(&self, t0: Timestamp, secs: i64) -> usize {
        self.clock.set(t0.plus_secs(secs));
        schedule::run_due(&self.services).await.unwrap()
    }

    /// Sets the organization's urgent-alert policy.
    async fn policy(&self, world: &World, realert_max: i64) {
        let mut next = world.store().org(self.org.id).await.unwrap();
        let version = next.version;
        next.policy.urgent_realert_max = realert_max;
        world
            .store()
            .update_org(&next, version, &setup("org.update"))
            .await
            .unwrap();
    }
}

/// Names `covering` as `user`'s covering colleague, straight into the table (its API belongs
/// to the push settings).
async fn set_covering(world: &World, user: Uuid, covering: Uuid) {
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&world.url)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO notification_settings (user_id, utc_offset_minutes, covering_user_id, updated_at)
         VALUES ($1, 540, $2, 0)",
    )
    .bind(user.to_string())
    .bind(covering.to_string())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

async fn re_alerts_follow_the_policy_in_count_and_spacing(world: &World) {
    let w = ward(world, "spacing").await;
    w.policy(world, 3).await;
    let (seq, t0) = w.urgent("急変").await;
    assert_eq!(w.at(t0, 119).await, 0, "nothing is due before the interval");
    for (secs, expected) in [(120, 2), (239, 0), (240, 2), (360, 2), (480, 0), (600, 0)] {
        w.at(t0, secs).await;
        let total = w.recorder.of(AlertKind::Realert).len();
        let by_then = match secs {
            120..=239 => 2,
            240..=359 => 4,
            _ => 6,
        };
        assert_eq!(total, by_then, "at +{secs}s ({expected} new)");
    }
    for user in [w.r1.id, w.r2.id] {
        let times = w.recorder.to(user, AlertKind::Realert);
        assert_eq!(
            times,
            vec![t0.plus_secs(120), t0.plus_secs(240), t0.plus_secs(360)],
            "1 push + 3 re-alerts, 120 s apart"
        );
    }
    assert!(
        w.recorder.of(AlertKind::Realert).iter().all(|(a, _)| {
            a.conversation_id == w.conv && a.seq == seq && a.user_id != w.sender.id
        })
    );
    let actions = world.audit_actions(w.conv).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "urgent.send").count(),
        1,
        "the first alert, with the message"
    );
    assert_eq!(actions.iter().filter(|a| *a == "urgent.realert").count(), 6);
    // Nobody covers them: escalation is recorded, nobody is told.
    assert_eq!(
        actions.iter().filter(|a| *a == "urgent.escalate").count(),
        2
    );
    assert!(w.recorder.of(AlertKind::Escalation).is_empty());
}

async fn an_ordinary_message_schedules_nothing(world: &World) {
    let w = ward(world, "plain").await;
    let posted = w
        .services
        .messaging
        .post(w.sender.id, w.conv, message("hello", Priority::Normal))
        .await
        .unwrap();
    assert!(
        world
            .store()
            .urgent_alerts_of(w.conv, posted.message.seq)
            .await
            .unwrap()
            .is_empty()
    );
    w.at(posted.message.created_at, 10_000).await;
    assert!(w.recorder.sent.lock().unwrap().is_empty());
    let actions = world.audit_actions(w.conv).await;
    assert!(
        !actions.iter().any(|a| a.starts_with("urgent.")),
        "{actions:?}"
    );
    let (kind, code) =
        refusal(urgent::acknowledge(&w.services, &w.r1, w.conv, posted.message.seq).await);
    assert_eq!((kind, code), (Kind::Invalid, "not_urgent"));
}

async fn acknowledging_stops_re_alerts_and_escalation(world: &World) {
    let w = ward(world, "ack").await;
    let colleague = world.user(&w.org, "ack-c", &[]).await;
    set_covering(world, w.r1.id, colleague.id).await;
    set_covering(world, w.r2.id, colleague.id).await;
    let (seq, t0) = w.urgent("至急").await;

    // Reading is not acknowledging.
    messages::mark_read(&w.services, w.r1.id, w.conv, seq)
        .await
        .unwrap();
    w.clock.set(t0.plus_secs(60));
    let ack = urgent::acknowledge(&w.services, &w.r1, w.conv, seq)
        .await
        .unwrap();
    assert_eq!(ack.acknowledged_at, t0.plus_secs(60));
    w.clock.set(t0.plus_secs(90));
    let again = urgent::acknowledge(&w.services, &w.r1, w.conv, seq)
        .await
        .unwrap();
    assert_eq!(again.acknowledged_at, ack.acknowledged_at, "idempotent");

    for secs in [120, 240, 300, 360, 1200] {
        w.at(t0, secs).await;
    }
    assert!(w.recorder.to(w.r1.id, AlertKind::Realert).is_empty());
    assert!(!w.recorder.to(w.r2.id, AlertKind::Realert).is_empty());
    let escalations = w.recorder.of(AlertKind::Escalation);
    assert_eq!(escalations.len(), 1, "only r2's, not the acknowledged r1's");

    // Only recipients acknowledge.
    let (kind, code) = refusal(urgent::acknowledge(&w.services, &w.sender, w.conv, seq).await);
    assert_eq!((kind, code), (Kind::NotFound, "urgent_recipient_not_found"));
    let (kind, code) = refusal(urgent::acknowledge(&w.services, &colleague, w.conv, seq).await);
    assert_eq!((kind, code), (Kind::NotFound, "conversation_not_found"));

    let actions = world.audit_actions(w.conv).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "urgent.acknowledge")
            .count(),
        1,
        "the repeat wrote nothing"
    );

    let receipts = messages::receipts(&w.services, &w.sender, w.conv, seq)
        .await
        .unwrap();
    assert!(receipts.urgent);
    assert_eq!(receipts.acknowledged_by, 1);
    let r1 = receipts
        .readers
        .iter()
        .find(|r| r.user_id == w.r1.id)
        .unwrap();
    assert_eq!(r1.state, DeliveryState::Acknowledged);
    assert!(r1.read && r1.escalated_to.is_none());
    let r2 = receipts
        .readers
        .iter()
        .find(|r| r.user_id == w.r2.id)
        .unwrap();
    assert_eq!(r2.state, DeliveryState::Sent);
    assert_eq!(r2.escalated_to, Some(colleague.id));
}

async fn escalation_reaches_the_covering_colleague_exactly_once(world: &World) {
    let w = ward(world, "esc").await;
    let colleague = world.user(&w.org, "esc-c", &[]).await;
    set_covering(world, w.r1.id, colleague.id).await;
    let (seq, t0) = w.urgent("患者 山田太郎 ID 1234567890 急変").await;
    assert_eq!(w.at(t0, 299).await, 2, "the re-alerts at 120 s were due");
    assert!(w.recorder.of(AlertKind::Escalation).is_empty());
    for secs in [300, 301, 600, 5000] {
        w.at(t0, secs).await;
    }
    let escalations = w.recorder.of(AlertKind::Escalation);
    assert_eq!(escalations.len(), 1, "exactly once");
    let (alert, at) = &escalations[0];
    assert_eq!(alert.user_id, colleague.id);
    assert_eq!(*at, t0.plus_secs(300));

    // The notice is in the colleague's direct conversation with the sender: who, when, how
    // long, never the content.
    let direct = alert.conversation_id;
    let conversation = world.store().conversation(direct).await.unwrap();
    assert_eq!(conversation.kind, ConversationKind::Direct);
    let members: Vec<Uuid> = world
        .store()
        .members(direct)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert!(members.contains(&colleague.id) && members.contains(&w.sender.id));
    let events = messages::events(&w.services, &colleague, direct, None, None)
        .await
        .unwrap();
    let notices: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::SystemNotice)
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].seq, alert.seq);
    let data = &notices[0].data;
    assert_eq!(data["notice"], "urgent_escalated");
    assert_eq!(data["recipient_id"], w.r1.id.to_string());
    assert_eq!(data["unacknowledged_minutes"], 5);
    let text = data.to_string();
    assert!(text.contains("unacknowledged for 5 min"), "{text}");
    for planted in ["山田", "1234567890", "急変"] {
        assert!(!text.contains(planted), "no content in the notice: {text}");
    }

    // The sender sees it in the receipts; r2 has nobody to escalate to.
    let receipts = messages::receipts(&w.services, &w.sender, w.conv, seq)
        .await
        .unwrap();
    let r1 = receipts
        .readers
        .iter()
        .find(|r| r.user_id == w.r1.id)
        .unwrap();
    assert_eq!(r1.escalated_to, Some(colleague.id));
    let r2 = receipts
        .readers
        .iter()
        .find(|r| r.user_id == w.r2.id)
        .unwrap();
    assert_eq!(r2.escalated_to, None);
    let actions = world.audit_actions(w.conv).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "urgent.escalate").count(),
        2
    );

    // A second urgent message escalates into the same direct conversation.
    let (_, t1) = w.urgent("again").await;
    w.at(t1, 300).await;
    let escalations = w.recorder.of(AlertKind::Escalation);
    assert_eq!(escalations.len(), 2);
    assert_eq!(escalations[1].0.conversation_id, direct);
}

async fn escalation_falls_back_to_the_departments_on_call_user(world: &World) {
    let (services, recorder, clock) = instrumented(&world.services);
    let org = world.org("oncall").await;
    let admin = world.org_admin(&org, "oncall-admin").await;
    let dept = accounts::orgs::add_department(&services, &admin.user, org.id, "ICU")
        .await
        .unwrap();
    let on_call = world.user(&org, "oncall-doc", &[]).await;
    let nurse = world
        .add_user(
            &org,
            NewUser::from(Applicant {
                department_id: Some(dept.id),
                ..applicant("oncall-nurse")
            }),
        )
        .await;
    let sender = world.user(&org, "oncall-s", &[]).await;

    // Only an admin sets it, and only to an active user of the organization.
    let (kind, _) = refusal(
        accounts::orgs::update_department_as(
            &services,
            &sender,
            dept.id,
            DepartmentPatch {
                on_call_user_id: Some(Some(on_call.id)),
                ..Default::default()
            },
            dept.version,
        )
        .await,
    );
    assert_eq!(kind, Kind::Forbidden);
    let other = world.org("elsewhere").await;
    let stranger = world.user(&other, "oncall-stranger", &[]).await;
    let (kind, code) = refusal(
        accounts::orgs::update_department_as(
            &services,
            &admin.user,
            dept.id,
            DepartmentPatch {
                on_call_user_id: Some(Some(stranger.id)),
                ..Default::default()
            },
            dept.version,
        )
        .await,
    );
    assert_eq!((kind, code), (Kind::Invalid, "invalid_on_call_user"));
    let saved = accounts::orgs::update_department_as(
        &services,
        &admin.user,
        dept.id,
        DepartmentPatch {
            on_call_user_id: Some(Some(on_call.id)),
            ..Default::default()
        },
        dept.version,
    )
    .await
    .unwrap();
    assert_eq!(saved.on_call_user_id, Some(on_call.id));
    assert_eq!(saved.name, "ICU", "the name stays");
    assert!(
        world
            .audit_actions(dept.id)
            .await
            .contains(&"department.update".to_string())
    );

    let conv = conversations::create(
        &services,
        &sender,
        NewConversation {
            kind: ConversationKind::Direct,
            title: None,
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
    let posted = services
        .messaging
        .post(sender.id, conv, message("call me", Priority::Urgent))
        .await
        .unwrap();
    let t0 = posted.message.created_at;
    for secs in [300, 400] {
        clock.set(t0.plus_secs(secs));
        schedule::run_due(&services).await.unwrap();
    }
    let escalations = recorder.of(AlertKind::Escalation);
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].0.user_id, on_call.id);
}

async fn a_restart_between_alerts_resumes_the_schedule(world: &World) {
    let w = ward(world, "restart").await;
    let (_, t0) = w.urgent("restart").await;
    w.at(t0, 120).await;
    assert_eq!(w.recorder.of(AlertKind::Realert).len(), 2);

    // A new process over the same database, its scheduler running as in `serve`.
    let reopened = world.reopen().await;
    let (services, recorder, clock) = instrumented(&reopened);
    clock.set(t0.plus_secs(200));
    assert_eq!(
        schedule::run_due(&services).await.unwrap(),
        0,
        "the 120 s ones were done"
    );
    let scheduler = schedule::start(services.clone());
    clock.set(t0.plus_secs(240));
    scheduler.wake();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while recorder.of(AlertKind::Realert).len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scheduler.stop();
    let resumed = recorder.of(AlertKind::Realert);
    assert_eq!(resumed.len(), 2, "the next re-alert of each recipient");
    assert!(resumed.iter().all(|(_, at)| *at == t0.plus_secs(240)));
    assert_eq!(
        w.recorder.of(AlertKind::Realert).len(),
        2,
        "nothing more on the old one"
    );
    services.store.close().await;
}

async fn two_schedulers_on_one_database_never_double_alert(world: &World) {
    let w = ward(world, "twonodes").await;
    let mut starts = Vec::new();
    for i in 0..15 {
        starts.push(w.urgent(&format!("urgent {i}")).await.1);
    }
    let latest = *starts.iter().max().unwrap();
    let second = world.reopen().await;
    let (other, other_recorder, other_clock) = instrumented(&second);
    for secs in [120, 240, 300] {
        let now = latest.plus_secs(secs);
        w.clock.set(now);
        other_clock.set(now);
        let (a, b) = tokio::join!(schedule::run_due(&w.services), schedule::run_due(&other));
        a.unwrap();
        b.unwrap();
    }
    let mut all: Vec<(Uuid, i64, AlertKind, Timestamp)> = Vec::new();
    for rec in [&w.recorder, &other_recorder] {
        for (alert, at) in rec.sent.lock().unwrap().iter() {
            all.push((alert.user_id, alert.seq, alert.kind, *at));
        }
    }
    // 15 messages × 2 recipients, re-alerted at +120 and at +240 (by the latest's clock).
    assert_eq!(
        all.len(),
        60,
        "each due re-alert once, whichever node sent it"
    );
    let mut keys: Vec<_> = all.iter().map(|(u, s, _, at)| (*u, *s, *at)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 60, "no re-alert sent twice");
    let actions = world.audit_actions(w.conv).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "urgent.realert").count(),
        60
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "urgent.escalate").count(),
        30
    );
    other.store.close().await;
}

async fn receipts_show_how_far_a_message_got(world: &World) {
    let w = ward(world, "states").await;
    let r3 = world.user(&w.org, "states-r3", &[]).await;
    let outsider = world.user(&w.org, "states-out", &[]).await;
    conversations::add_member(&w.services, &w.sender, w.conv, r3.id, None)
        .await
        .unwrap();
    let posted = w
        .services
        .messaging
        .post(w.sender.id, w.conv, message("plain", Priority::Normal))
        .await
        .unwrap();
    let seq = posted.message.seq;
    let state_of = |receipts: &messages::Receipts, user: Uuid| {
        receipts
            .readers
            .iter()
            .find(|r| r.user_id == user)
            .unwrap()
            .state
    };

    // r1's service worker showed the push; r2 read it; r3's socket received it.
    urgent::push_receipt(
        &w.services,
        &w.r1,
        PushReceipt {
            conversation_id: w.conv,
            seq,
        },
    )
    .await
    .unwrap();
    messages::mark_read(&w.services, w.r2.id, w.conv, seq)
        .await
        .unwrap();
    let receipts = messages::receipts(&w.services, &w.sender, w.conv, seq)
        .await
        .unwrap();
    assert_eq!(state_of(&receipts, w.r1.id), DeliveryState::Delivered);
    assert_eq!(state_of(&receipts, w.r2.id), DeliveryState::Read);
    assert_eq!(state_of(&receipts, r3.id), DeliveryState::Sent);
    assert_eq!(
        (receipts.delivered_by, receipts.read_by, receipts.of),
        (2, 1, 3)
    );
    assert!(!receipts.urgent && receipts.acknowledged_by == 0);

    // A socket's deliveries are noted in memory and written together (the background task
    // may flush first; either way the mark is the highest noted).
    w.services.messaging.delivery.note(w.conv, r3.id, seq);
    w.services.messaging.delivery.note(w.conv, r3.id, seq - 1);
    assert!(
        w.services.messaging.delivery.flush().await <= 1,
        "coalesced"
    );
    assert_eq!(w.services.messaging.delivery.flush().await, 0);
    let receipts = messages::receipts(&w.services, &w.sender, w.conv, seq)
        .await
        .unwrap();
    assert_eq!(state_of(&receipts, r3.id), DeliveryState::Delivered);
    assert_eq!(receipts.delivered_by, 3);

    // Marks never move back, nor past the timeline; only members report.
    urgent::push_receipt(
        &w.services,
        &w.r1,
        PushReceipt {
            conversation_id: w.conv,
            seq: seq + 100,
        },
    )
    .await
    .unwrap();
    let marks = world.store().member_marks(w.conv).await.unwrap();
    let r1 = marks.iter().find(|(u, _)| *u == w.r1.id).unwrap().1;
    assert_eq!(r1.delivered_seq, seq);
    let (kind, code) = refusal(
        urgent::push_receipt(
            &w.services,
            &outsider,
            PushReceipt {
                conversation_id: w.conv,
                seq,
            },
        )
        .await,
    );
    assert_eq!((kind, code), (Kind::NotFound, "conversation_not_found"));
}

on_both_backends!(
    re_alerts_follow_the_policy_in_count_and_spacing,
    an_ordinary_message_schedules_nothing,
    acknowledging_stops_re_alerts_and_escalation,
    escalation_reaches_the_covering_colleague_exactly_once,
    escalation_falls_back_to_the_departments_on_call_user,
    a_restart_between_alerts_resumes_the_schedule,
    two_schedulers_on_one_database_never_double_alert,
    receipts_show_how_far_a_message_got,
);
