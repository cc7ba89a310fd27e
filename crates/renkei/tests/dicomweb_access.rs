//! DICOMweb's access rule, audit, expiry and privacy over real HTTP: the inbox's rule for every
//! resource, shared studies, no patient identity in any response, and a standard client
//! (dicomweb-client) end to end.

mod common;

use std::path::Path;

use common::dicom::{get_bytes, locate, stow};
use common::{Server, Storage, active_user, contains, pydicom_test_files};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    dicomweb_is_scoped_like_the_inbox_audited_and_expires,
    no_dicomweb_response_carries_the_patient_identity,
    a_standard_dicomweb_client_stores_searches_and_retrieves,
);

async fn dicomweb_is_scoped_like_the_inbox_audited_and_expires(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, _) = active_user(&server, &admin, &org, "bob").await;
    stow(&admin, &[std::fs::read(dir.join("CT_small.dcm")).unwrap()]).await;
    let (study, series, sops) = locate(&bob, "").await;
    let instance = format!(
        "/dicomweb/studies/{study}/series/{series}/instances/{}",
        sops[0]
    );
    let resources = [
        format!("/dicomweb/studies/{study}"),
        format!("/dicomweb/studies/{study}/metadata"),
        format!("/dicomweb/studies/{study}/series"),
        format!("/dicomweb/studies/{study}/series/{series}"),
        format!("/dicomweb/studies/{study}/series/{series}/metadata"),
        format!("/dicomweb/studies/{study}/series/{series}/instances"),
        instance.clone(),
        format!("{instance}/metadata"),
        format!("{instance}/frames/1"),
        format!("{instance}/frames/1/rendered"),
        format!("{instance}/rendered"),
    ];
    for path in &resources {
        assert_eq!(get_bytes(&bob, path).await.0, StatusCode::OK, "{path}");
    }
    // Every view is audited, naming the service.
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let id = inbox[0]["id"].as_str().unwrap().to_owned();
    let (_, views) = admin
        .get(&format!(
            "/api/v1/audit?action=study.view&target_id={id}&limit=200"
        ))
        .await;
    let services: Vec<&str> = views
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["details"]["service"].as_str())
        .collect();
    for service in [
        "retrieve_study",
        "metadata",
        "qido_series",
        "retrieve_instance",
        "frames",
    ] {
        assert!(
            services.contains(&service),
            "{service} not audited: {services:?}"
        );
    }

    // Another organization's users see nothing: not in searches, 404 everywhere.
    let (_, other) = admin
        .post("/api/v1/orgs", json!({"name": "Beppu Clinic"}))
        .await;
    let other = other["id"].as_str().unwrap().to_owned();
    let (dan, dan_user) = active_user(&server, &admin, &other, "dan").await;
    let (erin, _) = active_user(&server, &admin, &other, "erin").await;
    let (_, found) = dan.get("/dicomweb/studies").await;
    assert_eq!(found, json!([]));
    for path in &resources {
        let (status, _, body) = get_bytes(&dan, path).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_eq!(
        get_bytes(&server.client(), &resources[0]).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The two hospitals' admins agree to message and share images; then shared into a conversation with dan: dan sees it through DICOMweb too, erin
    // still not.
    let (status, proposed) = admin
        .post(
            "/api/v1/agreements",
            json!({"partner_org_id": other, "scopes": ["messaging", "images"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{proposed}");
    let agreement = proposed["id"].as_str().unwrap();
    let (other_admin, _) = common::active_user_with(
        &server,
        &admin,
        &other,
        "beppu-admin",
        json!({"roles": ["org_admin"]}),
    )
    .await;
    let (status, accepted) = other_admin
        .post(&format!("/api/v1/agreements/{agreement}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let (status, conv) = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [dan_user["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    let conv = conv["id"].as_str().unwrap();
    let (status, posted) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": "s1", "body": "CT", "attachments": [{"kind": "study", "id": id}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let (_, found) = dan
        .get(&format!("/dicomweb/studies?StudyInstanceUID={study}"))
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    for path in &resources {
        assert_eq!(get_bytes(&dan, path).await.0, StatusCode::OK, "{path}");
        assert_eq!(
            get_bytes(&erin, path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Expired: gone from searches, 410 on every resource, as in /api/v1/studies.
    let later = renkei_core::clock::Timestamp::now()
        .plus_secs(3 * 86_400 + 60)
        .to_rfc3339();
    let out = storage.admin(&["expire-media", "--as-of", &later], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, found) = bob.get("/dicomweb/studies").await;
    assert_eq!(found, json!([]));
    for path in &resources {
        let (status, _, body) = get_bytes(&bob, path).await;
        let body: Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::GONE, Some("study_expired")),
            "{path}"
        );
    }
}

/// A copy of `source` carrying identifying values everywhere, written by pydicom with the
/// character set `charset`; returns each planted value's byte forms (UTF-8, and for ISO 2022
/// IR 87 the JIS bytes between the escape sequences).
fn planted_file(dir: &Path, source: &str, charset: &str, out: &Path) -> Vec<Vec<Vec<u8>>> {
    let script = format!(
        r#"import pydicom
from pydicom.dataset import Dataset
d = pydicom.dcmread({src:?})
d.SpecificCharacterSet = {charset}
d.PatientName = 'Yamadaplant^Taroplant=山田植^太郎植=やまだうえ^たろううえ'
d.PatientID = 'PIDPLANT-98765432'
d.OtherPatientIDs = 'OTHERPLANT-1'
d.PatientBirthDate = '19510304'
d.PatientAddress = 'Oitaplant 1-2-3'
d.AccessionNumber = 'ACCPLANT77'
d.InstitutionName = 'Plantinstitute Hospital'
d.ReferringPhysicianName = 'Refplant^Doctor'
d.StudyID = 'STUDYPLANT9'
d.StudyDescription = 'Study for Yamadaplant'
item = Dataset()
item.PatientName = 'Nestedplant^Name'
d.ReferencedPatientSequence = [item]
d.save_as({out:?})
for i, s in enumerate(['Yamadaplant', 'Taroplant', '山田植', '太郎植', 'やまだうえ', 'PIDPLANT',
        '98765432', 'OTHERPLANT', '19510304', 'Oitaplant', 'ACCPLANT77', 'Plantinstitute',
        'Refplant', 'STUDYPLANT9', 'Nestedplant']):
    print(i, s.encode('utf-8').hex())
    jis = s.encode('iso2022_jp').replace(b'\x1b$B', b'').replace(b'\x1b(B', b'')
    if jis != s.encode('utf-8'):
        print(i, jis.hex())
"#,
        src = dir.join(source).display().to_string(),
        out = out.display().to_string()
    );
    let output = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut secrets: Vec<Vec<Vec<u8>>> = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let (index, hex) = line.split_once(' ').unwrap();
        let index: usize = index.parse().unwrap();
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        if secrets.len() <= index {
            secrets.push(Vec::new());
        }
        secrets[index].push(bytes);
    }
    let file = std::fs::read(out).unwrap();
    for forms in &secrets {
        assert!(
            forms.iter().any(|f| contains(&file, f)),
            "{:?} was planted",
            String::from_utf8_lossy(&forms[0])
        );
    }
    secrets
}

async fn no_dicomweb_response_carries_the_patient_identity(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let (utf8, jis) = (
        storage.dir.path().join("utf8.dcm"),
        storage.dir.path().join("jis.dcm"),
    );
    let mut secrets = planted_file(&dir, "CT_small.dcm", "'ISO_IR 192'", &utf8);
    secrets.extend(planted_file(
        &dir,
        "MR_small.dcm",
        "['', 'ISO 2022 IR 87']",
        &jis,
    ));
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let files = [std::fs::read(&utf8).unwrap(), std::fs::read(&jis).unwrap()];
    let (status, body) = stow(&admin, &files).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut paths = vec![
        "/dicomweb/studies?includefield=all".to_owned(),
        "/dicomweb/studies?PatientName=*&StudyDescription=*".to_owned(),
    ];
    for modality in ["CT", "MR"] {
        let (study, series, sops) = locate(&admin, &format!("ModalitiesInStudy={modality}")).await;
        let instance = format!(
            "/dicomweb/studies/{study}/series/{series}/instances/{}",
            sops[0]
        );
        paths.extend([
            format!("/dicomweb/studies/{study}/series?includefield=all"),
            format!("/dicomweb/studies/{study}/series/{series}/instances?includefield=all"),
            format!("/dicomweb/studies/{study}/instances?includefield=all"),
            format!("/dicomweb/studies/{study}"),
            format!("/dicomweb/studies/{study}/series/{series}"),
            format!("/dicomweb/studies/{study}/metadata"),
            format!("/dicomweb/studies/{study}/series/{series}/metadata"),
            instance.clone(),
            format!("{instance}/metadata"),
            format!("{instance}/frames/1"),
            format!("{instance}/rendered"),
        ]);
        let (_, meta) = admin.get(&format!("{instance}/metadata")).await;
        for attribute in meta[0].as_object().unwrap().values() {
            if let Some(uri) = attribute["BulkDataURI"].as_str() {
                paths.push(uri.to_owned());
            }
        }
    }
    assert!(paths.iter().any(|p| p.contains("/bulkdata/7FE00010")));
    for path in &paths {
        let (status, headers, body) = get_bytes(&admin, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for form in secrets.iter().flatten() {
            let shown = String::from_utf8_lossy(form);
            assert!(!contains(&body, form), "{shown:?} in {path}");
            for value in headers.values() {
                assert!(
                    !contains(value.as_bytes(), form),
                    "{shown:?} in a header of {path}"
                );
            }
        }
    }
    // The search by an original value finds nothing.
    for query in [
        "PatientName=Yamadaplant*",
        "PatientID=PIDPLANT-98765432",
        "AccessionNumber=ACCPLANT77",
    ] {
        let (_, found) = admin.get(&format!("/dicomweb/studies?{query}")).await;
        assert_eq!(found, json!([]), "{query}");
    }
}

async fn a_standard_dicomweb_client_stores_searches_and_retrieves(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let has_client = std::process::Command::new("python3")
        .args(["-c", "import dicomweb_client, PIL"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        eprintln!("SKIPPED: dicomweb-client is not installed (scripts/setup.sh installs it)");
        return;
    }
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dicomweb_interop.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&server.base)
        .arg(admin.token.as_deref().unwrap())
        .arg(dir.join("CT_small.dcm"))
        .arg(dir.join("MR_small.dcm"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
