//! Urgent messages and delivery states over HTTP and the WebSocket: acknowledging (recipients
//! only, idempotent, `ack` frames), delivered marks from a socket and from a service worker
//! (`delivery` frames, receipts' states), and a department's on-call user.

mod common;

use common::{Api, Server, Storage, Ws, active_user, user_of_another_org};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    recipients_acknowledge_urgent_messages,
    delivery_states_come_from_sockets_and_service_workers,
    departments_name_an_on_call_user,
);

struct Ward {
    server: Server,
    admin: Api,
    alice: Api,
    bob: Api,
    bob_id: String,
    carol: Api,
    carol_id: String,
    conv: String,
}

/// Alice's group with Bob and Carol; Dave (made later when needed) is not in it.
async fn ward(storage: &Storage) -> Ward {
    let server = Server::start(storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&server, &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let (carol, carol_user) = active_user(&server, &admin, &org, "carol").await;
    let bob_id = bob_user["id"].as_str().unwrap().to_owned();
    let carol_id = carol_user["id"].as_str().unwrap().to_owned();
    let (status, conv) = alice
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "ICU", "member_ids": [bob_id, carol_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    Ward {
        conv: conv["id"].as_str().unwrap().to_owned(),
        server,
        admin,
        alice,
        bob,
        bob_id,
        carol,
        carol_id,
    }
}

async fn post(api: &Api, conv: &str, client_id: &str, priority: &str) -> i64 {
    let (status, ack) = api
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": client_id, "body": "血圧低下", "priority": priority}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    ack["seq"].as_i64().unwrap()
}

fn reader<'a>(receipts: &'a Value, user: &str) -> &'a Value {
    receipts["readers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_id"] == user)
        .unwrap()
}

async fn recipients_acknowledge_urgent_messages(storage: Storage) {
    let w = ward(&storage).await;
    let (mut alice_ws, _) = Ws::connect(&w.server, w.alice.token.as_deref().unwrap(), None).await;
    let seq = post(&w.alice, &w.conv, "u1", "urgent").await;
    let ack_path = format!("/api/v1/conversations/{}/messages/{seq}/ack", w.conv);
    let receipts_path = format!("/api/v1/conversations/{}/messages/{seq}/receipts", w.conv);

    let (_, receipts) = w.alice.get(&receipts_path).await;
    assert_eq!(receipts["urgent"], true);
    assert_eq!(receipts["acknowledged_by"], 0);
    assert_eq!(reader(&receipts, &w.bob_id)["state"], "sent");

    // Reading is not acknowledging.
    let read = format!("/api/v1/conversations/{}/read", w.conv);
    assert_eq!(
        w.bob.post(&read, json!({"seq": seq})).await.0,
        StatusCode::OK
    );
    let (_, receipts) = w.alice.get(&receipts_path).await;
    assert_eq!(reader(&receipts, &w.bob_id)["state"], "read");

    let (status, first) = w.bob.post(&ack_path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["seq"], seq);
    let frame = alice_ws.next_of("ack").await;
    assert_eq!(frame["user_id"], w.bob_id.as_str());
    assert_eq!(frame["seq"], seq);
    assert_eq!(frame["acknowledged_at"], first["acknowledged_at"]);
    let (status, again) = w.bob.post(&ack_path, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first, "idempotent");

    let (_, receipts) = w.alice.get(&receipts_path).await;
    assert_eq!(receipts["acknowledged_by"], 1);
    let bob = reader(&receipts, &w.bob_id);
    assert_eq!(bob["state"], "acknowledged");
    assert_eq!(bob["acknowledged_at"], first["acknowledged_at"]);
    assert_eq!(bob["escalated_to"], Value::Null);
    assert_eq!(
        reader(&receipts, &w.carol_id)["acknowledged_at"],
        Value::Null
    );

    // The sender is no recipient; an outsider sees nothing; an ordinary message is not acked.
    let (status, body) = w.alice.post(&ack_path, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "urgent_recipient_not_found");
    let dave = user_of_another_org(&w.server, &w.admin, "dave").await;
    let (status, body) = dave.post(&ack_path, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "conversation_not_found");
    let plain = post(&w.alice, &w.conv, "n1", "normal").await;
    let (status, body) = w
        .carol
        .post(
            &format!("/api/v1/conversations/{}/messages/{plain}/ack", w.conv),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "not_urgent");
    let (_, receipts) = w
        .alice
        .get(&format!(
            "/api/v1/conversations/{}/messages/{plain}/receipts",
            w.conv
        ))
        .await;
    assert_eq!(receipts["urgent"], false);
}

