//! Imaging over real HTTP with pydicom's real files: STOW-RS in, de-identified, indexed,
//! searchable (QIDO-RS), retrievable (WADO-RS) without the patient's identity, scoped to the
//! organization, shared into conversations, destroyed on schedule.

mod common;

use std::path::Path;

use common::dicom::{get_bytes, last_digits, pydicom_eval, stow};
use common::{Server, Storage, active_user, contains, pydicom_test_files};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    stowed_studies_are_deidentified_indexed_and_served,
    studies_are_scoped_shared_and_expire,
    frames_render_with_windows_and_ecgs_come_as_waveforms,
    unstored_bytes_leave_no_record_and_a_resend_restores_a_lost_object,
);

/// The encrypted object files of a server's local store.
fn object_files(storage: &Storage) -> Vec<std::path::PathBuf> {
    files_in(&storage.data_dir().join("blobs").join("blobs"))
}

fn segment_files(storage: &Storage) -> Vec<std::path::PathBuf> {
    files_in(&storage.data_dir().join("blobs").join("segments"))
}

fn files_in(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// How many encrypted objects are stored: files in the object folder, and objects in segment
/// files (each begins with the `RKB` magic on a 4 KiB boundary; a deleted one reads as zeros).
fn stored_objects(storage: &Storage) -> usize {
    let in_segments: usize = segment_files(storage)
        .iter()
        .map(|segment| {
            let bytes = std::fs::read(segment).unwrap();
            bytes
                .chunks(4096)
                .filter(|block| block.starts_with(b"RKB"))
                .count()
        })
        .sum();
    object_files(storage).len() + in_segments
}

/// Every object's bytes gone, as when a crash came between the index commit and the flush.
fn lose_every_object(storage: &Storage) {
    for file in object_files(storage) {
        std::fs::remove_file(file).unwrap();
    }
    for segment in segment_files(storage) {
        let length = std::fs::metadata(&segment).unwrap().len();
        std::fs::write(&segment, vec![0u8; length as usize]).unwrap();
    }
}

/// The index is written while the bytes are: when the bytes fail, the record is taken back;
/// when a crash lost the bytes of a recorded instance, its resend stores them again.
async fn unstored_bytes_leave_no_record_and_a_resend_restores_a_lost_object(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let ct = std::fs::read(dir.join("CT_small.dcm")).unwrap();
    // Files stand where the object and segment folders should be, so no object can be written.
    let folders = ["blobs", "segments"].map(|name| storage.data_dir().join("blobs").join(name));
    for folder in &folders {
        let _ = std::fs::remove_dir_all(folder);
        std::fs::write(folder, b"not a folder").unwrap();
    }
    let (status, body) = stow(&admin, std::slice::from_ref(&ct)).await;
    assert_ne!(status, StatusCode::OK, "{body}");
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(
        inbox,
        json!([]),
        "no record of an instance whose bytes were not stored"
    );

    for folder in &folders {
        std::fs::remove_file(folder).unwrap();
    }
    let (status, body) = stow(&admin, std::slice::from_ref(&ct)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, found) = admin.get("/dicomweb/studies").await;
    let study_uid = found[0]["0020000D"]["Value"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let retrieve = format!("/dicomweb/studies/{study_uid}");
    assert_eq!(get_bytes(&admin, &retrieve).await.0, StatusCode::OK);
    assert_eq!(stored_objects(&storage), 1);

    // The bytes of the recorded instance are lost, as when a crash came between the index
    // commit and the disk flush: retrieval fails until the sender resends.
    lose_every_object(&storage);
    let (status, _, _) = get_bytes(&admin, &retrieve).await;
    assert!(
        status.is_server_error(),
        "an error status, not a cut-off body: {status}"
    );
    let (status, body) = stow(&admin, std::slice::from_ref(&ct)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        get_bytes(&admin, &retrieve).await.0,
        StatusCode::OK,
        "restored"
    );
    assert_eq!(stored_objects(&storage), 1);
    // A resend while the copy of record is there keeps that copy and nothing more.
    let (status, _) = stow(&admin, std::slice::from_ref(&ct)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored_objects(&storage), 1);
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox[0]["instance_count"], 1, "{inbox}");
}

/// (PatientName, PatientID) of a file, read by pydicom.
fn identity(path: &Path) -> (String, String) {
    let v = pydicom_eval(path, &["str(d.PatientName)", "str(d.PatientID)"]);
    (v[0].clone(), v[1].clone())
}

/// Where a file's Pixel Data value lies (offset, length), as pydicom reads it.
fn pixel_data_span(path: &Path) -> (usize, usize) {
    let v = pydicom_eval(
        path,
        &[
            "open(p,'rb').read().find(d.PixelData[:256])",
            "len(d.PixelData)",
        ],
    );
    (v[0].parse().unwrap(), v[1].parse().unwrap())
}

async fn stowed_studies_are_deidentified_indexed_and_served(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let ct = std::fs::read(dir.join("CT_small.dcm")).unwrap();
    let mr = std::fs::read(dir.join("MR_small.dcm")).unwrap();
    let (ct_name, ct_id) = identity(&dir.join("CT_small.dcm"));
    let (status, body) = stow(&admin, &[ct.clone(), mr.clone()]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["00081199"]["Value"].as_array().unwrap().len(), 2);
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox.as_array().unwrap().len(), 2, "{inbox}");
    let ct_study = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["modalities"] == json!(["CT"]))
        .unwrap()
        .clone();
    assert_eq!(
        ct_study["patient_tail"],
        last_digits(&ct_id, 4),
        "only the last 4 digits of the patient ID"
    );
    assert_eq!(ct_study["instance_count"], 1);
    // QIDO finds it by modality; its attributes carry no identity.
    let (_, found) = admin.get("/dicomweb/studies?ModalitiesInStudy=CT").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let study_uid = found[0]["0020000D"]["Value"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        study_uid.starts_with("2.25."),
        "UIDs are remapped: {study_uid}"
    );
    let (_, series) = admin
        .get(&format!("/dicomweb/studies/{study_uid}/series"))
        .await;
    let series_uid = series[0]["0020000E"]["Value"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, instances) = admin
        .get(&format!(
            "/dicomweb/studies/{study_uid}/series/{series_uid}/instances"
        ))
        .await;
    let sop_uid = instances[0]["00080018"]["Value"][0]
        .as_str()
        .unwrap()
        .to_owned();
    // WADO-RS gives the file back, without the patient's name or full ID anywhere in it.
    let resp = admin
        .http
        .get(admin.url(&format!(
            "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
        )))
        .bearer_auth(admin.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/related")
    );
    let bytes = resp.bytes().await.unwrap();
    assert!(contains(&bytes, b"DICM"));
    for part in ct_name.split(['^', ' ']).filter(|p| p.len() >= 3) {
        assert!(
            !contains(&bytes, part.as_bytes()),
            "patient name part {part:?} leaked"
        );
    }
    assert!(
        !contains(&bytes, ct_id.as_bytes()),
        "the full patient ID leaked"
    );
    // The pixel data are untouched: the original's pixel bytes appear whole in the output.
    let (start, len) = pixel_data_span(&dir.join("CT_small.dcm"));
    assert!(
        contains(&bytes, &ct[start..start + len]),
        "pixel data changed"
    );
    // A resend is idempotent.
    let (status, _) = stow(&admin, &[ct]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox.as_array().unwrap().len(), 2);
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["instance_count"] == 1),
        "{inbox}"
    );
    // Bad input: garbage is refused per instance, a wrong content type outright.
    let (status, body) = stow(&admin, &[b"not dicom at all".to_vec()]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["00081198"]["Value"][0]["00081197"]["Value"][0], 0xC000);
    let (status, _) = admin
        .raw(
            Method::POST,
            "/dicomweb/studies",
            "text/plain",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, body) = admin
        .raw(
            Method::POST,
            "/dicomweb/studies",
            "multipart/related; boundary=zz",
            b"garbage".to_vec(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_multipart"))
    );
    assert!(!server.logs().contains(&ct_id), "no patient ID in the logs");
}

