//! Calls over the real server's WebSocket: start, ring, join, signalling relayed between the two
//! sockets, a stranger refused, hang-up and disconnect ending the call, the call frame for a
//! socket that connects during a call, and call frames kept off the chat frame budget.

mod common;

use common::{Api, Server, Storage, Ws, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

on_both_backends!(two_sockets_call_each_other_over_the_server);

/// The next `call` frame whose call is in `state`.
async fn call_in(ws: &mut Ws, state: &str) -> Value {
    loop {
        let frame = ws.next_of("call").await;
        if frame["call"]["state"] == state {
            return frame["call"].clone();
        }
    }
}

fn conn(ws: &Ws) -> String {
    ws.welcome["conn"]
        .as_str()
        .expect("welcome names the conn")
        .to_owned()
}

fn token(api: &Api) -> &str {
    api.token.as_deref().unwrap()
}

async fn two_sockets_call_each_other_over_the_server(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&server, &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let (carol, _) = active_user(&server, &admin, &org, "carol").await;
    let (status, conv) = alice
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [bob_user["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    let conv = conv["id"].as_str().unwrap().to_owned();

    let (mut a, _) = Ws::connect(&server, token(&alice), None).await;
    let (mut b, _) = Ws::connect(&server, token(&bob), None).await;
    let (mut c, _) = Ws::connect(&server, token(&carol), None).await;
    assert_ne!(conn(&a), conn(&b));

    // Start: both sides hear it ring.
    a.send(json!({"type": "call_start", "conversation_id": conv, "media": "video"}))
        .await;
    let ringing = call_in(&mut a, "ringing").await;
    assert_eq!(call_in(&mut b, "ringing").await["id"], ringing["id"]);
    assert_eq!(ringing["mode"], "p2p");
    assert_eq!(ringing["ringing"], json!([bob_user["id"]]));
    let call_id = ringing["id"].as_str().unwrap().to_owned();

    // Join: active for both.
    b.send(json!({"type": "call_join", "call_id": call_id, "media": "video"}))
        .await;
    let active = call_in(&mut a, "active").await;
    assert_eq!(active["participants"][1]["conn"], json!(conn(&b)));
    call_in(&mut b, "active").await;

    // Signalling reaches the named socket, unchanged.
    let offer = json!({"description": {"type": "offer", "sdp": "v=0\r\n"}});
    a.send(json!({"type": "call_signal", "call_id": call_id, "to_conn": conn(&b), "data": offer}))
        .await;
    let signal = b.next_of("call_signal").await;
    assert_eq!(signal["data"], offer);
    assert_eq!(signal["from_conn"], json!(conn(&a)));
    let candidate = json!({"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}});
    b.send(
        json!({"type": "call_signal", "call_id": call_id, "to_conn": conn(&a), "data": candidate}),
    )
    .await;
    assert_eq!(a.next_of("call_signal").await["data"], candidate);

    // A stranger can neither signal into the call nor join it, and hears nothing of it.
    c.send(json!({"type": "call_signal", "call_id": call_id, "to_conn": conn(&a), "data": offer}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "not_a_participant");
    c.send(json!({"type": "call_join", "call_id": call_id, "media": "audio"}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "call_forbidden");
    assert!(
        a.quiet_for("call_signal", 300).await,
        "nothing from the stranger"
    );
    c.send(json!({"type": "call_start", "conversation_id": conv, "media": "audio"}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "call_forbidden");
    c.send(json!({"type": "call_leave", "call_id": "not a uuid"}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "invalid_call_frame");

    // ICE candidates come in bursts: call frames have their own budget, not the chat's 60.
    for i in 0..120 {
        a.send(
            json!({"type": "call_signal", "call_id": call_id, "to_conn": conn(&b),
            "data": {"candidate": {"candidate": format!("candidate:{i}")}}}),
        )
        .await;
    }
    a.send(json!({"type": "ping"})).await;
    assert_eq!(
        a.next_of("pong").await["type"],
        "pong",
        "still open after 120 call frames"
    );
    let mut relayed = 0;
    while relayed < 120 {
        let frame = b.next_of("call_signal").await;
        assert!(frame["data"]["candidate"].is_object());
        relayed += 1;
    }
    // Shared-view frames beyond 25/s are dropped silently (each one that passes is answered
    // here: the study does not exist, so Alice may not share it).
    for _ in 0..60 {
        a.send(json!({"type": "view_share", "call_id": call_id,
            "target": {"kind": "study", "id": "00000000-0000-0000-0000-000000000001"},
            "state": {"slice": 12, "window_center": 40, "window_width": 400, "pointer": {"x": 0.5, "y": 0.5}}}))
            .await;
    }
    a.send(json!({"type": "ping"})).await;
    let mut refused = 0;
    loop {
        let frame = a.next().await.expect("a frame");
        match frame["type"].as_str() {
            Some("pong") => break,
            Some("error") => {
                assert_eq!(frame["code"], "call_forbidden");
                refused += 1;
            }
            _ => {}
        }
    }
    assert!(
        (25..=50).contains(&refused),
        "{refused} view frames passed of 60: 25 at once, then 25 a second"
    );
    assert!(
        b.quiet_for("view_share", 200).await,
        "nothing shared that Bob may not see"
    );

    // A second socket of Bob's that connects now learns of the call after `synced`.
    let (mut b2, _) = Ws::connect(&server, token(&bob), None).await;
    let late = b2.next_of("call").await;
    assert_eq!(late["call"]["id"], json!(call_id));
    assert_eq!(late["call"]["state"], "active");

    // Hang up: ended for everyone, and in the timeline.
    a.send(json!({"type": "call_leave", "call_id": call_id}))
        .await;
    let (mut ended, mut recorded) = (None, None);
    while ended.is_none() || recorded.is_none() {
        let frame = b.next().await.expect("the end and its event");
        if frame["type"] == "call" && frame["call"]["state"] == "ended" {
            ended = Some(frame["call"].clone());
        }
        if frame["type"] == "event" && frame["event"]["kind"] == "call.ended" {
            recorded = Some(frame["event"]["data"].clone());
        }
    }
    assert_eq!(ended.unwrap()["end_reason"], "completed");
    let recorded = recorded.unwrap();
    assert_eq!(recorded["end_reason"], "completed");
    assert_eq!(recorded["participants"].as_array().unwrap().len(), 2);
    assert_eq!(call_in(&mut b2, "ended").await["id"], json!(call_id));

    // A socket that goes away keeps its place for the resume grace (a phone changing
    // networks): the other side sees it reconnecting, not an end; hanging up still ends it.
    a.send(json!({"type": "call_start", "conversation_id": conv, "media": "audio"}))
        .await;
    let second = call_in(&mut b, "ringing").await;
    b.send(json!({"type": "call_join", "call_id": second["id"], "media": "audio"}))
        .await;
    call_in(&mut a, "active").await;
    drop(b);
    let waiting = loop {
        let call = call_in(&mut a, "active").await;
        if call["participants"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["reconnecting"] == true))
        {
            break call;
        }
    };
    assert_eq!(waiting["id"], second["id"]);
    a.send(json!({"type": "call_leave", "call_id": second["id"]}))
        .await;
    let gone = call_in(&mut a, "ended").await;
    assert_eq!(gone["id"], second["id"]);
    assert_eq!(gone["end_reason"], "completed");

    // A page that closes says so ("going away", 1001): its part ends at once, with no grace.
    let (mut b3, _) = Ws::connect(&server, token(&bob), None).await;
    a.send(json!({"type": "call_start", "conversation_id": conv, "media": "audio"}))
        .await;
    let third = call_in(&mut b3, "ringing").await;
    b3.send(json!({"type": "call_join", "call_id": third["id"], "media": "audio"}))
        .await;
    call_in(&mut a, "active").await;
    b3.send_raw(Message::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    })))
    .await;
    let closed = call_in(&mut a, "ended").await;
    assert_eq!(closed["id"], third["id"]);

    // TURN credentials need a secret this server was not given.
    let (status, body) = alice.get("/api/v1/calls/turn").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "turn_not_configured", "{body}");
}