async fn delivery_states_come_from_sockets_and_service_workers(storage: Storage) {
    let w = ward(&storage).await;
    let (mut alice_ws, _) = Ws::connect(&w.server, w.alice.token.as_deref().unwrap(), None).await;
    let (mut bob_ws, _) = Ws::connect(&w.server, w.bob.token.as_deref().unwrap(), None).await;
    let seq = post(&w.alice, &w.conv, "d1", "normal").await;
    bob_ws.next_of("event").await;

    // Bob's socket received it: a delivery frame within about a second (earlier events his
    // socket caught up on may come first).
    let bobs_mark = |frame: &Value| {
        frame["marks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == w.bob_id.as_str())
            .map(|m| m["seq"].clone())
    };
    let frame = loop {
        let frame = alice_ws.next_of("delivery").await;
        if bobs_mark(&frame) == Some(json!(seq)) {
            break frame;
        }
    };
    assert_eq!(frame["conversation_id"], w.conv.as_str());
    assert_eq!(frame["state"], "delivered");

    // Carol has no socket; her service worker reports the push it showed.
    let receipts_path = format!("/api/v1/conversations/{}/messages/{seq}/receipts", w.conv);
    let (_, receipts) = w.alice.get(&receipts_path).await;
    assert_eq!(reader(&receipts, &w.carol_id)["state"], "sent");
    let report = json!({"conversation_id": w.conv, "seq": seq});
    let (status, body) = w.carol.post("/api/v1/push/receipts", report.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, receipts) = w.alice.get(&receipts_path).await;
    assert_eq!(reader(&receipts, &w.bob_id)["state"], "delivered");
    assert_eq!(reader(&receipts, &w.carol_id)["state"], "delivered");
    assert_eq!(receipts["delivered_by"], 2);
    assert_eq!(receipts["read_by"], 0);

    let dave = user_of_another_org(&w.server, &w.admin, "dave").await;
    let (status, body) = dave.post("/api/v1/push/receipts", report).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = w
        .carol
        .post("/api/v1/push/receipts", json!({"conversation_id": w.conv}))
        .await;
    assert!(status.is_client_error());
}

async fn departments_name_an_on_call_user(storage: Storage) {
    let w = ward(&storage).await;
    let org = w.admin.org_id().await;
    let (status, dept) = w
        .admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "救急科"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dept}");
    assert_eq!(dept["on_call_user_id"], Value::Null);
    let path = format!("/api/v1/departments/{}", dept["id"].as_str().unwrap());
    let version = dept["version"].as_i64();

    let (status, _) = w
        .alice
        .patch(&path, json!({"on_call_user_id": w.bob_id}), version)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let dave = user_of_another_org(&w.server, &w.admin, "dave").await;
    let (_, dave_me) = dave.get("/api/v1/me").await;
    let dave_id = dave_me["id"]
        .as_str()
        .or(dave_me["user"]["id"].as_str())
        .unwrap()
        .to_owned();
    let (status, body) = w
        .admin
        .patch(&path, json!({"on_call_user_id": dave_id}), version)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_on_call_user");

    let (status, saved) = w
        .admin
        .patch(&path, json!({"on_call_user_id": w.bob_id}), version)
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["on_call_user_id"], w.bob_id.as_str());
    assert_eq!(saved["name"], "救急科");
    let (status, cleared) = w
        .admin
        .patch(
            &path,
            json!({"on_call_user_id": null}),
            saved["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["on_call_user_id"], Value::Null);
    let (status, renamed) = w
        .admin
        .patch(&path, json!({"name": "ER"}), cleared["version"].as_i64())
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "ER");
}
