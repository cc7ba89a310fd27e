//! Several nodes: two `renkei serve` processes on one PostgreSQL database (and one S3 bucket
//! when `RENKEI_TEST_S3_URL` is set), behind HAProxy run with `deploy/haproxy.cfg` as
//! docs/DEPLOYMENT.md gives it (only its addresses changed). HTTP and a WebSocket chat pass
//! through it; a node whose `/readyz` fails (database unreachable, draining for a shutdown)
//! is taken out and put back; media uploaded through one node download through another, also
//! once the first was killed.

mod common;

use std::time::Duration;

use common::lb::{download, have_haproxy, node_env, start_node, through, upload};
use common::{ADMIN_PASSWORD, Storage, Ws, active_user};
use reqwest::StatusCode;
use serde_json::json;

/// Lets connections to the database in or not (as when PostgreSQL is down or unreachable),
/// ending the ones open when not.
async fn database_reachable(url: &str, reachable: bool) {
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
    let admin_url = std::env::var("RENKEI_TEST_POSTGRES_URL").unwrap();
    let pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let allow = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}");
    sqlx::query(sqlx::AssertSqlSafe(allow))
        .execute(&pool)
        .await
        .unwrap();
    if !reachable {
        let end = "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1";
        sqlx::query(end).bind(name).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_passes_http_and_websockets_and_takes_out_a_node_that_is_not_ready() {
    if !have_haproxy() {
        return;
    }
    let Some(first) = Storage::postgres("load_balancer").await else {
        return;
    };
    let second = first.another_node();
    let env = node_env(&format!("lb-{}", renkei_core::new_id()));
    // One after the other: the first creates the first administrator.
    let mut nodes = vec![start_node(&first, &env)];
    nodes.push(start_node(&second, &env));
    let admin = nodes[0].first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&nodes[0], &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&nodes[1], &admin, &org, "bob").await;

    let lb = common::lb::in_front_of(&[&nodes[0], &nodes[1]], first.dir.path()).await;
    let (http, dicom) = (lb.http.clone(), lb.dicom.clone());
    let both_up = [("renkei1", "UP"), ("renkei2", "UP")];

    // HTTP and a WebSocket chat through the balancer.
    let (alice_lb, bob_lb) = (through(&http, &alice), through(&http, &bob));
    let (status, conv) = alice_lb
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "Ward 3", "member_ids": [bob_user["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    let conv = conv["id"].as_str().unwrap().to_owned();
    let (mut ws, _) = Ws::connect_at(&http, alice.token.as_deref().unwrap(), None).await;
    ws.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "lb-1", "body": "BP 120/80"})).await;
    let ack = ws.next_of("ack").await;
    assert_eq!(ack["client_msg_id"], "lb-1", "{ack}");
    let event = ws.next_of("event").await;
    assert_eq!(event["event"]["message"]["body"], "BP 120/80", "{event}");
    let history = format!("/api/v1/conversations/{conv}/messages");
    for _ in 0..4 {
        // Whichever node answers, the history is the database's.
        let (status, messages) = bob_lb.get(&history).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(messages[0]["client_msg_id"], "lb-1", "{messages}");
    }

    // DICOM through the balancer: whichever node an association reaches takes it (both do,
    // as leastconn alternates between idle nodes).
    first.add_dicom_peer("LBTEST", "127.0.0.0/8");
    let (host, port) = dicom.rsplit_once(':').unwrap();
    let echo = ["-aet", "LBTEST", "-aec", "RENKEI", host, port];
    let mut echoed = 0;
    for _ in 0..40 {
        // A refused echo has a node re-read its peers (at most once a second).
        match common::dicom::dcmtk("echoscu", &echo) {
            None => break,
            Some(out) if out.status.success() => echoed += 1,
            Some(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
        if echoed == 4 {
            break;
        }
    }
    assert!(
        echoed == 4 || common::dicom::dcmtk("echoscu", &["--version"]).is_none(),
        "C-ECHO through the balancer"
    );

    // PostgreSQL unreachable: each node's /readyz answers 503 database_unavailable, the
    // balancer takes both out and answers 503 with a code of its own; once the database is
    // back, both come back by themselves.
    database_reachable(first.database_url.as_deref().unwrap(), false).await;
    let (status, body) = nodes[0].client().get("/readyz").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database_unavailable")
        ),
        "{body}"
    );
    lb.until("renkei_http", &[("renkei1", "DOWN"), ("renkei2", "DOWN")])
        .await;
    let (status, body) = bob_lb.get("/api/v1/me").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("no_node_ready")),
        "{body}"
    );
    database_reachable(first.database_url.as_deref().unwrap(), true).await;
    lb.until("renkei_http", &both_up).await;
    assert_eq!(bob_lb.get(&history).await.0, StatusCode::OK);

    // A node asked to stop drains: /readyz says so, the balancer takes it out while the
    // other serves every request, then it exits; a WebSocket it held reconnects through the
    // balancer to the other.
    nodes[0].terminate();
    // The signal is handled on the node's own time: ask until it answers (bounded).
    let mut answer = nodes[0].client().get("/readyz").await;
    for _ in 0..50 {
        if answer.0 == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = nodes[0].client().get("/readyz").await;
    }
    let (status, body) = answer;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("draining")),
        "{body}"
    );
    let draining = async {
        loop {
            let (status, body) = bob_lb.get("/api/v1/me").await;
            assert_eq!(
                status,
                StatusCode::OK,
                "no request fails while a node drains: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        _ = lb.until("renkei_http", &[("renkei1", "DOWN"), ("renkei2", "UP")]) => {}
        _ = draining => unreachable!(),
    }
    assert!(
        nodes[0].exited_within(Duration::from_secs(15)),
        "the drained node exits"
    );
    for _ in 0..4 {
        assert_eq!(bob_lb.get(&history).await.0, StatusCode::OK);
    }
    let (mut again, _) = Ws::connect_at(&http, alice.token.as_deref().unwrap(), None).await;
    again.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "lb-2", "body": "after the drain"})).await;
    assert_eq!(again.next_of("ack").await["client_msg_id"], "lb-2");
    drop(ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_uploaded_through_one_node_downloads_through_another_after_it_is_killed() {
    if common::lb::s3_url().is_none() {
        return;
    }
    let Some(first) = Storage::postgres("media_two_nodes").await else {
        return;
    };
    let second = first.another_node();
    let env = node_env(&format!("media-{}", renkei_core::new_id()));
    let a = start_node(&first, &env);
    let b = start_node(&second, &env);
    let admin = a.first_admin().await;
    let on_b = b.login("admin", ADMIN_PASSWORD).await;
    let pdf = [b"%PDF-1.4\n".as_slice(), &[b'x'; 200_000], b"\n%%EOF\n"].concat();
    let media = upload(&admin, "referral.pdf", "application/pdf", pdf.clone()).await;
    let id = media["id"].as_str().unwrap();
    let (status, through_a) = download(&admin, id).await;
    assert_eq!(
        (status, &through_a),
        (StatusCode::OK, &pdf),
        "a PDF is stored as it is"
    );
    assert_eq!(
        download(&on_b, id).await,
        (StatusCode::OK, through_a.clone())
    );
    // Nothing of it is kept on either node's disk: the objects are in the bucket.
    for storage in [&first, &second] {
        let blobs = storage.data_dir().join("blobs");
        assert!(!blobs.exists(), "{} holds no objects", blobs.display());
    }
    a.stop();
    assert_eq!(download(&on_b, id).await, (StatusCode::OK, through_a));
}
