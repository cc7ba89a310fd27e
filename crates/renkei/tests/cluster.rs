//! Several renkei nodes as one service, on one PostgreSQL database and NATS: revocations made
//! on one node reach the user's sockets on the other at once, the per-address sign-in limit
//! holds across nodes, hints lost while NATS was down are caught up from the store, and
//! `X-Forwarded-For` counts only when a trusted proxy sends it.

mod common;

use std::time::Duration;

use common::{Api, Cluster, NatsServer, Server, Storage, USER_PASSWORD, Ws, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn token(api: &Api) -> &str {
    api.token.as_deref().unwrap()
}

/// Alice and Bob of the first organization, signed in on node 0, and a group of theirs.
async fn alice_and_bob(cluster: &Cluster) -> (Api, Api, String, String) {
    let a = cluster.node(0);
    let admin = a.first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(a, &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(a, &admin, &org, "bob").await;
    let bob_id = bob_user["id"].as_str().unwrap().to_owned();
    let (status, conv) = alice
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "Ward 3", "member_ids": [bob_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    (alice, bob, bob_id, conv["id"].as_str().unwrap().to_owned())
}

async fn post(api: &Api, conv: &str, client_id: &str) {
    let (status, body) = api
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": client_id, "body": format!("message {client_id}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The close code the server ends `ws` with (frames before it are skipped).
async fn closed_with(ws: &mut Ws) -> u16 {
    loop {
        if let Err(closed) = ws.next_or_close().await {
            return closed.0;
        }
    }
}

/// The client_msg_id of the next message event within `wait`, if one comes.
async fn next_message_within(ws: &mut Ws, wait: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        match ws.next_or_close().await {
            Ok(frame)
                if frame["type"] == "event" && frame["event"]["kind"] == "message.created" =>
            {
                return frame["event"]["message"]["client_msg_id"]
                    .as_str()
                    .map(str::to_owned);
            }
            Ok(_) => {}
            Err(closed) if closed.0 == 0 => {}
            Err(closed) => panic!("the socket closed: {closed:?}"),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_on_one_node_reach_sockets_on_the_other() {
    let Some(storage) = Storage::postgres("cluster_revocations").await else {
        return;
    };
    let Some(nats) = common::shared_nats() else {
        return;
    };
    let cluster = Cluster::start(&storage, &nats, 2, &[]);
    let (alice, bob, bob_id, conv) = alice_and_bob(&cluster).await;
    let b = cluster.node(1);

    // Bob on node 1 receives what Alice posts on node 0.
    let (mut ws, _) = Ws::connect(b, token(&bob), None).await;
    post(&alice, &conv, "before").await;
    assert_eq!(
        next_message_within(&mut ws, Duration::from_secs(5)).await,
        Some("before".into())
    );

    // Removed on node 0: told at once on node 1, and sent nothing more.
    let (status, body) = alice
        .delete(&format!("/api/v1/conversations/{conv}/members/{bob_id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        ws.next_of("removed").await["conversation_id"],
        conv.as_str()
    );
    post(&alice, &conv, "after").await;
    assert!(
        ws.quiet_for("event", 500).await,
        "a removed member receives nothing"
    );

    // Signing out on node 0 closes that session's socket on node 1 (not only at the next
    // periodic check), and leaves the other session's socket open.
    let other = b.login("bob", USER_PASSWORD).await;
    let (mut other_ws, _) = Ws::connect(b, token(&other), None).await;
    let (status, _) = Api {
        base: cluster.node(0).base.clone(),
        ..bob.clone()
    }
    .post("/api/v1/auth/logout", json!({}))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(closed_with(&mut ws).await, 4001);
    assert!(
        other_ws.quiet_for("error", 300).await,
        "the other session stays"
    );

    // Retired on node 0: every socket of Bob's on node 1 closes.
    let admin = cluster.node(0).login("admin", common::ADMIN_PASSWORD).await;
    let (_, current) = admin.get(&format!("/api/v1/users/{bob_id}")).await;
    let (status, saved) = admin
        .patch(
            &format!("/api/v1/users/{bob_id}"),
            json!({"status": "retired"}),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(closed_with(&mut other_ws).await, 4001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_on_one_node_count_on_the_other() {
    let Some(storage) = Storage::postgres("cluster_rate_limit").await else {
        return;
    };
    let Some(nats) = common::shared_nats() else {
        return;
    };
    let limit = [("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "4")];
    let cluster = Cluster::start(&storage, &nats, 2, &limit);
    let attempt = |node: usize| {
        let api = cluster.node(node).client();
        async move {
            let (status, body) = api
                .post(
                    "/api/v1/auth/login",
                    json!({"login": "nobody", "password": "wrong password"}),
                )
                .await;
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        }
    };
    // Four attempts from this address, spread over both nodes, are within the limit...
    for node in [0, 1, 0, 1] {
        assert_eq!(attempt(node).await.0, StatusCode::UNAUTHORIZED);
    }
    // ...and the fifth is refused on either node (each saw only two).
    for node in [0, 1] {
        assert_eq!(
            attempt(node).await,
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited".to_owned())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_lost_while_nats_is_down_are_caught_up_from_the_store() {
    let Some(storage) = Storage::postgres("cluster_nats_down").await else {
        return;
    };
    let Some(mut nats) = NatsServer::start() else {
        return;
    };
    let cluster = Cluster::start(&storage, &nats.url(), 2, &[]);
    let (alice, bob, _, conv) = alice_and_bob(&cluster).await;
    let (mut ws, _) = Ws::connect(cluster.node(1), token(&bob), None).await;
    post(&alice, &conv, "1").await;
    assert_eq!(
        next_message_within(&mut ws, Duration::from_secs(5)).await,
        Some("1".into())
    );

    // NATS dies: posting goes on (the database is the truth), the hint is lost.
    nats.kill();
    post(&alice, &conv, "2").await;
    post(&alice, &conv, "3").await;
    assert!(
        ws.quiet_for("event", 300).await,
        "no hint crosses while NATS is down"
    );

    // NATS is back: the nodes reconnect, and Bob's open socket catches up from the store,
    // exactly once and in order, without reconnecting.
    assert!(nats.resume());
    for expected in ["2", "3"] {
        assert_eq!(
            next_message_within(&mut ws, Duration::from_secs(15)).await,
            Some(expected.into())
        );
    }
    post(&alice, &conv, "4").await;
    assert_eq!(
        next_message_within(&mut ws, Duration::from_secs(5)).await,
        Some("4".into()),
        "nothing twice, and live again"
    );
}

/// A wrong sign-in from `forwarded_for` (as `X-Forwarded-For`): its status and code.
async fn login_as(server: &Server, forwarded_for: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"login": "nobody", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let limit = ("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "2");
    // Nobody trusted: a forged header changes nothing, every attempt is the peer's.
    let storage = Storage::sqlite();
    let server = Server::start(&storage, &[limit]);
    for forged in ["203.0.113.1", "203.0.113.2"] {
        assert_eq!(login_as(&server, forged).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login_as(&server, "203.0.113.3").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    drop(server);

    // The test's loopback address trusted as the load balancer: the client is the rightmost
    // address it did not add itself, whatever the client put in front.
    let storage = Storage::sqlite();
    let trusted = ("RENKEI_TRUSTED_PROXIES", r#"["127.0.0.0/8"]"#);
    let server = Server::start(&storage, &[limit, trusted]);
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        assert_eq!(
            login_as(&server, client).await.0,
            StatusCode::UNAUTHORIZED,
            "{client} has its own window"
        );
    }
    assert_eq!(
        login_as(&server, "198.51.100.1, 203.0.113.1").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = login_as(&server, "198.51.100.2, 203.0.113.1, 127.0.0.1").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "203.0.113.1's third attempt, behind a forged first hop and an inner proxy: {body}"
    );
}
