//! The edge gateway against a real server and dcmtk's storescu: instances are de-identified at
//! the gateway with the organization's key, queued sealed on disk, and arrive exactly once
//! through a server outage and a killed gateway; the server takes only de-identified instances
//! from a gateway token, and a removed gateway's token stops working; an image from a device
//! with a redaction rule leaves the gateway already blanked; an image with a name in its pixels
//! is held at the gateway until a new rule clears it or the hospital's IT releases or discards
//! it.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dicom::{
    acme_rule, assert_blanked_rgb, device_image, generated_file, only_frame, pydicom_eval,
};
use common::{Server, Storage, contains, pydicom_test_files};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    instances_arrive_once_through_an_outage_and_a_killed_gateway,
    a_gateway_blanks_a_matching_device_before_it_leaves_the_hospital,
    a_name_in_the_pixels_is_held_at_the_gateway_until_a_rule_or_its_it_clears_it,
);

const PATIENT_NAME: &str = "GATEWAY^HANAKO";
const PATIENT_ID: &str = "KARTE-0098765432";

/// `count` identified CT instances of one study, generated from pydicom's CT_small.dcm.
fn generate(dir: &Path, count: usize) -> Vec<PathBuf> {
    let ct = pydicom_test_files().unwrap().join("CT_small.dcm");
    let script = format!(
        r#"
import os, sys, pydicom
from pydicom.uid import generate_uid
base = pydicom.dcmread({ct:?})
study, series = generate_uid(), generate_uid()
for i in range({count}):
    ds = base.copy()
    ds.PatientName, ds.PatientID = {PATIENT_NAME:?}, {PATIENT_ID:?}
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SOPInstanceUID = generate_uid(); ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = i + 1
    ds.save_as(os.path.join({dir:?}, f"ct{{i:03}}.dcm"), enforce_file_format=True)
"#,
        ct = ct.display().to_string(),
        dir = dir.display().to_string(),
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (0..count)
        .map(|i| dir.join(format!("ct{i:03}.dcm")))
        .collect()
}

/// Whether dcmtk's storescu is missing (said once; the test is then skipped).
fn storescu_missing() -> bool {
    let missing = Command::new("storescu").arg("--version").output().is_err();
    if missing {
        eprintln!("SKIPPED: dcmtk's storescu is not installed (scripts/setup.sh installs it)");
    }
    missing
}

/// A running `renkei gateway`.
struct Gateway {
    child: Child,
    dicom: String,
}

impl Gateway {
    fn start(server: &str, token: &str, data_dir: &Path) -> Gateway {
        Gateway::start_with(server, token, data_dir, &[])
    }

    /// Starts a gateway with `extra` flags.
    fn start_with(server: &str, token: &str, data_dir: &Path, extra: &[&str]) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_renkei"))
            .args([
                "gateway",
                "--server",
                server,
                "--dicom-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RENKEI_GATEWAY_TOKEN", token)
            .env("RENKEI_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let dicom = line
            .split("DICOM listening on ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("the gateway did not start: {line:?}"))
            .to_owned();
        Gateway { child, dicom }
    }

    /// Sends files with storescu; true when every C-STORE succeeded.
    fn store(&self, files: &[PathBuf]) -> bool {
        let (host, port) = self.dicom.rsplit_once(':').unwrap();
        Command::new("storescu")
            .args(["-aet", "MODALITY", "-aec", "RENKEI", host, port])
            .args(files)
            .env("TCP_NODELAY", "1")
            .output()
            .unwrap()
            .status
            .success()
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status(data_dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .args(["gateway", "status", "--json", "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wait_for(data_dir: &Path, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let now = status(data_dir);
        if done(&now) {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gateway never {what}: {now:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn every_file_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(every_file_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A new gateway "main-building" of the first organization: its token.
fn create_gateway(storage: &Storage) -> String {
    let added = storage.admin(
        &[
            "create-gateway",
            "--org",
            "first",
            "--name",
            "main-building",
        ],
        "",
    );
    assert!(added.status.success(), "{added:?}");
    let printed = String::from_utf8_lossy(&added.stdout).to_string();
    printed
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .expect("the token is printed")
        .to_owned()
}

async fn instances_arrive_once_through_an_outage_and_a_killed_gateway(storage: Storage) {
    let Some(_) = pydicom_test_files() else {
        return;
    };
    if storescu_missing() {
        return;
    }
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let base = server.base.clone();
    let token = create_gateway(&storage);
    storage.add_dicom_peer("MODALITY", "127.0.0.0/8");
    let files_dir = tempfile::tempdir().unwrap();
    let files = generate(files_dir.path(), 24);
    let gateway_dir = tempfile::tempdir().unwrap();
    let data = gateway_dir.path().join("gw");

    // 1. Everything up: 8 instances reach the server.
    let gateway = Gateway::start(&base, &token, &data);
    assert!(gateway.store(&files[0..8]));
    wait_for(&data, "sent the first 8", |s| {
        s["sent_total"] == 8 && s["queued"] == 0
    });

    // 2. The server is cut off: 8 more are taken and queued, sealed on disk.
    let addr = server.addr();
    server.stop();
    assert!(
        gateway.store(&files[8..16]),
        "the gateway takes instances while the server is down"
    );
    let queued = wait_for(&data, "reported the outage", |s| {
        s["queued"] == 8 && s["state"] == "retrying"
    });
    assert!(
        queued["last_error"]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot reach")
    );
    for file in every_file_under(&data) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [PATIENT_NAME, PATIENT_ID, "GATEWAY"] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} in {}",
                file.display()
            );
        }
    }

    // 3. The gateway is killed and restarted while the server is still away: it starts from
    //    its kept configuration and takes 8 more.
    gateway.kill();
    let gateway = Gateway::start(&base, &token, &data);
    assert!(gateway.store(&files[16..24]));
    wait_for(&data, "queued 16", |s| s["queued"] == 16);

    // 4. The server returns: the queue drains, every instance exactly once.
    let server = Server::start_on(&storage, &[], &addr);
    // Drained and accounted for: the status counts the files left and the instances settled,
    // which a snapshot may see between a file's removal and its count.
    let drained = wait_for(&data, "drained the queue", |s| {
        s["queued"] == 0
            && s["sent_total"].as_i64().unwrap_or(0) + s["failed_total"].as_i64().unwrap_or(0) == 24
    });
    assert_eq!(drained["sent_total"], 24, "{drained:#}");
    assert_eq!(drained["failed"].as_array().unwrap().len(), 0);
    // Sessions outlive a restart: the admin's token still works.
    let (status, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(status, StatusCode::OK);
    let studies = inbox.as_array().unwrap();
    assert_eq!(studies.len(), 1, "{inbox:#}");
    assert_eq!(studies[0]["instance_count"], 24);
    assert_eq!(studies[0]["patient_tail"], "5432");
    let study_uid = studies[0]["study_uid"].as_str().unwrap().to_owned();

    // The server's own de-identification of an original maps to the same instance: a direct
    // upload of file 0 is a resend, not a 25th instance.
    let original = std::fs::read(&files[0]).unwrap();
    let (status, _) = admin
        .raw(
            reqwest::Method::POST,
            "/dicomweb/studies",
            "application/dicom",
            original.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(
        inbox[0]["instance_count"], 24,
        "the gateway used the organization's key"
    );
    assert_eq!(inbox[0]["study_uid"], study_uid.as_str());

    // A gateway token cannot bring in an identified instance.
    let client = reqwest::Client::new();
    let forged = client
        .post(format!("{base}/dicomweb/studies"))
        .bearer_auth(&token)
        .header("content-type", "application/dicom")
        .body(std::fs::read(&files[1]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::CONFLICT);
    let body = forged.text().await.unwrap();
    assert!(body.contains("not de-identified"), "{body}");
    assert!(!body.contains(PATIENT_ID));

    // A removed gateway's token stops working at once; the gateway says so.
    let removed = storage.admin(
        &[
            "remove-gateway",
            "--org",
            "first",
            "--name",
            "main-building",
        ],
        "",
    );
    assert!(removed.status.success());
    let refused = client
        .get(format!("{base}/api/v1/gateway/config"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        gateway.store(&files[0..1]),
        "the gateway still takes and queues"
    );
    let unauthorized = wait_for(&data, "noticed its token was removed", |s| {
        s["state"] == "unauthorized"
    });
    assert_eq!(unauthorized["queued"], 1, "the instance stays queued");
    gateway.kill();
    assert!(!server.logs().contains(PATIENT_ID));
}

/// A server with its own TLS certificate from a hospital's private CA: the gateway trusts it
/// through `--server-ca` and uploads over HTTPS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_uploads_over_https_trusting_the_hospital_ca() {
    let Some(test_files) = pydicom_test_files() else {
        return;
    };
    if storescu_missing() {
        return;
    }
    let storage = Storage::sqlite();
    let ca = common::tls::TestCa::new(storage.dir.path());
    let cert = ca.issue(storage.dir.path(), "server");
    let (cert_path, key_path) = (
        cert.cert_path.display().to_string(),
        cert.key_path.display().to_string(),
    );
    let mut server = Server::start(
        &storage,
        &[
            ("RENKEI_TLS_CERT", cert_path.as_str()),
            ("RENKEI_TLS_KEY", key_path.as_str()),
        ],
    );
    server.http = ca.client().build().unwrap();
    let admin = server.first_admin().await;
    let token = create_gateway(&storage);
    storage.add_dicom_peer("MODALITY", "127.0.0.0/8");
    let files = ["CT_small.dcm", "MR_small.dcm"].map(|f| test_files.join(f));
    let data = storage.dir.path().join("gw");
    let server_ca = ca.ca_path.display().to_string();
    let gateway = Gateway::start_with(&server.base, &token, &data, &["--server-ca", &server_ca]);
    assert!(server.base.starts_with("https://"));
    assert!(gateway.store(&files));
    wait_for(&data, "sent both over HTTPS", |s| {
        s["sent_total"] == 2 && s["queued"] == 0
    });
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox.as_array().unwrap().len(), 2, "{inbox}");
    gateway.kill();
}

/// Images never leave a gateway over plain HTTP to another machine: it refuses to start.
#[test]
fn a_gateway_refuses_plain_http_to_another_machine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gw");
    let out = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .args(["gateway", "--server", "http://renkei.example.jp"])
        .arg("--data-dir")
        .arg(&data)
        .env("RENKEI_GATEWAY_TOKEN", "a token")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plain http://"), "{stderr}");
    assert!(!data.exists(), "nothing is created");
}

async fn a_gateway_blanks_a_matching_device_before_it_leaves_the_hospital(storage: Storage) {
    if pydicom_test_files().is_none() {
        return;
    }
    if storescu_missing() {
        return;
    }
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (status, rule) = admin
        .post(&format!("/api/v1/orgs/{org}/redaction-rules"), acme_rule())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let token = create_gateway(&storage);
    storage.add_dicom_peer("MODALITY", "127.0.0.0/8");
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("us.dcm");
    device_image(&file, "ACME Medical", "Sono 5");
    let gateway_dir = tempfile::tempdir().unwrap();
    let data = gateway_dir.path().join("gw");
    let gateway = Gateway::start(&server.base, &token, &data);
    assert!(gateway.store(std::slice::from_ref(&file)));
    wait_for(&data, "sent the image", |s| s["sent_total"] == 1);
    let (frame, meta) = only_frame(&admin).await;
    assert_blanked_rgb(&frame, (0, 0, 64, 8));
    assert_eq!(meta["00280301"]["Value"][0], "NO", "Burned In Annotation");
    gateway.kill();
}

/// `renkei gateway held …` on `data_dir`: its output, after checking it succeeded (or not).
fn held_command(data_dir: &Path, args: &[&str], succeeds: bool) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .args(["gateway", "held"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.success(), succeeds, "{args:?}: {text}");
    text
}

/// The studies of `api`'s inbox of `modality`.
async fn studies_of(api: &common::Api, modality: &str) -> Vec<Value> {
    let (_, inbox) = api.get("/api/v1/studies").await;
    inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["modalities"] == serde_json::json!([modality]))
        .cloned()
        .collect()
}

/// The held instance of `status` from the device `manufacturer` (or without one: "").
fn held_from<'a>(status: &'a Value, manufacturer: &str) -> Vec<&'a Value> {
    status["held"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["device"]["manufacturer"] == manufacturer)
        .collect()
}

async fn a_name_in_the_pixels_is_held_at_the_gateway_until_a_rule_or_its_it_clears_it(
    storage: Storage,
) {
    if storescu_missing() {
        return;
    }
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let token = create_gateway(&storage);
    storage.add_dicom_peer("MODALITY", "127.0.0.0/8");
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    // Three ultrasounds with a name in their header band: one from a device a rule will be
    // made for, two from a device without one. A CT with the same text is never scanned.
    let device = ("ACME Medical", "Sono 9");
    let ruled = generated_file(dir, ("us", "text", "US"), None, Some(device));
    let unruled = [
        generated_file(dir, ("us", "text", "US"), None, Some(("OTHER", "X1"))),
        generated_file(dir, ("us", "text", "US"), None, Some(("OTHER", "X1"))),
    ];
    let ct = generated_file(dir, ("us", "text", "CT"), None, None);
    let size = pydicom_eval(&ruled, &["d.Rows", "d.Columns"]);
    let (rows, columns): (u32, u32) = (size[0].parse().unwrap(), size[1].parse().unwrap());
    let gateway_dir = tempfile::tempdir().unwrap();
    let data = gateway_dir.path().join("gw");
    let gateway = Gateway::start_with(&server.base, &token, &data, &["--config-refresh", "1"]);
    assert!(gateway.store(&[
        ruled.clone(),
        unruled[0].clone(),
        unruled[1].clone(),
        ct.clone()
    ]));

    // The CT goes; the ultrasounds stay at the gateway, listed without patient data.
    let held = wait_for(&data, "held three and sent the CT", |s| {
        s["held"].as_array().map(Vec::len) == Some(3) && s["sent_total"] == 1
    });
    assert_eq!(held["held_total"], 3, "{held:#}");
    for h in held["held"].as_array().unwrap() {
        assert_eq!(h["modality"], "US", "{h}");
        assert_eq!(h["reason"], "text_found", "{h}");
        assert!(h["regions"].as_u64().unwrap() > 0, "{h}");
        assert_eq!(h["id"].as_str().unwrap().len(), 12, "{h}");
    }
    let shown = format!("{held}{}", held_command(&data, &["list"], true));
    for secret in ["YAMADA", "TARO", "12345678"] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
    for file in every_file_under(&data) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, b"YAMADA"),
            "plaintext in {}",
            file.display()
        );
    }
    assert_eq!(studies_of(&admin, "CT").await.len(), 1);
    assert!(
        studies_of(&admin, "US").await.is_empty(),
        "no pixels with a name reached the server"
    );

    // A rule for the first device, made on the server: the gateway gets it with its
    // configuration, blanks the band, finds no text left, and sends it. The server's own scan
    // agrees: it arrives not held.
    let mut rule = acme_rule();
    rule["model"] = "Sono 9".into();
    rule["rows"] = rows.into();
    rule["columns"] = columns.into();
    rule["rectangles"] = serde_json::json!([{"x": 0, "y": 0, "width": columns, "height": 60}]);
    let (code, created) = admin
        .post(&format!("/api/v1/orgs/{org}/redaction-rules"), rule)
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let cleared = wait_for(&data, "sent the redacted ultrasound", |s| {
        s["held"].as_array().map(Vec::len) == Some(2) && s["sent_total"] == 2
    });
    assert!(
        held_from(&cleared, "ACME Medical").is_empty(),
        "{cleared:#}"
    );
    let arrived = studies_of(&admin, "US").await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0]["held_instances"], 0, "{:?}", arrived[0]);

    // The hospital's IT releases one (it is sent, and the server, seeing the text, holds it
    // for its users to confirm) and discards the other (never sent). Both are logged.
    let others = held_from(&cleared, "OTHER");
    let (release, discard) = (
        others[0]["id"].as_str().unwrap().to_owned(),
        others[1]["id"].as_str().unwrap().to_owned(),
    );
    let refused = held_command(&data, &["release", "0000000000ff"], false);
    assert!(refused.contains("no held instance"), "{refused}");
    held_command(&data, &["release", &release], true);
    let released = wait_for(&data, "sent the released one", |s| s["sent_total"] == 3);
    assert_eq!(released["held"].as_array().map(Vec::len), Some(1));
    let server_held: Vec<Value> = studies_of(&admin, "US")
        .await
        .into_iter()
        .filter(|s| s["held_instances"] == 1)
        .collect();
    assert_eq!(
        server_held.len(),
        1,
        "the server holds what it sees text in"
    );
    let out = held_command(&data, &["discard", &discard[..8]], true);
    assert!(out.contains("discarded"), "{out}");
    let after = status(&data);
    assert_eq!(after["held"], serde_json::json!([]), "{after:#}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        status(&data)["sent_total"],
        3,
        "a discarded one is never sent"
    );
    assert_eq!(studies_of(&admin, "US").await.len(), 2);
    let log = std::fs::read_to_string(data.join("held.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(
        (lines[0]["action"].as_str(), lines[0]["id"].as_str()),
        (Some("released"), Some(release.as_str()))
    );
    assert_eq!(
        (lines[1]["action"].as_str(), lines[1]["id"].as_str()),
        (Some("discarded"), Some(discard.as_str()))
    );
    assert!(!log.contains("YAMADA") && !log.contains("12345678"));
    gateway.kill();
    assert!(!server.logs().contains("YAMADA"));
}
