//! Conversations and real-time messaging over real HTTP and WebSocket, on both backends.

mod common;

use common::{Api, Closed, Server, Storage, Ws, active_user, urlencode};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    group_messages_are_acked_and_delivered_live_in_order,
    resends_are_never_duplicated,
    reconnecting_replays_exactly_what_was_missed,
    non_members_see_nothing_and_removed_members_are_cut_off,
    retiring_a_user_closes_their_socket,
    bad_messages_and_frames_are_refused_and_others_are_unaffected,
    receipts_unread_counts_and_typing,
    direct_conversations_are_unique_and_history_pages,
    edits_and_deletions_reach_everyone_and_stay_in_the_audit_log,
    search_covers_my_conversations_only,
    browsers_connect_with_the_session_cookie_from_the_same_origin_only,
);

struct Team {
    server: Server,
    admin: Api,
    people: Vec<(Api, String)>,
}

async fn team(storage: &Storage, n: usize) -> Team {
    let server = Server::start(storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave"].iter().take(n) {
        let (api, user) = active_user(&server, &admin, &org, name).await;
        people.push((api, user["id"].as_str().unwrap().to_owned()));
    }
    Team {
        server,
        admin,
        people,
    }
}

fn token(api: &Api) -> &str {
    api.token.as_deref().unwrap()
}

async fn group(owner: &Api, title: &str, members: &[&str]) -> String {
    let (status, conv) = owner
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": title, "member_ids": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    conv["id"].as_str().unwrap().to_owned()
}

async fn post(api: &Api, conv: &str, client_id: &str, body: &str) -> (StatusCode, Value) {
    api.post(
        &format!("/api/v1/conversations/{conv}/messages"),
        json!({"client_msg_id": client_id, "body": body}),
    )
    .await
}

async fn next_message(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.next_of("event").await;
        if frame["event"]["kind"] == "message.created" {
            return frame["event"].clone();
        }
    }
}

async fn group_messages_are_acked_and_delivered_live_in_order(storage: Storage) {
    let t = team(&storage, 3).await;
    let [(alice, _), (bob, bob_id), (carol, carol_id)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "ICU night shift", &[bob_id, carol_id]).await;
    let (mut a, _) = Ws::connect(&t.server, token(alice), None).await;
    let (mut b, _) = Ws::connect(&t.server, token(bob), None).await;
    let (mut c, _) = Ws::connect(&t.server, token(carol), None).await;
    for i in 0..5 {
        a.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": format!("a-{i}"), "body": format!("vitals {i}"), "priority": if i == 4 { "urgent" } else { "normal" }})).await;
    }
    let mut acked = Vec::new();
    while acked.len() < 5 {
        let frame = a.next().await.expect("ack");
        if frame["type"] == "ack" {
            acked.push((
                frame["client_msg_id"].as_str().unwrap().to_owned(),
                frame["seq"].as_i64().unwrap(),
            ));
        }
    }
    acked.sort_by_key(|(_, seq)| *seq);
    for ws in [&mut b, &mut c] {
        for (i, (client_id, seq)) in acked.iter().enumerate() {
            let event = next_message(ws).await;
            assert_eq!(
                (
                    event["seq"].as_i64(),
                    event["message"]["client_msg_id"].as_str()
                ),
                (Some(*seq), Some(client_id.as_str()))
            );
            if i > 0 {
                assert_eq!(*seq, acked[i - 1].1 + 1, "gap-free numbers");
            }
        }
    }
    let (_, history) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    let bodies: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 5);
    assert_eq!(history[4]["priority"], "urgent");
    // A message posted over REST reaches the sockets too.
    let (status, ack) = post(carol, &conv, "c-1", "on my way").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(next_message(&mut b).await["seq"], ack["seq"]);
}

