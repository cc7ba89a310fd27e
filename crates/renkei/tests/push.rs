//! Web Push over HTTP: the VAPID key, subscribing (201, then 200 with the same id), listing,
//! removing, the allow-list's 422s, notification settings, sign-out, and the admin overview.

mod common;

use common::{Server, Storage, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    push_routes_register_list_and_remove_subscriptions,
    an_urgent_message_reaches_a_phone_through_the_server,
);

/// RFC 8291's example subscription keys.
fn subscription(endpoint: &str) -> Value {
    json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {
            "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "auth": "BTBZMqHH6r4Tts7J_aSIgg"
        },
        "device_label": "iPhone"
    })
}

async fn push_routes_register_list_and_remove_subscriptions(storage: Storage) {
    let server = Server::start(
        &storage,
        &[(
            "RENKEI_PUSH_ENDPOINT_ALLOW",
            r#"["fcm.googleapis.com","127.0.0.1:9"]"#,
        )],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (ann, made) = active_user(&server, &admin, &org, "ann").await;
    let ann_id = made["id"].as_str().unwrap().to_owned();
    let (ben, _) = active_user(&server, &admin, &org, "ben").await;

    let (status, config) = ann.get("/api/v1/push/config").await;
    assert_eq!(status, StatusCode::OK, "{config}");
    let key = config["vapid_public_key"].as_str().unwrap();
    assert_eq!(key.len(), 87, "65 bytes, base64url without padding");
    assert_eq!(ben.get("/api/v1/push/config").await.1, config);

    let endpoint = "https://fcm.googleapis.com/fcm/send/abc";
    let (status, first) = ann
        .post("/api/v1/push/subscriptions", subscription(endpoint))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = ann
        .post("/api/v1/push/subscriptions", subscription(endpoint))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(first["id"], again["id"]);
    let id = first["id"].as_str().unwrap().to_owned();

    // http to the listed loopback entry is allowed (tests' stand-ins).
    let (status, body) = ann
        .post(
            "/api/v1/push/subscriptions",
            subscription("http://127.0.0.1:9/push/x"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let loopback = body["id"].as_str().unwrap().to_owned();

    for refused in [
        "https://evil.example/push",
        "http://fcm.googleapis.com/fcm/send/x",
        "http://127.0.0.1:10/push",
        "http://10.0.0.1:9/push",
    ] {
        let (status, body) = ann
            .post("/api/v1/push/subscriptions", subscription(refused))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{refused}: {body}"
        );
        assert_eq!(body["code"], "push_endpoint_not_allowed");
    }
    let mut bad = subscription("https://fcm.googleapis.com/fcm/send/bad");
    bad["keys"]["auth"] = json!("AAAA");
    let (status, body) = ann.post("/api/v1/push/subscriptions", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_push_keys");

    let (status, list) = ann.get("/api/v1/push/subscriptions").await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["push_service"], "fcm.googleapis.com");
    assert_eq!(list[0]["device_label"], "iPhone");
    assert!(list[0]["last_pushed_at"].is_null());
    assert!(
        !list[0].to_string().contains("/fcm/send/"),
        "no endpoint URL"
    );
    assert_eq!(ben.get("/api/v1/push/subscriptions").await.1, json!([]));

    // Someone else's is not found; one's own goes.
    let path = format!("/api/v1/push/subscriptions/{id}");
    assert_eq!(ben.delete(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ann.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(ann.delete(&path).await.0, StatusCode::NOT_FOUND);

    // The admin overview counts devices and shows no endpoint.
    let (status, devices) = admin.get(&format!("/api/v1/orgs/{org}/push-devices")).await;
    assert_eq!(status, StatusCode::OK, "{devices}");
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(devices[0]["user_id"], ann_id.as_str());
    assert_eq!(devices[0]["devices"], 1);
    assert_eq!(devices[0]["failing"], 0);
    assert!(!devices.to_string().contains("127.0.0.1"));
    let (status, _) = ben.get(&format!("/api/v1/orgs/{org}/push-devices")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Notification settings.
    let (status, mine) = ann.get("/api/v1/me/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        mine,
        json!({"dnd_start": null, "dnd_end": null, "utc_offset_minutes": 0, "covering_user_id": null})
    );
    let wanted = json!({"dnd_start": "22:00", "dnd_end": "06:30", "utc_offset_minutes": 540, "covering_user_id": null});
    let (status, saved) = ann.put("/api/v1/me/notifications", wanted.clone()).await;
    assert_eq!((status, &saved), (StatusCode::OK, &wanted));
    assert_eq!(ann.get("/api/v1/me/notifications").await.1, wanted);
    let (status, body) = ann
        .put(
            "/api/v1/me/notifications",
            json!({"dnd_start": null, "dnd_end": null, "utc_offset_minutes": 0, "covering_user_id": ann_id}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_covering_user");

    // Signing out removes this session's subscription.
    assert_eq!(
        ann.post("/api/v1/auth/logout", json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    let again = server.login("ann", common::USER_PASSWORD).await;
    assert_eq!(again.get("/api/v1/push/subscriptions").await.1, json!([]));
    let _ = loopback;
}

/// End to end: the server started with the stand-in as its only push service sends an urgent
/// message's push, VAPID-signed with the key it publishes, saying nothing of the message.
async fn an_urgent_message_reaches_a_phone_through_the_server(storage: Storage) {
    use renkei_push_standin::{StandIn, Subscriber};
    use std::time::Duration;

    let standin = StandIn::start().await.unwrap();
    let allow = format!(r#"["{}"]"#, standin.host_port());
    let server = Server::start(&storage, &[("RENKEI_PUSH_ENDPOINT_ALLOW", allow.as_str())]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (ann, _) = active_user(&server, &admin, &org, "ann").await;
    let (ben, made) = active_user(&server, &admin, &org, "ben").await;
    let ben_id = made["id"].as_str().unwrap().to_owned();
    let key = ben.get("/api/v1/push/config").await.1["vapid_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    standin.expect_vapid_key(&key);
    let phone = Subscriber::new();
    let endpoint = phone.endpoint(&standin);
    let (status, body) = ben
        .post("/api/v1/push/subscriptions", phone.subscription_json())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, conv) = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [ben_id]}),
        )
        .await;
    assert!(status.is_success(), "{conv}");
    let conv_id = conv["id"].as_str().unwrap().to_owned();
    let (status, posted) = ann
        .post(
            &format!("/api/v1/conversations/{conv_id}/messages"),
            json!({"client_msg_id": "u1", "body": "山田太郎 1234567890 の件", "priority": "urgent"}),
        )
        .await;
    assert!(status.is_success(), "{posted}");

    let got = standin
        .wait_for(&endpoint, 1, Duration::from_secs(10))
        .await
        .unwrap();
    let push = &got[0];
    let payload = push.json.as_ref().unwrap();
    assert_eq!(payload["kind"], "urgent");
    assert_eq!(payload["conversation_id"], conv_id.as_str());
    assert_eq!(payload["text"], "新着メッセージ");
    assert_eq!(push.urgency.as_deref(), Some("high"));
    assert_eq!(push.ttl, Some(86_400));
    assert!(push.topic.as_deref().is_some_and(|t| t.len() <= 32));
    let plain = push.plaintext.as_ref().unwrap();
    for planted in ["山田太郎", "1234567890"] {
        assert!(
            !common::contains(plain, planted.as_bytes()),
            "{planted} in the payload"
        );
        assert!(
            !common::contains(&push.body, planted.as_bytes()),
            "{planted} on the wire"
        );
    }
    assert!(
        standin.rejections().is_empty(),
        "{:?}",
        standin.rejections()
    );
}
