//! What an operator watches on `/metrics` appears once the thing it measures happened: a
//! live delivery's latency, DICOM associations (completed and rejected), expiry sweeps, the
//! database pool and its write waits.

mod common;

use std::time::Duration;

use common::dicom::dcmtk;
use common::{Server, Storage, Ws, active_user};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(operator_metrics_appear_after_the_events_they_count);

async fn metrics(server: &Server) -> String {
    let api = server.client();
    let response = api
        .http
        .get(api.url("/metrics"))
        .bearer_auth("metrics-secret-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

async fn operator_metrics_appear_after_the_events_they_count(storage: Storage) {
    let server = Server::start_with(
        &storage,
        &[
            ("RENKEI_METRICS_TOKEN", "metrics-secret-123"),
            ("RENKEI_MEDIA_SWEEP_SECONDS", "1"),
        ],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&server, &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let (_, conv) = alice
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "ICU", "member_ids": [bob_user["id"]]}),
        )
        .await;
    let conv = conv["id"].as_str().unwrap().to_owned();

    // A message delivered live to bob's socket.
    let (mut b, _) = Ws::connect(&server, bob.token.as_deref().unwrap(), None).await;
    let (status, _) = alice
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": "m-1", "body": "BP 120/80"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    b.next_of("event").await;

    // DICOM: one rejected association (unknown AE), then one completed echo.
    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();
    let dicom = dcmtk("echoscu", &["-aet", "CT01", "-aec", "RENKEI", host, port]).is_some();
    if dicom {
        storage.add_dicom_peer("CT01", "127.0.0.0/8");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let echo = dcmtk("echoscu", &["-aet", "CT01", "-aec", "RENKEI", host, port]).unwrap();
        assert!(echo.status.success());
    }

    // Sweeps run every second; the gauges are published every second.
    let mut text = String::new();
    for _ in 0..50 {
        text = metrics(&server).await;
        if text.contains("renkei_sweeps_total") && text.contains("renkei_db_pool_connections") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut expected = vec![
        "renkei_delivery_latency_seconds_count 1",
        "renkei_sweeps_total{sweeper=\"expiry\",result=\"ok\"}",
        "renkei_db_pool_connections{state=\"in_use\"}",
        "renkei_db_pool_connections{state=\"idle\"}",
        "renkei_db_pool_max_connections",
        "renkei_db_write_wait_seconds_count",
    ];
    if dicom {
        expected.push("renkei_dicom_associations_total{result=\"rejected\"} 1");
        expected.push("renkei_dicom_associations_total{result=\"completed\"} 1");
    }
    for name in expected {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    server.stop();
}
