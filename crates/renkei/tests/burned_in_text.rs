//! Burned-in text, held: an ultrasound with a name in its header band is held at ingest with
//! the text's rectangle kept (never the text), cannot be shared into a conversation (409
//! `study_held`) until a user of its hospital confirms it clean (audited with their name); a
//! user of another hospital cannot; Burned In Annotation YES holds a CT that is never scanned;
//! a photo with a printed label warns its sender.

mod common;

use std::process::Command;

use common::dicom::{burned_in_generator as generator, generated, stow};
use common::{Server, Storage, active_user};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn study_of(api: &common::Api, modality: &str) -> Value {
    let (_, inbox) = api.get("/api/v1/studies").await;
    inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["modalities"] == json!([modality]))
        .unwrap_or_else(|| panic!("a {modality} study in {inbox}"))
        .clone()
}

on_both_backends!(a_name_in_the_pixels_holds_the_study_until_confirmed_clean);

async fn a_name_in_the_pixels_holds_the_study_until_confirmed_clean(storage: Storage) {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let us = generated(dir, "us", "text", "US", None, None);
    let (status, answer) = stow(&admin, &[us]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let study = study_of(&bob, "US").await;
    let id = study["id"].as_str().unwrap().to_owned();
    assert_eq!(study["held_instances"], 1, "{study}");
    // The rectangle is kept, in the header band where the name is; no text anywhere.
    let (_, detail) = bob.get(&format!("/api/v1/studies/{id}")).await;
    let series = detail["series"][0]["series_uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, instances) = bob
        .get(&format!("/api/v1/studies/{id}/series/{series}/instances"))
        .await;
    let instance = &instances[0];
    assert_eq!(instance["held"], true);
    let regions = instance["text_regions"].as_array().unwrap();
    assert!(!regions.is_empty());
    for r in regions {
        assert!(
            r["y"].as_u64().unwrap() + r["height"].as_u64().unwrap() <= 60,
            "{r}"
        );
    }
    let shown = instance.to_string().to_uppercase();
    for planted in ["YAMADA", "TARO", "12345678"] {
        assert!(!shown.contains(planted), "no text is kept: {shown}");
    }
    // The thumbnail outlines the text in red.
    let (status, _, jpeg) =
        common::dicom::get_bytes(&bob, &format!("/api/v1/studies/{id}/thumbnail")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(has_red(&jpeg), "the detected text is outlined");

    // Not shareable while held.
    let (_, conv) = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [admin.get("/api/v1/me").await.1["user"]["id"]]}),
        )
        .await;
    let conv = conv["id"].as_str().unwrap().to_owned();
    let share = |n: &str| json!({"client_msg_id": format!("held-{n}"), "body": "US", "attachments": [{"kind": "study", "id": id}]});
    let (status, refused) = bob
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            share("1"),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("study_held")),
        "{refused}"
    );
    let (_, history) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(0),
        "nothing was posted"
    );

    // Another hospital's user cannot release it (it is not theirs to see).
    let dan = common::user_of_another_org(&server, &admin, "dan").await;
    let (status, _) = dan
        .post(&format!("/api/v1/studies/{id}/confirm-clean"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A user of the owning hospital confirms it clean: audited with their name.
    let (status, confirmed) = bob
        .post(&format!("/api/v1/studies/{id}/confirm-clean"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["released"], 1);
    let (_, audit) = admin
        .get(&format!(
            "/api/v1/audit?action=study.confirmed_clean&target_id={id}"
        ))
        .await;
    assert_eq!(audit[0]["actor_id"], bob_user["id"], "{audit}");
    assert_eq!(
        audit[0]["details"]["confirmed_by"],
        bob_user["display_name"]
    );
    assert_eq!(study_of(&bob, "US").await["held_instances"], 0);
    let (status, posted) = bob
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            share("2"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
}

/// Whether a JPEG has clearly red pixels (the outline; the image itself is grey).
fn has_red(jpeg: &[u8]) -> bool {
    let img = image::load_from_memory(jpeg).unwrap().to_rgb8();
    img.pixels().any(|p| p[0] > 160 && p[1] < 90 && p[2] < 90)
}

on_both_backends!(ct_is_never_scanned_and_burned_in_yes_holds_whatever_the_modality);

async fn ct_is_never_scanned_and_burned_in_yes_holds_whatever_the_modality(storage: Storage) {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    // Text in a CT's pixels is not looked for; a clean-looking CR saying YES is held.
    let ct = generated(dir, "us", "text", "CT", None, None);
    let cr = generated(dir, "cr", "clean", "CR", Some("YES"), None);
    let (status, answer) = stow(&admin, &[ct, cr]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(study_of(&admin, "CT").await["held_instances"], 0);
    assert_eq!(study_of(&admin, "CR").await["held_instances"], 1);
}

on_both_backends!(a_photo_of_a_wristband_label_warns_its_sender);

async fn a_photo_of_a_wristband_label_warns_its_sender(storage: Storage) {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let status = Command::new("python3")
        .arg(generator())
        .args([dir.to_str().unwrap(), "12"])
        .status()
        .unwrap();
    assert!(status.success());
    let mut warned = (0, 0);
    for (name, text) in [
        ("text-band-0004.png", true),
        ("clean-band-0005.png", false),
        ("text-band-0010.png", true),
        ("clean-band-0011.png", false),
    ] {
        let png = std::fs::read(dir.join(name)).unwrap();
        let jpeg = to_jpeg(&png);
        let (status, media) = admin
            .raw(
                Method::POST,
                "/api/v1/media?name=ward.jpg",
                "image/jpeg",
                jpeg,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{media}");
        assert_eq!(media["kind"], "photo");
        let seen = !media["text_regions"].as_array().unwrap().is_empty();
        if text {
            warned.0 += u32::from(seen);
        } else {
            assert!(!seen, "a label without text warns of nothing: {name}");
        }
        warned.1 += u32::from(text);
    }
    assert!(
        warned.0 >= 1,
        "a printed name warns its sender ({warned:?})"
    );
}

fn to_jpeg(png: &[u8]) -> Vec<u8> {
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}