async fn studies_are_scoped_shared_and_expire(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    stow(&admin, &[std::fs::read(dir.join("CT_small.dcm")).unwrap()]).await;
    let (_, inbox) = bob.get("/api/v1/studies").await;
    let id = inbox[0]["id"].as_str().unwrap().to_owned();
    let (status, detail) = bob.get(&format!("/api/v1/studies/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["series"].as_array().unwrap().len(), 1);
    let (_, views) = admin
        .get(&format!("/api/v1/audit?action=study.view&target_id={id}"))
        .await;
    assert_eq!(views[0]["actor_id"], bob_user["id"], "the view is audited");
    // Another organization sees nothing.
    let dan = common::user_of_another_org(&server, &admin, "dan").await;
    assert_eq!(
        dan.get(&format!("/api/v1/studies/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, dan_inbox) = dan.get("/api/v1/studies").await;
    assert_eq!(dan_inbox, json!([]));
    // Shared as a study card in a conversation.
    let (_, conv) = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [bob_user["id"]]}),
        )
        .await;
    let conv = conv["id"].as_str().unwrap();
    let (status, posted) = admin.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"client_msg_id": "s1", "body": "CT please", "attachments": [{"kind": "study", "id": id}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let (status, _) = dan
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [admin.org_id().await]}),
        )
        .await;
    assert_ne!(status, StatusCode::CREATED);
    // Expiry destroys the study; the message stays.
    let later = renkei_core::clock::Timestamp::now()
        .plus_secs(3 * 86_400 + 60)
        .to_rfc3339();
    assert!(stored_objects(&storage) >= 1);
    let out = storage.admin(&["expire-media", "--as-of", &later], "");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 studies expired"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = bob.get(&format!("/api/v1/studies/{id}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("study_expired"))
    );
    assert_eq!(
        stored_objects(&storage),
        0,
        "no object of the study remains, in a file or a segment"
    );
    let (_, history) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(history[0]["attachments"][0]["id"], id.as_str());
}

