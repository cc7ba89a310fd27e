//! The restore drill: a backup taken while messages, photo uploads and DICOM ingest run holds
//! everything acknowledged before it began, and a server started on its restored copy serves
//! it: messages, decrypted media, rendered studies, an intact audit log; and media that expire
//! after the backup are destroyed at the restored server's first sweep.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use common::dicom::{dcmtk, get_bytes};
use common::{ADMIN_PASSWORD, Api, Server, Storage, active_user, pydicom_test_files, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn ok(output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A small PNG, different for each `n`.
fn png(n: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([n, 200, 10]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// What a writer had acknowledged, and when.
type Acked = Vec<(String, Instant)>;

/// Posts messages into `conv` until `stop`; the client ids acknowledged.
async fn keep_posting(api: Api, conv: String, stop: Arc<AtomicBool>) -> Acked {
    let mut acked = Vec::new();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let client_id = format!("m-{i}");
        let (status, body) = api
            .post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({"client_msg_id": client_id, "body": format!("note {i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        acked.push((client_id, Instant::now()));
    }
    acked
}

/// Uploads photos until `stop`; the media ids acknowledged.
async fn keep_uploading(api: Api, stop: Arc<AtomicBool>) -> Acked {
    let mut acked = Vec::new();
    for n in 0u8.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let url = format!(
            "/api/v1/media?name={}",
            urlencode(&format!("wound-{n}.png"))
        );
        let (status, body) = api.raw(Method::POST, &url, "image/png", png(n)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        acked.push((body["id"].as_str().unwrap().to_owned(), Instant::now()));
    }
    acked
}

fn before(acked: &Acked, point: Instant) -> Vec<String> {
    acked
        .iter()
        .filter(|(_, at)| *at < point)
        .map(|(id, _)| id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_everything_acknowledged_before_it() {
    let Some(dicom_files) = pydicom_test_files() else {
        return;
    };
    let (ct, mr) = (
        dicom_files.join("CT_small.dcm").display().to_string(),
        dicom_files.join("MR_small.dcm").display().to_string(),
    );
    let storage = Storage::sqlite();
    let server = Server::start_with(
        &storage,
        &[],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (_, alice) = active_user(&server, &admin, &org, "alice").await;
    let (status, conv) = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "Ward 3", "member_ids": [alice["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    let conv = conv["id"].as_str().unwrap().to_owned();

    // A CT study ingested over DICOM before the backup.
    storage.add_dicom_peer("CT01", "127.0.0.0/8");
    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();
    let Some(sent) = dcmtk(
        "storescu",
        &["-aet", "CT01", "-aec", "RENKEI", host, port, &ct],
    ) else {
        return;
    };
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );

    // Messages, photos and DICOM ingest running while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let messages = tokio::spawn(keep_posting(admin.clone(), conv.clone(), stop.clone()));
    let photos = tokio::spawn(keep_uploading(admin.clone(), stop.clone()));
    let ingest = {
        let (host, port, mr) = (host.to_owned(), port.to_owned(), mr.clone());
        tokio::task::spawn_blocking(move || {
            dcmtk(
                "storescu",
                &["-aet", "CT01", "-aec", "RENKEI", &host, &port, &mr],
            )
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let backup = storage.dir.path().join("backup");
    let keys = storage.dir.path().join("backup-keys");
    let point = Instant::now();
    let out = tokio::task::block_in_place(|| {
        storage.admin(
            &[
                "backup",
                "--to",
                backup.to_str().unwrap(),
                "--keys-to",
                keys.to_str().unwrap(),
            ],
            "",
        )
    });
    ok(out);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let messages = before(&messages.await.unwrap(), point);
    let photos = before(&photos.await.unwrap(), point);
    ingest.await.unwrap();
    assert!(
        !messages.is_empty() && !photos.is_empty(),
        "the writers ran before the backup"
    );
    eprintln!(
        "{} messages and {} photos acknowledged before the backup",
        messages.len(),
        photos.len()
    );
    // What the original server serves for each photo (its cleaned, re-encoded upload).
    let mut originals = Vec::new();
    for id in &photos {
        let (status, _, bytes) = get_bytes(&admin, &format!("/api/v1/media/{id}/content")).await;
        assert_eq!(status, StatusCode::OK);
        originals.push(bytes);
    }
    server.stop();

    // Files are private; the keys are apart from the backup.
    use std::os::unix::fs::PermissionsExt;
    for path in [backup.join("renkei.db"), backup.join("manifest.json")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
    }
    assert!(!backup.join("keys").exists(), "keys went to --keys-to");
    assert!(keys.join("master-1.key").exists());

    // A restore needs the keys, and never writes into a folder in use.
    let fresh = Storage::sqlite();
    let without_keys = fresh.admin(&["restore", "--from", backup.to_str().unwrap()], "");
    assert!(!without_keys.status.success(), "the keys are asked for");
    assert!(!fresh.data_dir().exists(), "nothing was written");
    let into_used = storage.admin(
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--keys-from",
            keys.to_str().unwrap(),
        ],
        "",
    );
    assert!(!into_used.status.success());
    assert!(
        String::from_utf8_lossy(&into_used.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&into_used.stderr)
    );
    ok(fresh.admin(
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--keys-from",
            keys.to_str().unwrap(),
        ],
        "",
    ));

    let restored = Server::start(&fresh, &[]);
    let admin = restored.login("admin", ADMIN_PASSWORD).await;
    // Every message acknowledged before the backup began.
    let (status, history) = admin
        .get(&format!("/api/v1/conversations/{conv}/messages?limit=1000"))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let kept: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["client_msg_id"].as_str())
        .collect();
    for id in &messages {
        assert!(
            kept.contains(&id.as_str()),
            "{id} was acknowledged before the backup"
        );
    }
    // Media decrypt to what was served before.
    for (id, original) in photos.iter().zip(&originals) {
        let (status, _, bytes) = get_bytes(&admin, &format!("/api/v1/media/{id}/content")).await;
        assert_eq!(status, StatusCode::OK, "{id}");
        assert!(bytes == *original, "{id} decrypts to its upload");
    }
    // The CT opens: a frame renders.
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let study = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["modalities"][0] == "CT")
        .unwrap_or_else(|| panic!("the CT study is listed: {inbox}"));
    let study = study["id"].as_str().unwrap();
    let (_, detail) = admin.get(&format!("/api/v1/studies/{study}")).await;
    let series = detail["series"][0]["series_uid"].as_str().unwrap();
    let (_, instances) = admin
        .get(&format!(
            "/api/v1/studies/{study}/series/{series}/instances"
        ))
        .await;
    let sop = instances[0]["sop_uid"].as_str().unwrap();
    let (status, headers, frame) = get_bytes(
        &admin,
        &format!("/api/v1/studies/{study}/instances/{sop}/frames/1/rendered"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert!(image::load_from_memory(&frame).is_ok());
    // The audit log's chain is whole.
    assert!(ok(fresh.admin(&["verify-audit"], "")).contains("audit log intact"));

    // Retention runs on in the restored copy: what expires later is destroyed at the sweep.
    let later = renkei_core::clock::Timestamp::now()
        .plus_secs(31 * 86_400)
        .to_rfc3339();
    let swept = ok(fresh.admin(&["expire-media", "--as-of", &later], ""));
    let expired: usize = swept
        .lines()
        .find_map(|l| l.strip_suffix(" media expired and destroyed"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{swept}"));
    assert!(expired >= photos.len(), "{swept}");
    for id in &photos {
        let (status, _, _) = get_bytes(&admin, &format!("/api/v1/media/{id}/content")).await;
        assert_ne!(status, StatusCode::OK, "{id} is destroyed");
    }
}
