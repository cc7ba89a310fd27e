//! Manual redaction over real HTTP: rectangles blanked in every frame of a stored image, the
//! derived instance served by DICOMweb in the same series, the original destroyed; bad input
//! refused with nothing changed.

mod common;

use common::dicom::{get_bytes, locate, stow};
use common::{Server, Storage, pydicom_test_files, user_of_another_org};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(a_redaction_replaces_the_image_and_destroys_the_original);

/// The (object, sealed key) rows the database holds for `sop_uid`, read behind renkei's back.
async fn key_rows(storage: &Storage, sop_uid: &str) -> Vec<(String, Option<String>)> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&storage.raw_url())
        .await
        .unwrap();
    let rows = sqlx::query("SELECT object_id, sealed_key FROM instances WHERE sop_uid = $1")
        .bind(sop_uid)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get::<String, _>("object_id"),
                r.get::<Option<String>, _>("sealed_key"),
            )
        })
        .collect()
}

/// Frame `frame` (1-based) of an instance as native RGB bytes (WADO-RS frames).
async fn frame(api: &common::Api, study: &str, series: &str, sop: &str, n: u32) -> Vec<u8> {
    let path = format!("/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/{n}");
    let (status, headers, body) = get_bytes(api, &path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    let ct = headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    let parts = common::dicom::parts(&ct, &body);
    assert_eq!(parts.len(), 1);
    parts[0].1.clone()
}

async fn a_redaction_replaces_the_image_and_destroys_the_original(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    // An RLE-compressed (lossless) RGB secondary capture of 2 frames, 100 × 100.
    let file = std::fs::read(dir.join("SC_rgb_rle_2frame.dcm")).unwrap();
    let (status, body) = stow(&admin, &[file]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (study_uid, series_uid, sops) = locate(&admin, "").await;
    let original = sops[0].clone();
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let study_id = inbox[0]["id"].as_str().unwrap().to_owned();
    let before: Vec<Vec<u8>> = vec![
        frame(&admin, &study_uid, &series_uid, &original, 1).await,
        frame(&admin, &study_uid, &series_uid, &original, 2).await,
    ];
    assert_eq!(before[0].len(), 100 * 100 * 3);
    let keys_before = key_rows(&storage, &original).await;
    assert_eq!(keys_before.len(), 1);
    assert!(keys_before[0].1.is_some(), "the original's key is kept");
    let path = format!("/api/v1/studies/{study_id}/instances/{original}/redactions");

    // Bad input: refused with a code, nothing changed.
    let many: Vec<Value> = (0..65)
        .map(|i| json!({"x": i, "y": 0, "width": 1, "height": 1}))
        .collect();
    for (rectangles, code) in [
        (json!([]), "redaction_no_rectangles"),
        (
            json!([{"x": 90, "y": 0, "width": 20, "height": 5}]),
            "redaction_outside_image",
        ),
        (
            json!([{"x": 0, "y": 0, "width": 0, "height": 5}]),
            "redaction_empty_rectangle",
        ),
        (Value::Array(many), "redaction_too_many_rectangles"),
    ] {
        let (status, body) = admin.post(&path, json!({ "rectangles": rectangles })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].is_string());
    }
    // A user of another hospital does not even see the study.
    let stranger = user_of_another_org(&server, &admin, "stranger").await;
    let rect = json!({"rectangles": [{"x": 0, "y": 0, "width": 100, "height": 10}, {"x": 40, "y": 40, "width": 20, "height": 20}]});
    let (status, _) = stranger.post(&path, rect.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        key_rows(&storage, &original).await,
        keys_before,
        "nothing changed"
    );
    assert_eq!(
        frame(&admin, &study_uid, &series_uid, &original, 1).await,
        before[0]
    );

    // The redaction.
    let (status, redacted) = admin.post(&path, rect).await;
    assert_eq!(status, StatusCode::CREATED, "{redacted}");
    let derived = redacted["sop_uid"].as_str().unwrap().to_owned();
    assert_ne!(derived, original);
    assert_eq!(redacted["series_uid"], series_uid.as_str());

    // The series now holds the derived instance only; the original is gone everywhere.
    let (_, _, now) = locate(&admin, "").await;
    assert_eq!(now, vec![derived.clone()]);
    let (status, _, _) = get_bytes(
        &admin,
        &format!("/api/v1/studies/{study_id}/instances/{original}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin
        .get(&format!(
            "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{original}/metadata"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Crypto-shredded: no key of the original is left in the database, so its bytes (their
    // place in the object store deleted too) cannot be decrypted.
    assert_eq!(
        key_rows(&storage, &original).await,
        vec![],
        "the original's key is destroyed"
    );
    let derived_keys = key_rows(&storage, &derived).await;
    assert_eq!(derived_keys.len(), 1);
    assert_ne!(
        derived_keys[0].0, keys_before[0].0,
        "the derived instance has its own object"
    );

    // Every frame: black inside the rectangles, the original's values outside.
    for (n, old) in before.iter().enumerate() {
        let new = frame(&admin, &study_uid, &series_uid, &derived, n as u32 + 1).await;
        assert_eq!(new.len(), old.len());
        for row in 0..100usize {
            for column in 0..100usize {
                let inside = row < 10 || ((40..60).contains(&row) && (40..60).contains(&column));
                let i = (row * 100 + column) * 3;
                let expected: &[u8] = if inside { &[0, 0, 0] } else { &old[i..i + 3] };
                assert_eq!(&new[i..i + 3], expected, "frame {} ({column},{row})", n + 1);
            }
        }
    }
    // The derived instance says what it is.
    let (status, meta) = admin
        .get(&format!(
            "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{derived}/metadata"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    let meta = &meta[0];
    assert_eq!(meta["00280301"]["Value"][0], "NO");
    assert_eq!(
        meta["00082112"]["Value"][0]["00081155"]["Value"][0],
        original.as_str()
    );
    assert!(
        meta["00082111"]["Value"][0]
            .as_str()
            .unwrap_or_default()
            .contains("2 region(s)")
    );

    // Audited.
    let (status, audit) = admin
        .get("/api/v1/audit?action=dicom_instance.redact")
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert!(
        audit.to_string().contains("dicom_instance.redact"),
        "{audit}"
    );

    // Again on the original: it no longer exists.
    let (status, _) = admin
        .post(
            &path,
            json!({"rectangles": [{"x": 0, "y": 0, "width": 1, "height": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
