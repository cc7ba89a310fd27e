//! DICOMweb over real HTTP with pydicom's files: WADO-RS retrieval, metadata, frames and
//! rendered images; QIDO-RS with the standard keys; the access rule of `/api/v1/studies`;
//! no patient identity in any response; bad input refused whole.

mod common;

use std::path::Path;

use common::dicom::{get_bytes, get_bytes_accepting, last_digits, multipart, pydicom_eval, stow};
use common::{Api, Server, Storage, active_user, contains, pydicom_test_files, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    wado_serves_studies_series_metadata_frames_and_rendered_images,
    qido_matches_the_standard_keys_at_every_level,
    dicomweb_is_scoped_like_the_inbox_audited_and_expires,
    no_dicomweb_response_carries_the_patient_identity,
    bad_dicomweb_input_is_refused_and_stores_nothing,
);

/// The parts of a `multipart/related` response, and each part's content type.
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a boundary")
        .trim_matches('"');
    let delimiter = format!("\r\n--{boundary}");
    let mut body = [b"\r\n".as_slice(), body].concat();
    let mut out = Vec::new();
    loop {
        let at = find(&body, delimiter.as_bytes()).expect("a delimiter");
        let rest = body[at + delimiter.len()..].to_vec();
        if rest.starts_with(b"--") {
            return out;
        }
        let head_end = find(&rest, b"\r\n\r\n").expect("part headers");
        let head = String::from_utf8_lossy(&rest[2..head_end]).to_string();
        let ct = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Type: "))
            .unwrap_or("")
            .to_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter.as_bytes()).expect("the next delimiter");
        out.push((ct, content[..end].to_vec()));
        body = content[end..].to_vec();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn uid(object: &Value, tag: &str) -> String {
    object[tag]["Value"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{tag} in {object}"))
        .to_owned()
}

/// The one study QIDO-RS finds for `query`, with its (series, instances) UIDs.
async fn locate(api: &Api, query: &str) -> (String, String, Vec<String>) {
    let (status, found) = api.get(&format!("/dicomweb/studies?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1, "{query}: {found}");
    let study = uid(&found[0], "0020000D");
    let (_, series) = api.get(&format!("/dicomweb/studies/{study}/series")).await;
    let series = uid(&series[0], "0020000E");
    let (_, instances) = api
        .get(&format!(
            "/dicomweb/studies/{study}/series/{series}/instances"
        ))
        .await;
    let sops = instances
        .as_array()
        .unwrap()
        .iter()
        .map(|i| uid(i, "00080018"))
        .collect();
    (study, series, sops)
}

/// The bytes of frames `numbers` (1-based) of a native file, as stored in it.
fn native_frames(path: &Path, numbers: &[usize]) -> Vec<Vec<u8>> {
    let v = pydicom_eval(
        path,
        &[
            "open(p,'rb').read().find(d.PixelData[:512])",
            "len(d.PixelData)",
            "int(d.get('NumberOfFrames', 1))",
        ],
    );
    let (start, len, frames): (usize, usize, usize) = (
        v[0].parse().unwrap(),
        v[1].parse().unwrap(),
        v[2].parse().unwrap(),
    );
    let bytes = std::fs::read(path).unwrap();
    let size = len / frames;
    numbers
        .iter()
        .map(|n| bytes[start + (n - 1) * size..start + n * size].to_vec())
        .collect()
}

async fn wado_serves_studies_series_metadata_frames_and_rendered_images(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let names = ["CT_small.dcm", "rtdose.dcm", "MR_small_RLE.dcm"];
    let files: Vec<Vec<u8>> = names
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let (status, body) = stow(&admin, &files).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Study and series retrieval: every instance, each a whole Part 10 file.
    let (ct_study, ct_series, ct_sops) = locate(&admin, "ModalitiesInStudy=CT").await;
    for path in [
        format!("/dicomweb/studies/{ct_study}"),
        format!("/dicomweb/studies/{ct_study}/series/{ct_series}"),
        format!(
            "/dicomweb/studies/{ct_study}/series/{ct_series}/instances/{}",
            ct_sops[0]
        ),
    ] {
        let (status, headers, body) = get_bytes_accepting(
            &admin,
            &path,
            Some("multipart/related; type=\"application/dicom\""),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let ct = headers["content-type"].to_str().unwrap();
        assert!(
            ct.starts_with("multipart/related; type=\"application/dicom\""),
            "{ct}"
        );
        let found = parts(ct, &body);
        assert_eq!(found.len(), 1, "{path}");
        assert_eq!(found[0].0, "application/dicom");
        assert_eq!(&found[0].1[128..132], b"DICM");
    }

    // Metadata: DICOM JSON with person names as objects, IS/DS numbers, pixel data by reference.
    let (status, meta) = admin
        .get(&format!("/dicomweb/studies/{ct_study}/metadata"))
        .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    let instance = &meta[0];
    assert_eq!(uid(instance, "0020000D"), ct_study);
    assert_eq!(instance["00100010"]["vr"], "PN");
    assert_eq!(
        instance["00100010"]["Value"][0],
        json!({"Alphabetic": "ANONYMOUS"})
    );
    assert_eq!(instance["00280010"], json!({"vr": "US", "Value": [128]}));
    assert!(
        instance["00200013"]["Value"][0].is_number(),
        "IS as a number"
    );
    let pixel_uri = instance["7FE00010"]["BulkDataURI"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(instance["7FE00010"].get("InlineBinary").is_none());
    let (_, series_meta) = admin
        .get(&format!(
            "/dicomweb/studies/{ct_study}/series/{ct_series}/metadata"
        ))
        .await;
    assert_eq!(series_meta, meta);
    let (_, one) = admin
        .get(&format!(
            "/dicomweb/studies/{ct_study}/series/{ct_series}/instances/{}/metadata",
            ct_sops[0]
        ))
        .await;
    assert_eq!(one, meta);
    // The pixel data's BulkDataURI gives the frame bytes, as stored.
    let ct_frame = native_frames(&dir.join("CT_small.dcm"), &[1]);
    let (status, headers, body) = get_bytes(&admin, &pixel_uri).await;
    assert_eq!(status, StatusCode::OK, "{pixel_uri}");
    let found = parts(headers["content-type"].to_str().unwrap(), &body);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, ct_frame[0]);

    // Frames of a native multi-frame instance: 1-based, several at once, bytes as stored.
    let (dose_study, dose_series, dose_sops) = locate(&admin, "ModalitiesInStudy=RTDOSE").await;
    let dose = format!(
        "/dicomweb/studies/{dose_study}/series/{dose_series}/instances/{}",
        dose_sops[0]
    );
    let (status, headers, body) = get_bytes_accepting(
        &admin,
        &format!("{dose}/frames/1,3,5"),
        Some("multipart/related; type=\"application/octet-stream\""),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ct = headers["content-type"].to_str().unwrap();
    assert!(
        ct.starts_with("multipart/related; type=\"application/octet-stream\""),
        "{ct}"
    );
    let found = parts(ct, &body);
    let expected = native_frames(&dir.join("rtdose.dcm"), &[1, 3, 5]);
    assert_eq!(found.len(), 3);
    for (i, (part_type, bytes)) in found.iter().enumerate() {
        assert!(
            part_type.starts_with("application/octet-stream"),
            "{part_type}"
        );
        assert_eq!(bytes, &expected[i], "frame {}", [1, 3, 5][i]);
    }
    // A compressed (RLE) instance is decoded: its frame equals the uncompressed original's.
    let (mr_study, mr_series, mr_sops) = locate(&admin, "ModalitiesInStudy=MR").await;
    let mr = format!(
        "/dicomweb/studies/{mr_study}/series/{mr_series}/instances/{}",
        mr_sops[0]
    );
    let (status, headers, body) = get_bytes(&admin, &format!("{mr}/frames/1")).await;
    assert_eq!(status, StatusCode::OK);
    let found = parts(headers["content-type"].to_str().unwrap(), &body);
    assert_eq!(
        found[0].1,
        native_frames(&dir.join("MR_small.dcm"), &[1])[0]
    );

    // Rendered: JPEG by default, PNG when asked; window, viewport and quality apply.
    let rendered = format!(
        "/dicomweb/studies/{ct_study}/series/{ct_series}/instances/{}",
        ct_sops[0]
    );
    let (status, headers, jpeg) = get_bytes(&admin, &format!("{rendered}/frames/1/rendered")).await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/jpeg")
    );
    assert_eq!(image::load_from_memory(&jpeg).unwrap().width(), 128);
    let png = |query: &'static str, frame: bool| {
        let admin = admin.clone();
        let path = if frame {
            format!("{rendered}/frames/1/rendered{query}")
        } else {
            format!("{rendered}/rendered{query}")
        };
        async move {
            let (status, headers, body) =
                get_bytes_accepting(&admin, &path, Some("image/png")).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{path}: {}",
                String::from_utf8_lossy(&body)
            );
            assert_eq!(headers["content-type"], "image/png");
            image::load_from_memory(&body).unwrap().to_luma8()
        }
    };
    let lung = png("?window=-600,1500", true).await;
    let bone = png("?window=400,1800", true).await;
    let sigmoid = png("?window=-600,1500,sigmoid", true).await;
    assert_eq!(lung.dimensions(), (128, 128));
    assert_ne!(lung.as_raw(), bone.as_raw(), "the window changes the image");
    assert_ne!(
        lung.as_raw(),
        sigmoid.as_raw(),
        "the VOI function changes the image"
    );
    assert_eq!(png("?viewport=64,64", true).await.dimensions(), (64, 64));
    assert_eq!(
        png("?window=-600,1500", false).await,
        lung,
        "/rendered is frame 1"
    );
    let (_, _, rough) = get_bytes(&admin, &format!("{rendered}/rendered?quality=5")).await;
    let (_, _, fine) = get_bytes(&admin, &format!("{rendered}/rendered?quality=95")).await;
    assert!(rough.len() < fine.len(), "quality sets the JPEG quality");
    let (status, _, body) = get_bytes_accepting(
        &admin,
        &format!("{rendered}/rendered"),
        Some("application/pdf"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_ACCEPTABLE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _, _) = get_bytes(&admin, &format!("{dose}/frames/15/rendered")).await;
    assert_eq!(status, StatusCode::OK, "the last frame renders");
}

async fn qido_matches_the_standard_keys_at_every_level(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let ct_path = dir.join("CT_small.dcm");
    let files: Vec<Vec<u8>> = ["CT_small.dcm", "MR_small.dcm"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let (status, body) = stow(&admin, &files).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let count = |query: String| {
        let admin = admin.clone();
        async move {
            let (status, found) = admin.get(&format!("/dicomweb/studies?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {found}");
            found.as_array().unwrap().len()
        }
    };
    let (ct_study, ct_series, ct_sops) = locate(&admin, "ModalitiesInStudy=CT").await;
    let (mr_study, _, _) = locate(&admin, "00080061=MR").await;
    let (_, all) = admin.get("/dicomweb/studies").await;
    let ct = all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| uid(s, "0020000D") == ct_study)
        .unwrap()
        .clone();
    // The required return attributes, with the index's counts and the de-identified values.
    for key in [
        "00080020", "00080030", "00080050", "00080056", "00080061", "00080090", "00081190",
        "00100010", "00100020", "00100030", "00100040", "0020000D", "00200010", "00201206",
        "00201208",
    ] {
        assert!(ct.get(key).is_some(), "{key} missing from {ct}");
    }
    assert_eq!(ct["00201206"]["Value"][0], 1);
    assert_eq!(ct["00201208"]["Value"][0], 1);
    assert_eq!(ct["00100010"]["Value"][0]["Alphabetic"], "ANONYMOUS");
    let original = pydicom_eval(&ct_path, &["d.PatientID", "d.AccessionNumber or 'ACC'"]);
    let tail = last_digits(&original[0], 4);
    assert_eq!(ct["00100020"]["Value"][0], tail.as_str());
    assert!(ct.get("00081030").is_some());
    let date = uid(&ct, "00080020");
    let time = uid(&ct, "00080030");

    // Study level: UID lists, dates and times with ranges, names, IDs, wildcards.
    let hits = |query: String| {
        let admin = admin.clone();
        let ct_study = ct_study.clone();
        async move {
            let (status, found) = admin.get(&format!("/dicomweb/studies?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {found}");
            found
                .as_array()
                .unwrap()
                .iter()
                .any(|s| uid(s, "0020000D") == ct_study)
        }
    };
    assert_eq!(
        count(format!("StudyInstanceUID={ct_study},{mr_study}")).await,
        2
    );
    assert_eq!(count(format!("StudyInstanceUID={ct_study}")).await, 1);
    assert_eq!(count("StudyInstanceUID=1.2.3.4".into()).await, 0);
    let year: u32 = date[..4].parse().unwrap();
    assert!(hits(format!("StudyDate={date}")).await);
    assert!(hits(format!("StudyDate={year}0101-{year}1231")).await);
    assert!(hits(format!("StudyDate={date}-")).await);
    assert!(hits(format!("StudyDate=-{date}")).await);
    assert!(!hits(format!("StudyDate={}0101-", year + 1)).await);
    assert!(!hits(format!("StudyDate=-{}1231", year - 1)).await);
    let hour: u32 = time[..2].parse().unwrap();
    assert!(hits(format!("StudyTime={}", &time[..6])).await);
    assert!(hits(format!("StudyTime={:02}00-{:02}59", hour, hour)).await);
    assert!(hits(format!("StudyDate={date}&StudyTime={:02}00-", hour)).await);
    assert!(!hits(format!("StudyTime={:02}00-", hour + 1)).await);
    assert!(
        !hits("AccessionNumber=ACC123".into()).await,
        "accession numbers are removed"
    );
    assert!(hits("AccessionNumber=".into()).await);
    assert!(hits(format!("PatientID={tail}")).await);
    assert!(
        !hits(format!("PatientID={}", urlencode(&original[0]))).await,
        "the original ID matches nothing"
    );
    assert_eq!(count("PatientName=ANONYMOUS".into()).await, 2);
    assert_eq!(count("PatientName=anon*".into()).await, 2);
    assert!(!hits("PatientName=CompressedSamples*".into()).await);
    assert_eq!(count("ModalitiesInStudy=CT,MR".into()).await, 2);
    assert_eq!(count("00080061=CT".into()).await, 1);
    if let Some(description) = ct["00081030"]["Value"][0].as_str() {
        let head: String = description.chars().take(3).collect();
        assert!(
            hits(format!(
                "StudyDescription={}*&fuzzymatching=true",
                urlencode(&head)
            ))
            .await
        );
        assert!(
            hits(format!(
                "StudyDescription=?{}",
                urlencode(&description[1..])
            ))
            .await
        );
        assert!(!hits(format!("StudyDescription={}x", urlencode(description))).await);
    }
    assert_eq!(
        count("StudyDescription=*&fuzzymatching=true".into()).await,
        2
    );
    // limit and offset page through the results.
    assert_eq!(count("limit=1".into()).await, 1);
    assert_eq!(count("limit=1&offset=1".into()).await, 1);
    assert_eq!(count("offset=2".into()).await, 0);
    // includefield: by keyword, by tag, or all of the study's attributes.
    let (_, plain) = admin
        .get(&format!("/dicomweb/studies?StudyInstanceUID={ct_study}"))
        .await;
    assert!(
        plain[0].get("00100040").is_some(),
        "Patient's Sex is a required key"
    );
    assert!(
        plain[0].get("00180015").is_none(),
        "Body Part is not a study attribute"
    );
    let (_, included) = admin
        .get(&format!(
            "/dicomweb/studies?StudyInstanceUID={ct_study}&includefield=PatientAge,00101030"
        ))
        .await;
    assert!(
        included[0].get("00101010").is_some() && included[0].get("00101030").is_some(),
        "{included}"
    );
    let (_, every) = admin
        .get(&format!(
            "/dicomweb/studies?StudyInstanceUID={ct_study}&includefield=all"
        ))
        .await;
    assert!(every[0].as_object().unwrap().len() >= plain[0].as_object().unwrap().len());
    assert!(
        every[0].get("00080018").is_none(),
        "no instance attribute at study level"
    );

    // Series level.
    let series = |query: &str| {
        let admin = admin.clone();
        let path = format!("/dicomweb/studies/{ct_study}/series?{query}");
        async move {
            let (status, found) = admin.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {found}");
            found.as_array().unwrap().clone()
        }
    };
    let found = series("Modality=CT").await;
    assert_eq!(found.len(), 1);
    for key in ["00080060", "0020000E", "00200011", "00201209", "00081190"] {
        assert!(
            found[0].get(key).is_some(),
            "{key} missing from {}",
            found[0]
        );
    }
    assert_eq!(found[0]["00201209"]["Value"][0], 1);
    assert_eq!(series("Modality=MR").await.len(), 0);
    assert_eq!(
        series(&format!("SeriesInstanceUID={ct_series}"))
            .await
            .len(),
        1
    );
    let number = found[0]["00200011"]["Value"][0].as_i64().unwrap();
    assert_eq!(series(&format!("SeriesNumber={number}")).await.len(), 1);
    assert_eq!(
        series(&format!("SeriesNumber={}", number + 1)).await.len(),
        0
    );

    // Instance level, under the series and under the study.
    let instances = |query: String| {
        let admin = admin.clone();
        async move {
            let (status, found) = admin.get(&query).await;
            assert_eq!(status, StatusCode::OK, "{query}: {found}");
            found.as_array().unwrap().clone()
        }
    };
    let base = format!("/dicomweb/studies/{ct_study}/series/{ct_series}/instances");
    let found = instances(format!("{base}?SOPInstanceUID={}", ct_sops[0])).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["00280010"]["Value"][0], 128, "Rows");
    assert_eq!(found[0]["00280011"]["Value"][0], 128, "Columns");
    assert_eq!(found[0]["00280100"]["Value"][0], 16, "Bits Allocated");
    let class = uid(&found[0], "00080016");
    assert_eq!(
        instances(format!("{base}?SOPClassUID={class}")).await.len(),
        1
    );
    assert_eq!(
        instances(format!("{base}?SOPClassUID=1.2.3")).await.len(),
        0
    );
    assert_eq!(instances(format!("{base}?InstanceNumber=1")).await.len(), 1);
    assert_eq!(instances(format!("{base}?InstanceNumber=2")).await.len(), 0);
    assert_eq!(
        instances(format!(
            "/dicomweb/studies/{ct_study}/instances?SOPInstanceUID={}",
            ct_sops[0]
        ))
        .await
        .len(),
        1
    );

    // Unknown keys are refused with a reason.
    for query in [
        "NoSuchKey=1",
        "includefield=NoSuchKey",
        "limit=many",
        "ReferencedStudySequence=x",
    ] {
        let (status, body) = admin.get(&format!("/dicomweb/studies?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
}

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

    // Shared into a conversation with dan: dan sees it through DICOMweb too, erin still not.
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

/// A copy of CT_small.dcm carrying identifying values everywhere, written by pydicom.
fn planted_file(dir: &Path, out: &Path) -> Vec<String> {
    let script = format!(
        r#"import pydicom
from pydicom.dataset import Dataset
d = pydicom.dcmread({src:?})
d.SpecificCharacterSet = 'ISO_IR 192'
d.PatientName = 'Yamadaplant^Taroplant=山田植^太郎植=やまだうえ^たろううえ'
d.PatientID = 'PIDPLANT-98765432'
d.OtherPatientIDs = 'OTHERPLANT-1'
d.PatientBirthDate = '19510304'
d.PatientAddress = 'Oitaplant 1-2-3'
d.AccessionNumber = 'ACCPLANT77'
d.InstitutionName = 'Plantinstitute Hospital'
d.ReferringPhysicianName = 'Refplant^Doctor'
d.StudyID = 'STUDYPLANT9'
d.StudyDescription = 'CT for Yamadaplant'
item = Dataset()
item.PatientName = 'Nestedplant^Name'
d.ReferencedPatientSequence = [item]
d.save_as({out:?})
"#,
        src = dir.join("CT_small.dcm").display().to_string(),
        out = out.display().to_string()
    );
    let status = std::process::Command::new("python3")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(status.success());
    [
        "Yamadaplant",
        "Taroplant",
        "山田植",
        "太郎植",
        "やまだうえ",
        "PIDPLANT",
        "98765432",
        "OTHERPLANT",
        "19510304",
        "Oitaplant",
        "ACCPLANT77",
        "Plantinstitute",
        "Refplant",
        "STUDYPLANT9",
        "Nestedplant",
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn no_dicomweb_response_carries_the_patient_identity(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let planted = storage.dir.path().join("planted.dcm");
    let secrets = planted_file(&dir, &planted);
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let bytes = std::fs::read(&planted).unwrap();
    for secret in &secrets {
        assert!(
            contains(&bytes, secret.as_bytes()),
            "{secret:?} was planted"
        );
    }
    let (status, body) = stow(&admin, &[bytes]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (study, series, sops) = locate(&admin, "").await;
    let instance = format!(
        "/dicomweb/studies/{study}/series/{series}/instances/{}",
        sops[0]
    );
    let mut paths = vec![
        "/dicomweb/studies?includefield=all".to_owned(),
        "/dicomweb/studies?PatientName=*&StudyDescription=*".to_owned(),
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
    ];
    let (_, meta) = admin.get(&format!("{instance}/metadata")).await;
    for attribute in meta[0].as_object().unwrap().values() {
        if let Some(uri) = attribute["BulkDataURI"].as_str() {
            paths.push(uri.to_owned());
        }
    }
    assert!(paths.iter().any(|p| p.contains("/bulkdata/7FE00010")));
    for path in &paths {
        let (status, headers, body) = get_bytes(&admin, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for secret in &secrets {
            assert!(!contains(&body, secret.as_bytes()), "{secret:?} in {path}");
            for value in headers.values() {
                assert!(
                    !contains(value.as_bytes(), secret.as_bytes()),
                    "{secret:?} in a header of {path}"
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

async fn bad_dicomweb_input_is_refused_and_stores_nothing(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let ct = std::fs::read(dir.join("CT_small.dcm")).unwrap();
    let mr = std::fs::read(dir.join("MR_small.dcm")).unwrap();
    let refused = |status: StatusCode, body: &Value, expected: StatusCode, what: &str| {
        assert_eq!(status, expected, "{what}: {body}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{what}: {body}"
        );
    };
    // Malformed multipart: a valid instance followed by a part that never ends.
    let (ct_type, mut body) = multipart(std::slice::from_ref(&ct));
    body.truncate(body.len() - "--renkei-test-boundary--\r\n".len());
    body.extend(b"--renkei-test-boundary\r\nContent-Type: application/dicom\r\n\r\n");
    body.extend(&mr[..mr.len() / 2]);
    let (status, reply) = admin
        .raw(Method::POST, "/dicomweb/studies", &ct_type, body)
        .await;
    refused(
        status,
        &reply,
        StatusCode::BAD_REQUEST,
        "unterminated multipart",
    );
    // A part that is not DICOM by its type; a multipart of another type; no boundary.
    let mut typed = b"--b\r\nContent-Type: application/dicom\r\n\r\n".to_vec();
    typed.extend(&ct);
    typed.extend(b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n");
    let (status, reply) = admin
        .raw(
            Method::POST,
            "/dicomweb/studies",
            "multipart/related; type=\"application/dicom\"; boundary=b",
            typed,
        )
        .await;
    refused(
        status,
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a text/plain part",
    );
    let (_, body) = multipart(std::slice::from_ref(&ct));
    let (status, reply) = admin
        .raw(
            Method::POST,
            "/dicomweb/studies",
            "multipart/related; type=\"application/dicom+xml\"; boundary=renkei-test-boundary",
            body,
        )
        .await;
    refused(
        status,
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "dicom+xml",
    );
    let (status, reply) = admin
        .raw(
            Method::POST,
            "/dicomweb/studies",
            "multipart/related",
            ct.clone(),
        )
        .await;
    refused(status, &reply, StatusCode::BAD_REQUEST, "no boundary");
    let (status, reply) = admin
        .raw(
            Method::POST,
            "/dicomweb/studies",
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    refused(status, &reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON");
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox, json!([]), "nothing was stored");

    // Bad frame numbers and render options.
    stow(&admin, &[ct]).await;
    let (study, series, sops) = locate(&admin, "").await;
    let instance = format!(
        "/dicomweb/studies/{study}/series/{series}/instances/{}",
        sops[0]
    );
    for (path, expected) in [
        ("frames/0", StatusCode::BAD_REQUEST),
        ("frames/2", StatusCode::NOT_FOUND),
        ("frames/1,2", StatusCode::NOT_FOUND),
        ("frames/abc", StatusCode::BAD_REQUEST),
        ("frames/1,,1", StatusCode::BAD_REQUEST),
        ("frames/-1", StatusCode::BAD_REQUEST),
        ("frames/0/rendered", StatusCode::BAD_REQUEST),
        ("frames/9/rendered", StatusCode::NOT_FOUND),
        ("frames/1,1/rendered", StatusCode::BAD_REQUEST),
        ("rendered?window=lung", StatusCode::BAD_REQUEST),
        ("rendered?window=40,400,cubic", StatusCode::BAD_REQUEST),
        ("rendered?window=40,0", StatusCode::BAD_REQUEST),
        ("rendered?viewport=0,10", StatusCode::BAD_REQUEST),
        ("rendered?viewport=1,2,3,4,5,6", StatusCode::BAD_REQUEST),
        ("rendered?quality=0", StatusCode::BAD_REQUEST),
        ("rendered?quality=500", StatusCode::BAD_REQUEST),
        ("rendered?colour=red", StatusCode::BAD_REQUEST),
        ("bulkdata/zzzz", StatusCode::BAD_REQUEST),
        ("bulkdata/00091001", StatusCode::NOT_FOUND),
    ] {
        let (status, _, body) = get_bytes(&admin, &format!("{instance}/{path}")).await;
        let body: Value = serde_json::from_slice(&body).unwrap_or_default();
        refused(status, &body, expected, path);
    }
    let (status, _, _) =
        get_bytes_accepting(&admin, &format!("{instance}/frames/1"), Some("image/jpeg")).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let (status, _, _) = get_bytes(
        &admin,
        &format!(
            "/dicomweb/studies/{study}/series/1.2.3/instances/{}",
            sops[0]
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an instance is found only under its own series"
    );
    let (status, _, _) = get_bytes(&admin, "/dicomweb/studies/1.2.3/metadata").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