async fn frames_render_with_windows_and_ecgs_come_as_waveforms(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let files: Vec<Vec<u8>> = ["CT_small.dcm", "examples_ybr_color.dcm", "waveform_ecg.dcm"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let (status, body) = stow(&admin, &files).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let by_modality = |m: &str| {
        inbox
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["modalities"][0] == m)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first_instance = |study: String| {
        let admin = admin.clone();
        async move {
            let (_, detail) = admin.get(&format!("/api/v1/studies/{study}")).await;
            let series = detail["series"][0]["series_uid"]
                .as_str()
                .unwrap()
                .to_owned();
            let (_, instances) = admin
                .get(&format!(
                    "/api/v1/studies/{study}/series/{series}/instances"
                ))
                .await;
            (study, instances[0]["sop_uid"].as_str().unwrap().to_owned())
        }
    };
    // CT: PNG of the right size; lung and bone windows differ; a viewport scales it down.
    let (ct, sop) = first_instance(by_modality("CT")).await;
    let base = format!("/api/v1/studies/{ct}/instances/{sop}/frames/1");
    let (status, headers, lung) =
        get_bytes(&admin, &format!("{base}/rendered?window=-600,1500")).await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/png")
    );
    assert_eq!(headers["cache-control"], "no-store");
    let lung = image::load_from_memory(&lung).unwrap();
    assert_eq!((lung.width(), lung.height()), (128, 128));
    let (_, _, bone) = get_bytes(&admin, &format!("{base}/rendered?window=400,1800")).await;
    assert_ne!(
        lung.to_luma8().into_raw(),
        image::load_from_memory(&bone)
            .unwrap()
            .to_luma8()
            .into_raw()
    );
    let (_, _, small) = get_bytes(
        &admin,
        &format!("{base}/rendered?viewport=64,64&format=jpeg"),
    )
    .await;
    let small = image::load_from_memory(&small).unwrap();
    assert_eq!((small.width(), small.height()), (64, 64));
    let (status, headers, raw) = get_bytes(&admin, &format!("{base}/raw")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(raw.len(), 128 * 128 * 2, "16-bit samples");
    let info: Value = serde_json::from_str(headers["x-frame-info"].to_str().unwrap()).unwrap();
    assert_eq!(
        (info["rows"].as_u64(), info["columns"].as_u64()),
        (Some(128), Some(128)),
        "{info}"
    );
    let (status, _, _) = get_bytes(&admin, &format!("{base}/rendered?window=lung")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Ultrasound cine: every frame renders, and no frame past the last.
    let (us, sop) = first_instance(by_modality("US")).await;
    let cine = format!("/api/v1/studies/{us}/instances/{sop}/frames");
    let (s1, _, first) = get_bytes(&admin, &format!("{cine}/1/rendered")).await;
    let (s30, _, last) = get_bytes(&admin, &format!("{cine}/30/rendered")).await;
    assert_eq!((s1, s30), (StatusCode::OK, StatusCode::OK));
    assert_ne!(first, last);
    assert_eq!(
        get_bytes(&admin, &format!("{cine}/31/rendered")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_bytes(&admin, &format!("{cine}/0/rendered")).await.0,
        StatusCode::NOT_FOUND
    );
    // 12-lead ECG as waveforms in µV.
    let (ecg, sop) = first_instance(by_modality("ECG")).await;
    let (status, groups) = admin
        .get(&format!("/api/v1/studies/{ecg}/instances/{sop}/waveforms"))
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");
    let rhythm = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["channels"].as_array().is_some_and(|c| c.len() == 12))
        .expect("a 12-channel group");
    let labels: Vec<&str> = rhythm["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"aVR") && labels.contains(&"V6"),
        "{labels:?}"
    );
}