async fn resends_are_never_duplicated(storage: Storage) {
    let t = team(&storage, 2).await;
    let [(alice, _), (bob, bob_id)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Ward 3", &[bob_id]).await;
    let (s1, first) = post(alice, &conv, "same-id", "BP 80/40").await;
    let (s2, again) = post(alice, &conv, "same-id", "BP 80/40").await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(
        (first["seq"].clone(), again["duplicate"].as_bool()),
        (again["seq"].clone(), Some(true))
    );
    let (mut ws, _) = Ws::connect(&t.server, token(alice), None).await;
    ws.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "same-id", "body": "BP 80/40"})).await;
    let ack = ws.next_of("ack").await;
    assert_eq!(
        (ack["seq"].clone(), ack["duplicate"].as_bool()),
        (first["seq"].clone(), Some(true))
    );
    let (_, history) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(history.as_array().unwrap().len(), 1);
}

async fn reconnecting_replays_exactly_what_was_missed(storage: Storage) {
    let t = team(&storage, 2).await;
    let [(alice, _), (bob, bob_id)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Cath lab", &[bob_id]).await;
    post(alice, &conv, "1", "first").await;
    let (mut b, _) = Ws::connect(&t.server, token(bob), None).await;
    let (_, second) = post(alice, &conv, "2", "second").await;
    let seen = next_message(&mut b).await["seq"].as_i64().unwrap();
    assert_eq!(Some(seen), second["seq"].as_i64());
    drop(b);
    // While bob is away: three messages, an edit and a deletion.
    for (id, body) in [("3", "third"), ("4", "fourth"), ("5", "fifth")] {
        post(alice, &conv, id, body).await;
    }
    alice
        .patch(
            &format!("/api/v1/conversations/{conv}/messages/{}", seen + 1),
            json!({"body": "third (fixed)"}),
            None,
        )
        .await;
    let (status, _) = alice
        .http
        .delete(alice.url(&format!(
            "/api/v1/conversations/{conv}/messages/{}",
            seen + 2
        )))
        .bearer_auth(token(alice))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (mut b, replay) =
        Ws::connect(&t.server, token(bob), Some(json!({ conv.clone(): seen }))).await;
    let seqs: Vec<i64> = replay.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        ((seen + 1)..=(seen + 5)).collect::<Vec<_>>(),
        "every missed event once, in order"
    );
    let kinds: Vec<&str> = replay.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "message.created",
            "message.created",
            "message.created",
            "message.edited",
            "message.deleted"
        ]
    );
    assert_eq!(replay[0]["message"]["body"], "third (fixed)");
    assert_eq!(
        replay[1]["message"]["body"], "",
        "a deleted message is not replayed"
    );
    // Live continues after the replay, with nothing repeated.
    let (_, sixth) = post(alice, &conv, "6", "sixth").await;
    assert_eq!(next_message(&mut b).await["seq"], sixth["seq"]);
    // A client that knew nothing of the conversation gets it from the member.added that
    // brought it in.
    let (_, replay) = Ws::connect(&t.server, token(bob), Some(json!({}))).await;
    assert_eq!(replay[0]["kind"], "member.added");
    assert_eq!(replay.last().unwrap()["seq"], sixth["seq"]);
}

