//! Web Push, at the service level: subscriptions (allow-list, keys, moving an endpoint,
//! removal with sign-out and retirement), the sealed VAPID key, notification settings, and
//! the fan-out from committed messages to alerts (levels, quiet hours, urgent, no device).

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::World;
use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{ConversationKind, NewMessage, Priority};
use renkei_core::notify::NotifyLevel;
use renkei_core::user::{User, UserPatch, UserStatus};
use renkei_service::Kind;
use renkei_service::accounts::{sign_in, users};
use renkei_service::auth::session::Authed;
use renkei_service::conversations::{self, NewConversation};
use renkei_service::notify::{Alert, AlertKind, Notifier};
use renkei_service::push;
use renkei_service::push::preferences::{self, MyNotifications};
use renkei_service::push::subscriptions::{self, NewSubscription, SubscriptionKeys};

on_both_backends!(
    a_subscription_is_registered_once_listed_and_removed_by_its_owner,
    endpoints_off_the_allow_list_and_bad_keys_are_refused,
    signing_out_and_retiring_remove_subscriptions,
    the_vapid_key_is_made_once_and_kept_sealed,
    notification_settings_are_checked_and_audited,
    fan_out_follows_levels_quiet_hours_and_urgency,
);

/// RFC 8291's example subscription keys.
const P256DH: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

fn browser(endpoint: &str) -> NewSubscription {
    NewSubscription {
        endpoint: endpoint.into(),
        expiration_time: None,
        keys: SubscriptionKeys {
            p256dh: P256DH.into(),
            auth: AUTH.into(),
        },
        device_label: Some("Pixel 8".into()),
    }
}

fn fcm(n: &str) -> String {
    format!("https://fcm.googleapis.com/fcm/send/{n}")
}

async fn subscribe(world: &World, who: &Authed, endpoint: &str) -> (Uuid, bool) {
    subscriptions::register(&world.services, who, browser(endpoint))
        .await
        .unwrap()
}

async fn a_subscription_is_registered_once_listed_and_removed_by_its_owner(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let ann = world.member(&org, "ann").await;
    let ben = world.member(&org, "ben").await;
    let (id, new) = subscribe(world, &ann, &fcm("a1")).await;
    assert!(new);
    let (again, new) = subscribe(world, &ann, &fcm("a1")).await;
    assert_eq!((again, new), (id, false));
    assert_eq!(
        world.audit_actions(id).await,
        ["push.subscribe", "push.subscribe"]
    );

    let mine = subscriptions::list(s, &ann).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, id);
    assert_eq!(mine[0].push_service, "fcm.googleapis.com");
    assert_eq!(mine[0].device_label.as_deref(), Some("Pixel 8"));
    assert!(subscriptions::list(s, &ben).await.unwrap().is_empty());

    // Someone else's is not found; the owner removes it.
    let err = subscriptions::remove(s, &ben, id).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (Kind::NotFound, "push_subscription_not_found")
    );
    subscriptions::remove(s, &ann, id).await.unwrap();
    assert!(subscriptions::list(s, &ann).await.unwrap().is_empty());
    assert!(
        world
            .audit_actions(id)
            .await
            .contains(&"push.unsubscribe".to_string())
    );

    // The same browser signed in as someone else: the endpoint moves to them.
    let (moved, _) = subscribe(world, &ann, &fcm("shared")).await;
    let (to_ben, new) = subscribe(world, &ben, &fcm("shared")).await;
    assert_eq!((to_ben, new), (moved, false));
    assert!(subscriptions::list(s, &ann).await.unwrap().is_empty());
    assert_eq!(subscriptions::list(s, &ben).await.unwrap().len(), 1);
}

