//! The live image inbox: a study that arrives over DICOM reaches the open sockets of its
//! organization's users as an `inbox_changed` hint (no patient data), and no one else's; each
//! card has a thumbnail with the card's access rule, not audited as an image view.

mod common;

use common::dicom::{dcmtk, get_bytes, stow};
use common::{Server, Storage, Ws, active_user, pydicom_test_files};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    a_new_study_reaches_the_organizations_sockets_only,
    thumbnails_follow_the_card_rule_without_patient_data
);

fn storescu(addr: &str, files: &[String]) -> Option<bool> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut args = vec!["-aet", "CT01", "-aec", "RENKEI", host, port];
    args.extend(files.iter().map(String::as_str));
    dcmtk("storescu", &args).map(|out| out.status.success())
}

async fn a_new_study_reaches_the_organizations_sockets_only(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let ct = dir.join("CT_small.dcm").display().to_string();
    let server = Server::start_with(
        &storage,
        &[],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, _) = active_user(&server, &admin, &org, "bob").await;
    let dan = common::user_of_another_org(&server, &admin, "dan").await;
    storage.add_dicom_peer("CT01", "127.0.0.0/8");
    let (mut bob_ws, _) = Ws::connect(&server, bob.token.as_deref().unwrap(), None).await;
    let (mut dan_ws, _) = Ws::connect(&server, dan.token.as_deref().unwrap(), None).await;
    // The peer directory re-reads at most once a second when an unknown caller knocks.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let Some(sent) = storescu(&addr, std::slice::from_ref(&ct)) else {
        return;
    };
    assert!(sent, "storescu stored the CT");
    let hint = bob_ws.next_of("inbox_changed").await;
    let (_, inbox) = bob.get("/api/v1/studies").await;
    assert_eq!(
        hint["study_id"], inbox[0]["id"],
        "{hint} names the new study"
    );
    let keys: Vec<&String> = hint.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["study_id", "type"],
        "a hint, no patient data: {hint}"
    );
    assert!(
        dan_ws.quiet_for("inbox_changed", 1500).await,
        "another organization's user hears nothing"
    );

    // A resend changes nothing, so it tells no one.
    assert_eq!(storescu(&addr, &[ct]), Some(true));
    assert!(
        bob_ws.quiet_for("inbox_changed", 1500).await,
        "a duplicate is no news"
    );
}

/// The (width, height) of a JPEG.
fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).unwrap();
    (img.width(), img.height())
}

async fn thumbnails_follow_the_card_rule_without_patient_data(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, _) = active_user(&server, &admin, &org, "bob").await;
    let dan = common::user_of_another_org(&server, &admin, "dan").await;
    let files: Vec<Vec<u8>> = ["CT_small.dcm", "waveform_ecg.dcm", "SC_rgb_rle_2frame.dcm"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let (status, _) = stow(&admin, &files).await;
    assert_eq!(status, StatusCode::OK);
    let (_, inbox) = bob.get("/api/v1/studies").await;
    let study = |modality: &str| -> String {
        inbox
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["modalities"][0] == modality)
            .unwrap_or_else(|| panic!("no {modality} in {inbox}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ct, ecg) = (study("CT"), study("ECG"));
    let multi = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["instance_count"] == 1 && s["frame_count"] == 2)
        .unwrap_or_else(|| panic!("the two-frame instance counts its frames: {inbox}"));
    let (status, headers, _) = get_bytes(
        &bob,
        &format!(
            "/api/v1/studies/{}/thumbnail",
            multi["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        (status, &headers["content-type"]),
        (StatusCode::OK, &"image/jpeg".parse().unwrap()),
        "a colour multi-frame instance has its thumbnail too"
    );

    let (status, headers, jpeg) = get_bytes(&bob, &format!("/api/v1/studies/{ct}/thumbnail")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    let cache = headers["cache-control"].to_str().unwrap();
    assert_eq!(
        cache, "private, no-store",
        "kept in the page's memory only, never in the browser's disk cache"
    );
    let (w, h) = jpeg_size(&jpeg);
    assert!(w <= 160 && h <= 160 && w > 0, "a thumbnail, {w}×{h}");
    for leak in ["CompressedSamples", "1CT1"] {
        assert!(
            !common::contains(&jpeg, leak.as_bytes()),
            "{leak} is in the thumbnail"
        );
    }
    // Asked again (the cache): the same picture.
    let (_, _, again) = get_bytes(&bob, &format!("/api/v1/studies/{ct}/thumbnail")).await;
    assert_eq!(again, jpeg);

    let (_, views) = admin
        .get(&format!("/api/v1/audit?action=study.view&target_id={ct}"))
        .await;
    assert_eq!(views, json!([]), "a thumbnail is not an image view");

    let (status, body) = dan.get(&format!("/api/v1/studies/{ct}/thumbnail")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("study_not_found")),
        "another organization's user learns nothing"
    );
    let (status, body): (StatusCode, Value) =
        bob.get(&format!("/api/v1/studies/{ecg}/thumbnail")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("thumbnail_unavailable")),
        "an ECG has no picture; the card shows its icon"
    );
}