async fn non_members_see_nothing_and_removed_members_are_cut_off(storage: Storage) {
    let t = team(&storage, 3).await;
    let [(alice, _), (bob, bob_id), (carol, _)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Tumour board", &[bob_id]).await;
    let (_, m) = post(alice, &conv, "1", "case 12").await;
    let seq = m["seq"].as_i64().unwrap();
    let base = format!("/api/v1/conversations/{conv}");
    for path in [
        base.clone(),
        format!("{base}/messages"),
        format!("{base}/events"),
        format!("{base}/members"),
        format!("{base}/messages/{seq}/receipts"),
    ] {
        assert_eq!(carol.get(&path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        post(carol, &conv, "x", "let me in").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol
            .patch(
                &format!("{base}/messages/{seq}"),
                json!({"body": "x"}),
                None
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol
            .post(&format!("{base}/read"), json!({"seq": seq}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol
            .post(
                &format!("{base}/members"),
                json!({"user_id": carol.org_id().await})
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (mut c, _) = Ws::connect(&t.server, token(carol), None).await;
    c.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "ws-x", "body": "hi"}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "conversation_not_found");
    // Bob is removed while connected: he is told, and gets nothing more.
    let (mut b, _) = Ws::connect(&t.server, token(bob), None).await;
    let resp = alice
        .http
        .delete(alice.url(&format!("{base}/members/{bob_id}")))
        .bearer_auth(token(alice))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.next_of("removed").await["conversation_id"], conv.as_str());
    post(alice, &conv, "2", "after bob left").await;
    assert!(
        b.quiet_for("event", 500).await,
        "a removed member receives nothing"
    );
    assert_eq!(
        bob.get(&format!("{base}/messages")).await.0,
        StatusCode::NOT_FOUND
    );
    // Only group admins manage members.
    let (status, _) = carol
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "x", "member_ids": [], "include_me": false}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn retiring_a_user_closes_their_socket(storage: Storage) {
    let t = team(&storage, 2).await;
    let [(_, _), (bob, bob_id)] = &t.people[..] else {
        unreachable!()
    };
    let (mut b, _) = Ws::connect(&t.server, token(bob), None).await;
    let (_, current) = t.admin.get(&format!("/api/v1/users/{bob_id}")).await;
    let (status, saved) = t
        .admin
        .patch(
            &format!("/api/v1/users/{bob_id}"),
            json!({"status": "retired"}),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(b.next_or_close().await.unwrap_err().0, 4001);
    let mut again = Ws::open(&t.server).await;
    again
        .send(json!({"type": "hello", "token": token(bob)}))
        .await;
    assert_eq!(again.next_of("error").await["code"], "unauthenticated");
}

async fn bad_messages_and_frames_are_refused_and_others_are_unaffected(storage: Storage) {
    let t = team(&storage, 3).await;
    let [(alice, _), (bob, bob_id), (carol, carol_id)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Night", &[bob_id, carol_id]).await;
    let other = group(alice, "Day", &[bob_id]).await;
    let (_, in_other) = post(alice, &other, "o-1", "elsewhere").await;
    let url = format!("/api/v1/conversations/{conv}/messages");
    let cases = [
        (
            json!({"client_msg_id": "e1", "body": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_message",
        ),
        (
            json!({"client_msg_id": "e2", "body": "x".repeat(10_001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "message_too_long",
        ),
        (
            json!({"client_msg_id": "e3", "body": "re", "reply_to": in_other["seq"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reply_not_found",
        ),
        (
            json!({"client_msg_id": "", "body": "hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_msg_id",
        ),
        (
            json!({"client_msg_id": "o-1", "body": "reuse"}),
            StatusCode::CONFLICT,
            "client_msg_id_reused",
        ),
        (
            json!({"body": "no id"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        let (got, err) = alice.post(&url, body).await;
        assert_eq!((got, err["code"].as_str()), (status, Some(code)));
    }
    assert_eq!(
        post(
            alice,
            "/api/v1/conversations/00000000-0000-7000-8000-000000000000",
            "z",
            "x"
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (_, history) = bob.get(&url).await;
    assert_eq!(
        history.as_array().unwrap().len(),
        0,
        "nothing refused was stored"
    );

    let (mut c, _) = Ws::connect(&t.server, token(carol), None).await;
    // Malformed frames get an error event and the connection stays.
    let (mut b, _) = Ws::connect(&t.server, token(bob), None).await;
    b.send_raw(tokio_tungstenite::tungstenite::Message::Text(
        "{nope".into(),
    ))
    .await;
    assert_eq!(b.next_of("error").await["code"], "invalid_frame");
    b.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "b-1", "body": ""}))
        .await;
    let err = b.next_of("error").await;
    assert_eq!(
        (err["code"].as_str(), err["client_msg_id"].as_str()),
        (Some("empty_message"), Some("b-1"))
    );
    // A flood is cut off with a reason; a binary frame too.
    for _ in 0..200 {
        b.send_raw(tokio_tungstenite::tungstenite::Message::Text(
            json!({"type": "ping"}).to_string().into(),
        ))
        .await;
    }
    let closed = loop {
        match b.next_or_close().await {
            Ok(_) => continue,
            Err(closed) => break closed,
        }
    };
    // 4029 (flood); on a loaded machine the 200 answers can also back up first: 4008 (slow).
    assert!(matches!(closed.0, 4029 | 1008 | 4008), "{closed:?}");
    let (mut b2, _) = Ws::connect(&t.server, token(bob), None).await;
    b2.send_raw(tokio_tungstenite::tungstenite::Message::Binary(
        vec![1, 2, 3].into(),
    ))
    .await;
    assert_eq!(
        b2.next_or_close().await.unwrap_err(),
        Closed(1003, "binary frames are not accepted".into())
    );
    // A socket without a valid hello is closed.
    let mut anon = Ws::open(&t.server).await;
    anon.send(json!({"type": "hello", "token": "forged"})).await;
    assert_eq!(anon.next_of("error").await["code"], "unauthenticated");
    // Carol never noticed.
    let (_, ok) = post(alice, &conv, "fine", "still here").await;
    assert_eq!(next_message(&mut c).await["seq"], ok["seq"]);
}

async fn receipts_unread_counts_and_typing(storage: Storage) {
    let t = team(&storage, 3).await;
    let [(alice, _), (bob, bob_id), (carol, carol_id)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Rounds", &[bob_id, carol_id]).await;
    post(alice, &conv, "1", "one").await;
    let (_, two) = post(alice, &conv, "2", "two").await;
    let seq = two["seq"].as_i64().unwrap();
    let (_, list) = bob.get("/api/v1/conversations").await;
    assert_eq!(
        (
            list[0]["unread"].as_i64(),
            list[0]["last_message"]["body"].as_str()
        ),
        (Some(2), Some("two"))
    );
    let (mut a, _) = Ws::connect(&t.server, token(alice), None).await;
    let (status, read) = bob
        .post(
            &format!("/api/v1/conversations/{conv}/read"),
            json!({"seq": seq}),
        )
        .await;
    assert_eq!(
        (status, read["last_read_seq"].as_i64()),
        (StatusCode::OK, Some(seq))
    );
    let receipt = a.next_of("receipt").await;
    assert_eq!(
        (receipt["user_id"].as_str(), receipt["seq"].as_i64()),
        (Some(bob_id.as_str()), Some(seq))
    );
    let (_, receipts) = alice
        .get(&format!(
            "/api/v1/conversations/{conv}/messages/{seq}/receipts"
        ))
        .await;
    assert_eq!(
        (receipts["read_by"].as_u64(), receipts["of"].as_u64()),
        (Some(1), Some(2)),
        "read by 1 of 2"
    );
    let (_, list) = bob.get("/api/v1/conversations").await;
    assert_eq!(list[0]["unread"], 0);
    let (mut c, _) = Ws::connect(&t.server, token(carol), None).await;
    c.send(json!({"type": "typing", "conversation_id": conv}))
        .await;
    assert_eq!(a.next_of("typing").await["user_id"], carol_id.as_str());
    assert!(
        c.quiet_for("typing", 300).await,
        "no echo of one's own typing"
    );
}

async fn direct_conversations_are_unique_and_history_pages(storage: Storage) {
    let t = team(&storage, 2).await;
    let [(alice, alice_id), (bob, bob_id)] = &t.people[..] else {
        unreachable!()
    };
    let (s1, first) = alice
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [bob_id]}),
        )
        .await;
    let (s2, second) = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [alice_id]}),
        )
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(first["id"], second["id"]);
    let conv = first["id"].as_str().unwrap();
    for i in 0..25 {
        post(alice, conv, &format!("m{i}"), &format!("message {i}")).await;
    }
    let (_, page1) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages?limit=10"))
        .await;
    let oldest = page1[0]["seq"].as_i64().unwrap();
    assert_eq!(page1[9]["body"], "message 24");
    let (_, page2) = bob
        .get(&format!(
            "/api/v1/conversations/{conv}/messages?limit=10&before_seq={oldest}"
        ))
        .await;
    assert_eq!(
        (page2[0]["body"].as_str(), page2[9]["body"].as_str()),
        (Some("message 5"), Some("message 14"))
    );
    let (status, _) = alice.post("/api/v1/conversations", json!({"kind": "direct", "member_ids": [bob_id, alice_id, "00000000-0000-7000-8000-000000000000"]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = alice
        .post(
            &format!("/api/v1/conversations/{conv}/members"),
            json!({"user_id": bob_id}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("direct_conversation")
        )
    );
}

async fn edits_and_deletions_reach_everyone_and_stay_in_the_audit_log(storage: Storage) {
    let t = team(&storage, 2).await;
    let [(alice, _), (bob, bob_id)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Pharmacy", &[bob_id]).await;
    let (_, m) = post(alice, &conv, "1", "heparin 5000 units").await;
    let seq = m["seq"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{conv}/messages/{seq}");
    let (mut b, _) = Ws::connect(&t.server, token(bob), None).await;
    assert_eq!(
        bob.patch(&path, json!({"body": "mine now"}), None).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, edited) = alice
        .patch(&path, json!({"body": "heparin 1000 units"}), None)
        .await;
    assert_eq!(
        (status, edited["body"].as_str()),
        (StatusCode::OK, Some("heparin 1000 units"))
    );
    assert!(edited["edited_at"].is_string());
    let event = b.next_of("event").await;
    assert_eq!(
        (
            event["event"]["kind"].as_str(),
            event["event"]["data"]["target_seq"].as_i64()
        ),
        (Some("message.edited"), Some(seq))
    );
    let resp = alice
        .http
        .delete(alice.url(&path))
        .bearer_auth(token(alice))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.next_of("event").await["event"]["kind"], "message.deleted");
    let (_, history) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert!(history[0]["deleted_at"].is_string() && history[0]["body"] == "");
    let (status, _) = alice
        .put(
            &format!("/api/v1/conversations/{conv}/members/{bob_id}"),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, audit) = t
        .admin
        .get("/api/v1/audit?action=conversation.member_role_changed")
        .await;
    assert_eq!(
        (
            &audit[0]["details"]["user_id"],
            &audit[0]["details"]["role"]
        ),
        (&json!(bob_id), &json!("admin")),
        "a role change is in the audit log"
    );
    let (_, audit) = t.admin.get("/api/v1/audit?action=message.edit").await;
    assert_eq!(audit[0]["details"]["before"], "heparin 5000 units");
    let (_, audit) = t.admin.get("/api/v1/audit?action=message.delete").await;
    assert_eq!(audit[0]["details"]["before"], "heparin 1000 units");
}

async fn search_covers_my_conversations_only(storage: Storage) {
    let t = team(&storage, 3).await;
    let [(alice, _), (bob, bob_id), (carol, _)] = &t.people[..] else {
        unreachable!()
    };
    let conv = group(alice, "Stroke", &[bob_id]).await;
    post(alice, &conv, "1", "脳梗塞の疑い、MRI予約済み").await;
    post(bob, &conv, "2", "Neurology on the way").await;
    for (who, q, expected) in [
        (bob, "脳梗塞", 1),
        (bob, "脳", 1),
        (bob, "neuro", 1),
        (bob, "mri", 1),
        (carol, "脳", 0),
    ] {
        let (status, found) = who
            .get(&format!("/api/v1/search/messages?q={}", urlencode(q)))
            .await;
        assert_eq!(
            (status, found.as_array().unwrap().len()),
            (StatusCode::OK, expected),
            "{q}"
        );
    }
    assert_eq!(
        bob.get("/api/v1/search/messages?q=").await.0,
        StatusCode::BAD_REQUEST
    );
}

async fn browsers_connect_with_the_session_cookie_from_the_same_origin_only(storage: Storage) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let t = team(&storage, 1).await;
    let cookie = format!("renkei_session={}", token(&t.people[0].0));
    let url = format!("{}/ws", t.server.base.replace("http://", "ws://"));
    let host = t.server.addr();
    let mut same = url.as_str().into_client_request().unwrap();
    same.headers_mut().insert("cookie", cookie.parse().unwrap());
    same.headers_mut()
        .insert("origin", format!("http://{host}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(same).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "hello"}).to_string().into(),
    ))
    .await
    .unwrap();
    let welcome = ws.next().await.unwrap().unwrap();
    assert!(
        welcome.to_text().unwrap().contains("welcome"),
        "{welcome:?}"
    );
    let mut foreign = url.as_str().into_client_request().unwrap();
    foreign
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    foreign
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(foreign).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), StatusCode::FORBIDDEN)
        }
        other => panic!(
            "a cross-origin upgrade must be refused: {:?}",
            other.map(|_| ())
        ),
    }
}