async fn endpoints_off_the_allow_list_and_bad_keys_are_refused(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let ann = world.member(&org, "ann").await;
    for endpoint in [
        "https://evil.example/push",
        "http://fcm.googleapis.com/fcm/send/x",
        "https://169.254.169.254/latest",
        "http://127.0.0.1:9/push",
        "not a url",
    ] {
        let err = subscriptions::register(s, &ann, browser(endpoint))
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code),
            (Kind::Invalid, "push_endpoint_not_allowed"),
            "{endpoint}"
        );
    }
    let mut bad = browser(&fcm("k"));
    bad.keys.auth = "AAAA".into();
    let err = subscriptions::register(s, &ann, bad).await.unwrap_err();
    assert_eq!((err.kind, err.code), (Kind::Invalid, "invalid_push_keys"));
    let mut bad = browser(&fcm("k"));
    bad.keys.p256dh = "BAAA".into();
    let err = subscriptions::register(s, &ann, bad).await.unwrap_err();
    assert_eq!((err.kind, err.code), (Kind::Invalid, "invalid_push_keys"));
    assert!(subscriptions::list(s, &ann).await.unwrap().is_empty());
}

async fn signing_out_and_retiring_remove_subscriptions(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let admin = world.org_admin(&org, "boss").await;
    let ann = world.member(&org, "ann").await;
    let (_, phone) = world.sign_in("ann").await;
    subscribe(world, &ann, &fcm("laptop")).await;
    subscribe(world, &phone, &fcm("phone")).await;
    sign_in::logout(s, &ann).await.unwrap();
    let left = subscriptions::list(s, &phone).await.unwrap();
    assert_eq!(
        left.len(),
        1,
        "only the signed-out session's subscription goes"
    );

    let ben = world.member(&org, "ben").await;
    subscribe(world, &ben, &fcm("ben")).await;
    let user: User = s.store.user(ben.user.id).await.unwrap();
    let retire = UserPatch {
        status: Some(UserStatus::Retired),
        ..UserPatch::default()
    };
    users::update_user(&s.store, Some(admin.user.id), &user, &retire, user.version)
        .await
        .unwrap();
    assert!(
        s.store
            .push_subscriptions_of(ben.user.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_vapid_key_is_made_once_and_kept_sealed(world: &World) {
    use base64::Engine;
    let s = &world.services;
    let first = subscriptions::config(s).await.unwrap().vapid_public_key;
    let again = subscriptions::config(s).await.unwrap().vapid_public_key;
    assert_eq!(first, again);
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&first)
        .unwrap();
    assert_eq!((raw.len(), raw[0]), (65, 4));
    let kept = s
        .store
        .server_key(push::vapid::KEY_NAME)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.public_key, first);
    // The sealed private key opens with the master key and signs for the published key.
    let vapid = push::vapid::Vapid::open(&world.blobs, &kept, "mailto:admin@localhost").unwrap();
    assert_eq!(vapid.public_key(), first);
}

async fn notification_settings_are_checked_and_audited(world: &World) {
    let s = &world.services;
    let org = world.org("ward").await;
    let other = world.org("clinic").await;
    let ann = world.member(&org, "ann").await;
    let ben = world.member(&org, "ben").await;
    let stranger = world.member(&other, "stranger").await;
    assert_eq!(
        preferences::get(s, &ann).await.unwrap(),
        MyNotifications {
            dnd_start: None,
            dnd_end: None,
            utc_offset_minutes: 0,
            covering_user_id: None
        }
    );
    let wanted = MyNotifications {
        dnd_start: Some("22:00".into()),
        dnd_end: Some("07:00".into()),
        utc_offset_minutes: 540,
        covering_user_id: Some(ben.user.id),
    };
    assert_eq!(
        preferences::set(s, &ann, wanted.clone()).await.unwrap(),
        wanted
    );
    assert_eq!(preferences::get(s, &ann).await.unwrap(), wanted);
    assert!(
        world
            .audit_actions(ann.user.id)
            .await
            .contains(&"user.notifications_update".to_string())
    );
    for (covering, why) in [
        (ann.user.id, "oneself"),
        (stranger.user.id, "another organization"),
        (Uuid::now_v7(), "nobody"),
    ] {
        let err = preferences::set(
            s,
            &ann,
            MyNotifications {
                covering_user_id: Some(covering),
                ..wanted.clone()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "invalid_covering_user", "{why}");
    }
    let err = preferences::set(
        s,
        &ann,
        MyNotifications {
            dnd_start: Some("25:00".into()),
            ..wanted.clone()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "invalid_dnd_hours");
    let err = preferences::set(
        s,
        &ann,
        MyNotifications {
            dnd_end: None,
            ..wanted.clone()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "invalid_dnd_hours");
}

/// A notifier that remembers every alert.
#[derive(Default)]
struct Recorder(Mutex<Vec<Alert>>);

impl Notifier for Recorder {
    fn notify(&self, alert: Alert) {
        self.0.lock().unwrap().push(alert);
    }
}

impl Recorder {
    /// The alerts of message `seq`, as (user, kind), once `n` came (or after 5 s).
    async fn of(&self, seq: i64, n: usize) -> Vec<(Uuid, AlertKind)> {
        for _ in 0..100 {
            let got: Vec<_> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|a| a.seq == seq)
                .map(|a| (a.user_id, a.kind))
                .collect();
            if got.len() >= n {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut all: Vec<_> = self
                    .0
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|a| a.seq == seq)
                    .map(|a| (a.user_id, a.kind))
                    .collect();
                all.sort_by_key(|(u, k)| (*u, format!("{k:?}")));
                return all;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} alerts for seq {seq}");
    }
}

fn message(id: &str, priority: Priority, mentions: Vec<Uuid>) -> NewMessage {
    NewMessage {
        client_msg_id: id.into(),
        body: "山田太郎 1234567890".into(),
        reply_to: None,
        priority,
        mentions,
        attachments: vec![],
    }
}

async fn fan_out_follows_levels_quiet_hours_and_urgency(world: &World) {
    let s = &world.services;
    let recorder = Arc::new(Recorder::default());
    push::fan_out_to(s, recorder.clone());
    let org = world.org("ward").await;
    let sender = world.member(&org, "sender").await;
    let all = world.member(&org, "all").await;
    let muted = world.member(&org, "muted").await;
    let mentions = world.member(&org, "mentions").await;
    let quiet = world.member(&org, "quiet").await;
    let no_device = world.member(&org, "nodevice").await;
    let everyone = [&sender, &all, &muted, &mentions, &quiet];
    for (i, who) in everyone.iter().enumerate() {
        subscribe(world, who, &fcm(&format!("dev{i}"))).await;
    }
    let members: Vec<Uuid> = [&all, &muted, &mentions, &quiet, &no_device]
        .iter()
        .map(|a| a.user.id)
        .collect();
    let conv = conversations::create(
        s,
        &sender.user,
        NewConversation {
            kind: ConversationKind::Group,
            title: Some("Ward 5".into()),
            member_ids: members,
            admin_ids: vec![],
            include_me: true,
        },
    )
    .await
    .unwrap()
    .view
    .conversation
    .id;
    conversations::set_notify_level(s, &muted.user, conv, NotifyLevel::Mute)
        .await
        .unwrap();
    conversations::set_notify_level(s, &mentions.user, conv, NotifyLevel::Mentions)
        .await
        .unwrap();
    // Quiet from an hour ago to an hour ahead (in UTC), so now is quiet.
    let now_min = (renkei_core::clock::Timestamp::now().millis() / 60_000) % 1440;
    let (start, end) = ((now_min + 1439 - 60) % 1440, (now_min + 60) % 1440);
    let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    preferences::set(
        s,
        &quiet,
        MyNotifications {
            dnd_start: Some(hhmm(start)),
            dnd_end: Some(hhmm(end)),
            utc_offset_minutes: 0,
            covering_user_id: None,
        },
    )
    .await
    .unwrap();

    let plain = s
        .messaging
        .post(
            sender.user.id,
            conv,
            message("m1", Priority::Normal, vec![]),
        )
        .await
        .unwrap();
    assert_eq!(
        recorder.of(plain.message.seq, 1).await,
        [(all.user.id, AlertKind::Message)]
    );

    let mention = s
        .messaging
        .post(
            sender.user.id,
            conv,
            message(
                "m2",
                Priority::Normal,
                vec![mentions.user.id, muted.user.id],
            ),
        )
        .await
        .unwrap();
    let mut want = vec![
        (all.user.id, AlertKind::Message),
        (mentions.user.id, AlertKind::Mention),
    ];
    want.sort_by_key(|(u, k)| (*u, format!("{k:?}")));
    assert_eq!(recorder.of(mention.message.seq, 2).await, want);

    let urgent = s
        .messaging
        .post(
            sender.user.id,
            conv,
            message("m3", Priority::Urgent, vec![]),
        )
        .await
        .unwrap();
    let mut want: Vec<_> = [&all, &muted, &mentions, &quiet]
        .iter()
        .map(|a| (a.user.id, AlertKind::Urgent))
        .collect();
    want.sort_by_key(|(u, k)| (*u, format!("{k:?}")));
    assert_eq!(recorder.of(urgent.message.seq, 4).await, want);
    let alerts = recorder.0.lock().unwrap().clone();
    assert!(alerts.iter().all(|a| a.user_id != sender.user.id));
    assert!(alerts.iter().all(|a| a.user_id != no_device.user.id));
    assert!(alerts.iter().all(|a| a.ttl_seconds == 86_400));
}

// ---------------------------------------------------------------------------------------------
// Against the push-service stand-in: what really leaves, its headers, and health.

mod standin {
    use super::*;
    use renkei_push_standin::{Answer, StandIn, Subscriber};
    use renkei_service::Services;

    on_both_backends!(
        a_push_says_nothing_of_the_message_and_carries_its_headers,
        a_gone_subscription_is_removed_and_a_busy_service_is_retried,
        a_subscription_failing_for_a_week_is_dropped,
        the_sender_policy_names_the_sender_and_the_conversation_only,
    );

    /// The world's services with push started towards a fresh stand-in (the only allowed host).
    async fn pushing(world: &World) -> (Services, StandIn) {
        let standin = StandIn::start().await.unwrap();
        let mut svc = world.services.clone();
        let mut settings = (*svc.settings).clone();
        settings.push_endpoint_allow = vec![standin.host_port()];
        svc.settings = Arc::new(settings);
        push::start(&mut svc).await.unwrap();
        let key = subscriptions::config(&svc).await.unwrap().vapid_public_key;
        standin.expect_vapid_key(&key);
        (svc, standin)
    }

    /// `who` subscribes a new browser at the stand-in; returns its endpoint.
    async fn device(svc: &Services, standin: &StandIn, who: &Authed) -> String {
        let browser = Subscriber::new();
        let endpoint = browser.endpoint(standin);
        let body: NewSubscription = serde_json::from_value(browser.subscription_json()).unwrap();
        subscriptions::register(svc, who, body).await.unwrap();
        endpoint
    }

    async fn group_of(svc: &Services, owner: &Authed, members: &[&Authed]) -> Uuid {
        conversations::create(
            svc,
            &owner.user,
            NewConversation {
                kind: ConversationKind::Group,
                title: Some("Ward 5".into()),
                member_ids: members.iter().map(|m| m.user.id).collect(),
                admin_ids: vec![],
                include_me: true,
            },
        )
        .await
        .unwrap()
        .view
        .conversation
        .id
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    async fn a_push_says_nothing_of_the_message_and_carries_its_headers(world: &World) {
        let (svc, standin) = pushing(world).await;
        let org = world.org("ward").await;
        let nurse = world.member(&org, "nurse").await;
        let doctor = world.member(&org, "doctor").await;
        let phone = device(&svc, &standin, &doctor).await;
        let own = device(&svc, &standin, &nurse).await;
        let conv = group_of(&svc, &nurse, &[&doctor]).await;

        let urgent = svc
            .messaging
            .post(nurse.user.id, conv, message("u1", Priority::Urgent, vec![]))
            .await
            .unwrap();
        let got = standin
            .wait_for(&phone, 1, Duration::from_secs(10))
            .await
            .unwrap();
        let push = &got[0];
        let json = push.json.as_ref().unwrap();
        assert_eq!(json["kind"], "urgent");
        assert_eq!(json["urgent"], true);
        assert_eq!(json["seq"], urgent.message.seq);
        assert_eq!(json["conversation_id"], conv.to_string());
        assert_eq!(json["text"], "新着メッセージ");
        let plain = push.plaintext.as_ref().unwrap();
        for planted in ["山田太郎", "1234567890"] {
            assert!(!contains(plain, planted), "{planted} in the payload");
            assert!(!contains(&push.body, planted), "{planted} on the wire");
        }
        assert_eq!(push.urgency.as_deref(), Some("high"));
        assert_eq!(push.ttl, Some(86_400));
        assert_eq!(
            push.topic.as_deref(),
            Some(push::payload::topic(conv).as_str())
        );
        assert!(push.vapid.is_some());

        // A plain message: normal urgency, the same topic.
        let plain_msg = svc
            .messaging
            .post(nurse.user.id, conv, message("p1", Priority::Normal, vec![]))
            .await
            .unwrap();
        let got = standin
            .wait_for(&phone, 2, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(got[1].json.as_ref().unwrap()["kind"], "message");
        assert_eq!(got[1].urgency.as_deref(), Some("normal"));
        assert_eq!(got[1].topic, got[0].topic);

        // The pushed mark rises (coalesced) and the device shows its last push.
        let mut pushed = 0;
        for _ in 0..100 {
            pushed = svc.store.pushed_seq(conv, doctor.user.id).await.unwrap();
            if pushed >= plain_msg.message.seq {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(pushed, plain_msg.message.seq);
        let mine = subscriptions::list(&svc, &doctor).await.unwrap();
        assert!(mine[0].last_pushed_at.is_some());

        // Muted: nothing but urgent.
        conversations::set_notify_level(&svc, &doctor.user, conv, NotifyLevel::Mute)
            .await
            .unwrap();
        svc.messaging
            .post(
                nurse.user.id,
                conv,
                message("p2", Priority::Normal, vec![doctor.user.id]),
            )
            .await
            .unwrap();
        let later = svc
            .messaging
            .post(nurse.user.id, conv, message("u2", Priority::Urgent, vec![]))
            .await
            .unwrap();
        let got = standin
            .wait_for(&phone, 3, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(got.len(), 3, "the muted message was not pushed");
        assert_eq!(got[2].json.as_ref().unwrap()["seq"], later.message.seq);

        // The sender's own device hears nothing of their messages.
        assert!(standin.received(&own).is_empty());
        assert!(
            standin.rejections().is_empty(),
            "{:?}",
            standin.rejections()
        );
    }

    async fn a_gone_subscription_is_removed_and_a_busy_service_is_retried(world: &World) {
        let (svc, standin) = pushing(world).await;
        let org = world.org("ward").await;
        let nurse = world.member(&org, "nurse").await;
        let busy = world.member(&org, "busy").await;
        let gone = world.member(&org, "gone").await;
        let busy_phone = device(&svc, &standin, &busy).await;
        let gone_phone = device(&svc, &standin, &gone).await;
        standin.answer(&busy_phone, [Answer::TooManyRequests { retry_after: 1 }]);
        standin.answer(&gone_phone, [Answer::Gone]);
        let conv = group_of(&svc, &nurse, &[&busy, &gone]).await;
        svc.messaging
            .post(nurse.user.id, conv, message("m1", Priority::Normal, vec![]))
            .await
            .unwrap();

        let got = standin
            .wait_for(&busy_phone, 1, Duration::from_secs(15))
            .await
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].status, got[1].status), (429, 201));
        let waited = got[1].instant.duration_since(got[0].instant);
        assert!(
            waited >= Duration::from_millis(900),
            "Retry-After honoured: {waited:?}"
        );

        let answered = standin
            .wait_until(&gone_phone, Duration::from_secs(10), |all| !all.is_empty())
            .await
            .unwrap();
        assert_eq!(answered[0].status, 410);
        let mut left = 1;
        for _ in 0..100 {
            left = svc
                .store
                .push_subscriptions_of(gone.user.id)
                .await
                .unwrap()
                .len();
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(left, 0, "a 410 removes the subscription");
        assert_eq!(subscriptions::list(&svc, &busy).await.unwrap().len(), 1);
        assert!(
            standin.rejections().is_empty(),
            "{:?}",
            standin.rejections()
        );
    }

    /// Waits until `who`'s subscriptions satisfy `done` (the dispatcher records on its own).
    async fn subscriptions_until(
        svc: &Services,
        who: Uuid,
        done: impl Fn(&[renkei_store::PushSubscription]) -> bool,
    ) -> Vec<renkei_store::PushSubscription> {
        let mut subs = vec![];
        for _ in 0..100 {
            subs = svc.store.push_subscriptions_of(who).await.unwrap();
            if done(&subs) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        subs
    }

    /// Moves a subscription's first failure `days` into the past, straight in the table.
    async fn failing_for_days(world: &World, id: Uuid, days: i64) {
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&world.url)
            .await
            .unwrap();
        let since = Timestamp::now().millis() - days * 24 * 3600 * 1000;
        sqlx::query("UPDATE push_subscriptions SET failing_since = $1 WHERE id = $2")
            .bind(since)
            .bind(id.to_string())
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }

    async fn a_subscription_failing_for_a_week_is_dropped(world: &World) {
        let (svc, standin) = pushing(world).await;
        let org = world.org("ward").await;
        let nurse = world.member(&org, "nurse").await;
        let old = world.member(&org, "old").await;
        let phone = device(&svc, &standin, &old).await;
        standin.answer(&phone, [Answer::PayloadTooLarge, Answer::PayloadTooLarge]);
        let conv = group_of(&svc, &nurse, &[&old]).await;
        let post = |id: &'static str| {
            svc.messaging
                .post(nurse.user.id, conv, message(id, Priority::Normal, vec![]))
        };

        // A refusal marks the subscription failing, and a failing one is kept for now.
        post("m1").await.unwrap();
        let subs = subscriptions_until(&svc, old.user.id, |s| {
            s.first().is_some_and(|s| s.failing_since.is_some())
        })
        .await;
        assert_eq!(subs.len(), 1);
        assert!(subs[0].failing_since.is_some(), "a 413 marks it failing");

        // Failing for 8 days: the next failure drops it.
        failing_for_days(world, subs[0].id, 8).await;
        post("m2").await.unwrap();
        let left = subscriptions_until(&svc, old.user.id, |s| s.is_empty()).await;
        assert!(left.is_empty(), "a week of failures drops the subscription");
        assert_eq!(standin.received(&phone).len(), 2);

        // At start, a subscription failing for a week is dropped before any push; one
        // failing for a day and a healthy one stay.
        let (week, day, fine) = (
            world.member(&org, "week").await,
            world.member(&org, "day").await,
            world.member(&org, "fine").await,
        );
        for who in [&week, &day, &fine] {
            device(&svc, &standin, who).await;
        }
        let id_of = |who: &Authed| {
            let svc = svc.clone();
            let user = who.user.id;
            async move { svc.store.push_subscriptions_of(user).await.unwrap()[0].id }
        };
        failing_for_days(world, id_of(&week).await, 8).await;
        failing_for_days(world, id_of(&day).await, 1).await;
        let (_restarted, _) = pushing(world).await;
        let count = |who: Uuid| {
            let svc = svc.clone();
            async move { svc.store.push_subscriptions_of(who).await.unwrap().len() }
        };
        assert_eq!(count(week.user.id).await, 0);
        assert_eq!(count(day.user.id).await, 1);
        assert_eq!(count(fine.user.id).await, 1);
    }

    async fn the_sender_policy_names_the_sender_and_the_conversation_only(world: &World) {
        let org = world.org("ward").await;
        let mut next = org.clone();
        next.policy.push_preview = renkei_core::org::PushPreview::Sender;
        let audit = renkei_core::audit::AuditEvent::new(
            "org.update",
            Some(org.id),
            None,
            "org",
            Some(org.id),
        );
        world
            .store()
            .update_org(&next, org.version, &audit)
            .await
            .unwrap();
        let (svc, standin) = pushing(world).await;
        let nurse = world.member(&org, "nurse").await;
        let doctor = world.member(&org, "doctor").await;
        let phone = device(&svc, &standin, &doctor).await;
        let conv = group_of(&svc, &nurse, &[&doctor]).await;
        svc.messaging
            .post(nurse.user.id, conv, message("s1", Priority::Normal, vec![]))
            .await
            .unwrap();
        let got = standin
            .wait_for(&phone, 1, Duration::from_secs(10))
            .await
            .unwrap();
        let json = got[0].json.as_ref().unwrap();
        assert_eq!(
            json["text"],
            format!("{} · Ward 5", nurse.user.display_name)
        );
        let plain = got[0].plaintext.as_ref().unwrap();
        for planted in ["山田太郎", "1234567890"] {
            assert!(!contains(plain, planted), "{planted} in the payload");
        }
    }
}
