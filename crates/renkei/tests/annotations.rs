//! Annotations travel with the study: what a user draws on a frame is stored in the study as a
//! Grayscale Softcopy Presentation State that another viewer (here pydicom) reads through
//! DICOMweb, that only those who see the study may write or read, and that expires with it.

mod common;

use common::dicom::{get_bytes_accepting, locate, parts, pydicom_eval, stow, uid};
use common::{Server, Storage, pydicom_test_files};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(annotations_are_a_presentation_state_in_the_study);

const GSPS: &str = "1.2.840.10008.5.1.4.1.1.11.1";

async fn annotations_are_a_presentation_state_in_the_study(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let (status, _) = stow(&admin, &[std::fs::read(dir.join("CT_small.dcm")).unwrap()]).await;
    assert_eq!(status, StatusCode::OK);
    let (study_uid, ct_series, sops) = locate(&admin, "ModalitiesInStudy=CT").await;
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let id = inbox[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/studies/{id}/annotations");
    // CT_small is 128 × 128 with 0.661468 mm pixels.
    let shapes = json!([
        {"kind": "arrow", "from": [10.0, 10.0], "to": [60.0, 40.0]},
        {"kind": "length", "from": [20.0, 100.0], "to": [120.0, 100.0]},
        {"kind": "ellipse", "center": [64.0, 64.0], "radius": [30.0, 20.0]},
        {"kind": "text", "at": [5.0, 120.0], "text": "右肺に結節 nodule"},
    ]);

    // Bad input: refused with its code, nothing stored.
    for (shapes, code) in [
        (
            json!([{"kind": "arrow", "from": [0.0, 0.0], "to": [129.0, 1.0]}]),
            "annotation_outside_image",
        ),
        (
            json!([{"kind": "text", "at": [1.0, 1.0], "text": " "}]),
            "annotation_bad_text",
        ),
        (json!([]), "annotation_empty"),
    ] {
        let (status, body) = admin
            .post(&path, json!({"sop_uid": sops[0], "shapes": shapes}))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}"
        );
    }
    let (status, body) = admin
        .post(
            &path,
            json!({"sop_uid": sops[0], "frame": 2, "shapes": shapes}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("dicom_frame_out_of_range")
        ),
        "{body}"
    );
    let (status, body) = admin
        .post(&path, json!({"sop_uid": "2.25.404", "shapes": shapes}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        admin.get(&path).await.1,
        json!([]),
        "nothing stored by a refusal"
    );

    // Another organization's user can neither write nor read them.
    let dan = common::user_of_another_org(&server, &admin, "dan").await;
    let (status, _) = dan
        .post(&path, json!({"sop_uid": sops[0], "shapes": shapes}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, saved) = admin
        .post(&path, json!({"sop_uid": sops[0], "shapes": shapes}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let mut expected = shapes.clone();
    expected[1]["label"] = json!("66.1 mm");
    assert_eq!(
        saved["shapes"], expected,
        "the shapes, the length labelled in mm"
    );
    assert_eq!(saved["frame"], Value::Null);
    let presentation = saved["presentation_uid"].as_str().unwrap().to_owned();
    let (status, listed) = admin.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([saved]));
    let (status, _) = dan.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = admin
        .get(&format!(
            "/api/v1/audit?action=study.annotate&target_id={id}"
        ))
        .await;
    assert_eq!(audit.as_array().map(Vec::len), Some(1), "{audit}");

    // In the study through DICOMweb: a PR series with one GSPS instance, read by pydicom.
    let (_, series) = admin
        .get(&format!("/dicomweb/studies/{study_uid}/series?Modality=PR"))
        .await;
    let pr_series = uid(&series[0], "0020000E");
    assert_ne!(pr_series, ct_series);
    let (_, instances) = admin
        .get(&format!(
            "/dicomweb/studies/{study_uid}/series/{pr_series}/instances"
        ))
        .await;
    assert_eq!(uid(&instances[0], "00080016"), GSPS);
    assert_eq!(uid(&instances[0], "00080018"), presentation);
    let (status, headers, body) = get_bytes_accepting(
        &admin,
        &format!("/dicomweb/studies/{study_uid}/series/{pr_series}/instances/{presentation}"),
        Some("multipart/related; type=\"application/dicom\""),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let found = parts(headers["content-type"].to_str().unwrap(), &body);
    let file = storage.data_dir().join("gsps.dcm");
    std::fs::write(&file, &found[0].1).unwrap();
    let image = storage.data_dir().join("image.dcm");
    let (_, _, image_bytes) = get_bytes_accepting(
        &admin,
        &format!("/api/v1/studies/{id}/instances/{}", sops[0]),
        None,
    )
    .await;
    std::fs::write(&image, image_bytes).unwrap();
    let seen = pydicom_eval(
        &file,
        &[
            "d.SOPClassUID",
            "d.Modality",
            "d.StudyInstanceUID",
            "d.PatientID",
            "d.PatientIdentityRemoved",
            "d.PresentationLUTShape",
            "d.ContentLabel",
            "[a.GraphicLayer for a in d.GraphicAnnotationSequence]",
            "[a.ReferencedImageSequence[0].ReferencedSOPInstanceUID for a in d.GraphicAnnotationSequence]",
            "[(g.GraphicType, g.NumberOfGraphicPoints, g.GraphicAnnotationUnits) for a in d.GraphicAnnotationSequence for g in a.get('GraphicObjectSequence', [])]",
            "[[round(v, 1) for v in g.GraphicData] for a in d.GraphicAnnotationSequence for g in a.get('GraphicObjectSequence', [])][1:]",
            "[t.UnformattedTextValue for a in d.GraphicAnnotationSequence for t in a.get('TextObjectSequence', [])]",
            "[l.GraphicLayer for l in d.GraphicLayerSequence]",
            "list(d.DisplayedAreaSelectionSequence[0].DisplayedAreaBottomRightHandCorner)",
        ],
    );
    let source = pydicom_eval(&image, &["d.PatientID", "d.StudyInstanceUID"]);
    assert_eq!(seen[0], GSPS);
    assert_eq!(seen[1], "PR");
    assert_eq!(seen[2], study_uid);
    assert_eq!(
        (seen[2].as_str(), seen[3].as_str()),
        (source[1].as_str(), source[0].as_str()),
        "the study's de-identified patient"
    );
    assert_eq!(seen[4], "YES");
    assert_eq!(seen[5], "IDENTITY");
    assert_eq!(seen[6], "ANNOTATIONS");
    assert_eq!(seen[7], "['ARROWS', 'LENGTHS', 'ELLIPSES', 'TEXT']");
    assert_eq!(
        seen[8],
        format!("{:?}", vec![sops[0].as_str(); 4]).replace('"', "'")
    );
    assert_eq!(
        seen[9],
        "[('POLYLINE', 5, 'PIXEL'), ('POLYLINE', 2, 'PIXEL'), ('ELLIPSE', 4, 'PIXEL')]"
    );
    assert_eq!(
        seen[10],
        "[[20.0, 100.0, 120.0, 100.0], [34.0, 64.0, 94.0, 64.0, 64.0, 44.0, 64.0, 84.0]]"
    );
    assert_eq!(seen[11], "['66.1 mm', '右肺に結節 nodule']");
    assert_eq!(seen[12], "['ARROWS', 'LENGTHS', 'ELLIPSES', 'TEXT']");
    assert_eq!(seen[13], "[128, 128]");

    // Expired with the study.
    let later = renkei_core::clock::Timestamp::now()
        .plus_secs(3 * 86_400 + 60)
        .to_rfc3339();
    storage.admin(&["expire-media", "--as-of", &later], "");
    let (status, body) = admin.get(&path).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("study_expired"))
    );
}
