//! Per-device redaction rules: kept by an organization's administrators (versioned, audited,
//! bad input refused), and applied at ingest: an image from a matching device sent with
//! storescu arrives already blanked.

mod common;

use common::dicom::{acme_rule, assert_blanked_rgb, dcmtk, device_image, only_frame};
use common::{Server, Storage, pydicom_test_files};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(a_matching_device_arrives_blanked_through_the_scp);

async fn a_matching_device_arrives_blanked_through_the_scp(storage: Storage) {
    if pydicom_test_files().is_none() {
        return;
    }
    let server = Server::start_with(
        &storage,
        &[],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let rules = format!("/api/v1/orgs/{org}/redaction-rules");

    // Bad rules are refused and nothing is kept.
    let mut outside = acme_rule();
    outside["rectangles"] = json!([{"x": 60, "y": 0, "width": 10, "height": 4}]);
    let mut nameless = acme_rule();
    nameless["manufacturer"] = json!("  ");
    for (body, code) in [
        (outside, "redaction_outside_image"),
        (nameless, "redaction_rule_invalid_manufacturer"),
        (
            {
                let mut r = acme_rule();
                r["rectangles"] = json!([]);
                r
            },
            "redaction_no_rectangles",
        ),
    ] {
        let (status, answer) = admin.post(&rules, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["code"], code);
    }
    let (_, none) = admin.get(&rules).await;
    assert_eq!(none, json!([]));

    // Created, then edited at its version (a stale version is a conflict).
    let (status, rule) = admin.post(&rules, acme_rule()).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["version"], 1);
    let one = format!("{rules}/{}", rule["id"].as_str().unwrap());
    let mut edited = acme_rule();
    edited["rectangles"] = json!([{"x": 0, "y": 0, "width": 64, "height": 8}, {"x": 10, "y": 20, "width": 5, "height": 6}]);
    let (status, answer) = admin.put_if_match(&one, edited.clone(), 7).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer:?}");
    let (status, answer) = admin.put_if_match(&one, edited, 1).await;
    assert_eq!(status, StatusCode::OK, "{answer:?}");
    let (_, listed) = admin.get(&rules).await;
    assert_eq!(listed[0]["version"], 2);
    assert_eq!(listed[0]["rectangles"].as_array().map(Vec::len), Some(2));

    // An image from that device, sent by a modality, arrives blanked.
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("us.dcm");
    device_image(&file, "ACME Medical", "Sono 5");
    storage.add_dicom_peer("US01", "127.0.0.0/8");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();
    let file_arg = file.display().to_string();
    let Some(sent) = dcmtk(
        "storescu",
        &["-aet", "US01", "-aec", "RENKEI", host, port, &file_arg],
    ) else {
        return;
    };
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let (frame, meta) = only_frame(&admin).await;
    // Both rectangles: the band, and the box (checked separately below).
    let mut band_only = frame.clone();
    for row in 20..26 {
        for column in 10..15 {
            let i = (row * 64 + column) * 3;
            assert_eq!(band_only[i..i + 3], [0, 0, 0], "({column},{row})");
            band_only[i..i + 3].copy_from_slice(&[200, 200, 200]);
        }
    }
    assert_blanked_rgb(&band_only, (0, 0, 64, 8));
    assert_eq!(meta["00280301"]["Value"][0], "NO", "Burned In Annotation");
    assert!(meta["00082112"].is_object(), "the derivation is recorded");

    // After the rule is removed, the same device's images arrive untouched.
    let (status, _) = admin.delete(&one).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.delete(&one).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, audit) = admin
        .get("/api/v1/audit?action=redaction_rule.update")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        audit.to_string().contains("redaction_rule.update"),
        "{audit}"
    );
}
