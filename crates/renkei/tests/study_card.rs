//! The study card a conversation shows: the same visibility as the study, no audited view,
//! and "expired" once the study is destroyed.

mod common;

use common::{Server, Storage, active_user, pydicom_test_files};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(study_cards_follow_visibility_without_auditing_a_view);

async fn study_cards_follow_visibility_without_auditing_a_view(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, _) = active_user(&server, &admin, &org, "bob").await;
    let file = std::fs::read(dir.join("CT_small.dcm")).unwrap();
    let boundary = "card-boundary";
    let mut body = format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").into_bytes();
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    let (status, _) = admin
        .raw(Method::POST, "/dicomweb/studies", &ct, body)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, inbox) = bob.get("/api/v1/studies").await;
    let id = inbox[0]["id"].as_str().unwrap().to_owned();

    let (status, card) = bob.get(&format!("/api/v1/studies/{id}/card")).await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["id"], id.as_str());
    assert_eq!(card["modalities"], json!(["CT"]));
    assert_eq!(card["instance_count"], 1);
    assert!(card["patient_tail"].is_string());
    assert!(card.get("series").is_none(), "a card, not the study");
    let (_, views) = admin
        .get(&format!("/api/v1/audit?action=study.view&target_id={id}"))
        .await;
    assert_eq!(views, json!([]), "showing a card is not viewing images");

    // Another organization's user cannot read it.
    let dan = common::user_of_another_org(&server, &admin, "dan").await;
    let (status, body) = dan.get(&format!("/api/v1/studies/{id}/card")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("study_not_found"))
    );

    // Expired: 410, so the chat shows the card as expired.
    let later = renkei_core::clock::Timestamp::now()
        .plus_secs(3 * 86_400 + 60)
        .to_rfc3339();
    storage.admin(&["expire-media", "--as-of", &later], "");
    let (status, body) = bob.get(&format!("/api/v1/studies/{id}/card")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("study_expired"))
    );
}
