//! Media over real HTTP: metadata stripped, orientation applied, encrypted on disk, only
//! members see it, bad uploads leave nothing, and expiry destroys it while the message stays.

mod common;

use std::io::Cursor;

use common::{Api, Server, Storage, active_user, contains, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    photos_lose_their_metadata_and_stand_upright,
    files_are_encrypted_on_disk_and_round_trip,
    only_members_of_a_conversation_it_was_posted_in_see_a_medium,
    bad_uploads_are_refused_and_leave_nothing_behind,
    expired_media_are_destroyed_but_their_messages_stay,
    a_conversation_may_keep_media_for_less_time_never_more,
);

const MARKER: &str = "PATIENT-TANAKA-GPS-MARKER";

/// A JPEG of `w`×`h` whose top-left pixel is red, with an EXIF block carrying `orientation`,
/// an image description holding MARKER, and GPS coordinates.
fn jpeg_with_exif(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb([0, 0, 255]));
    for y in 0..4 {
        for x in 0..4 {
            img.put_pixel(x, y, image::Rgb([255, 0, 0]));
        }
    }
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    // TIFF (little endian): IFD0 {Orientation, ImageDescription, GPS pointer}, GPS IFD {LatitudeRef, Latitude}.
    let desc = format!("{MARKER}\0");
    let ifd0 = 8u32;
    let ifd0_len = 2 + 3 * 12 + 4;
    let desc_at = ifd0 + ifd0_len;
    let gps_at = desc_at + desc.len() as u32;
    let gps_len = 2 + 2 * 12 + 4;
    let lat_at = gps_at + gps_len;
    let mut t = b"II*\0".to_vec();
    t.extend(ifd0.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value.to_le_bytes());
    };
    t.extend(3u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation));
    entry(&mut t, 0x010E, 2, desc.len() as u32, desc_at);
    entry(&mut t, 0x8825, 4, 1, gps_at);
    t.extend(0u32.to_le_bytes());
    t.extend(desc.as_bytes());
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, lat_at);
    t.extend(0u32.to_le_bytes());
    for (num, den) in [(35u32, 1u32), (41, 1), (2207, 100)] {
        t.extend(num.to_le_bytes());
        t.extend(den.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(t);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

async fn upload(api: &Api, name: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let url = format!("/api/v1/media?name={}", urlencode(name));
    api.raw(Method::POST, &url, content_type, body).await
}

async fn download(api: &Api, path: &str) -> reqwest::Response {
    api.http
        .get(api.url(path))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap()
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out
}

async fn photos_lose_their_metadata_and_stand_upright(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let original = jpeg_with_exif(64, 32, 6);
    assert!(contains(&original, MARKER.as_bytes()) && contains(&original, b"Exif"));
    let (status, media) = upload(&admin, "IMG_0001.JPG", "image/jpeg", original).await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    assert_eq!(
        (
            media["kind"].as_str(),
            media["width"].as_i64(),
            media["height"].as_i64()
        ),
        (Some("photo"), Some(32), Some(64)),
        "rotated 90°"
    );
    let id = media["id"].as_str().unwrap();
    let resp = download(&admin, &format!("/api/v1/media/{id}/content")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let bytes = resp.bytes().await.unwrap();
    assert!(
        !contains(&bytes, MARKER.as_bytes()),
        "the description is gone"
    );
    assert!(!contains(&bytes, b"Exif"), "no EXIF block at all");
    assert!(!contains(&bytes, &2207u32.to_le_bytes()), "no GPS rational");
    let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(decoded.dimensions(), (32, 64));
    // Orientation 6 turns the picture 90° clockwise: the red top-left corner ends top-right.
    let top_right = decoded.get_pixel(31, 0);
    assert!(top_right[0] > 200 && top_right[2] < 80, "{top_right:?}");
    let thumb = download(&admin, &format!("/api/v1/media/{id}/thumbnail")).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = thumb.bytes().await.unwrap();
    assert!(!contains(&thumb, b"Exif") && !contains(&thumb, MARKER.as_bytes()));
    assert!(image::load_from_memory(&thumb).is_ok());
}

async fn files_are_encrypted_on_disk_and_round_trip(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let pdf: Vec<u8> = format!("%PDF-1.4\n% {MARKER}\n")
        .bytes()
        .chain(std::iter::repeat_n(b'x', 300_000))
        .collect();
    let (status, media) = upload(
        &admin,
        "referral letter.pdf",
        "application/pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(
        (status, media["kind"].as_str(), media["size"].as_i64()),
        (StatusCode::CREATED, Some("pdf"), Some(pdf.len() as i64)),
        "{media}"
    );
    let resp = download(
        &admin,
        &format!("/api/v1/media/{}/content", media["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("referral_letter.pdf")
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &pdf[..]);
    let zip = b"PK\x03\x04 not really a zip but unknown binary".to_vec();
    let (_, other) = upload(&admin, "data.zip", "application/zip", zip).await;
    let resp = download(
        &admin,
        &format!("/api/v1/media/{}/content", other["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    for file in files_under(&storage.data_dir()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, MARKER.as_bytes()),
            "{} holds plaintext",
            file.display()
        );
    }
}

async fn only_members_of_a_conversation_it_was_posted_in_see_a_medium(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&server, &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let (carol, _) = active_user(&server, &admin, &org, "carol").await;
    let bob_id = bob_user["id"].as_str().unwrap();
    let (_, media) = upload(&alice, "ecg.png", "image/png", png(40, 20)).await;
    let id = media["id"].as_str().unwrap();
    assert_eq!(
        bob.get(&format!("/api/v1/media/{id}")).await.0,
        StatusCode::NOT_FOUND,
        "not posted yet"
    );
    let (_, conv) = alice
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "ECG", "member_ids": [bob_id]}),
        )
        .await;
    let conv = conv["id"].as_str().unwrap();
    let attach = json!({"client_msg_id": "m1", "body": "ECG attached", "attachments": [{"kind": "media", "id": id, "name": "ecg.png"}]});
    let (status, posted) = alice
        .post(&format!("/api/v1/conversations/{conv}/messages"), attach)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(
        bob.get(&format!("/api/v1/media/{id}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        download(&bob, &format!("/api/v1/media/{id}/thumbnail"))
            .await
            .status(),
        StatusCode::OK
    );
    for path in [
        format!("/api/v1/media/{id}"),
        format!("/api/v1/media/{id}/content"),
        format!("/api/v1/media/{id}/thumbnail"),
    ] {
        assert_eq!(
            download(&carol, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Only the uploader may attach it; a removed member loses access.
    let (status, err) = bob.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"client_msg_id": "b1", "body": "fwd", "attachments": [{"kind": "media", "id": id}]})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("attachment_not_found")
        )
    );
    let resp = alice
        .http
        .delete(alice.url(&format!("/api/v1/conversations/{conv}/members/{bob_id}")))
        .bearer_auth(alice.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        bob.get(&format!("/api/v1/media/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    // Another organization's administrator sees nothing either.
    let (_, other_org) = admin
        .post("/api/v1/orgs", json!({"name": "Beppu Clinic"}))
        .await;
    let outsider = admin
        .create_user(
            other_org["id"].as_str().unwrap(),
            "dan",
            "one-time password",
            json!({}),
        )
        .await;
    let _ = outsider;
    let dan = server.login("dan", "one-time password").await;
    dan.put(
        "/api/v1/me/password",
        json!({"current_password": "one-time password", "new_password": common::USER_PASSWORD}),
    )
    .await;
    assert_eq!(
        dan.get(&format!("/api/v1/media/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 200, 10]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn media_count(storage: &Storage) -> i64 {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&storage.raw_url())
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM media")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    conn.close().await.unwrap();
    n
}

async fn bad_uploads_are_refused_and_leave_nothing_behind(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    admin
        .put("/api/v1/me/passcode", json!({"passcode": "2580"}))
        .await;
    let policy = json!({"policy": {"retention_days": 3, "patient_id_digits": 4, "idle_lock_minutes": 10, "passcode_required": false, "second_factor_required": false, "max_upload_mb": 1}});
    assert_eq!(
        admin
            .patch(&format!("/api/v1/orgs/{org}"), policy, Some(1))
            .await
            .0,
        StatusCode::OK
    );
    let blobs_before = files_under(&storage.data_dir().join("blobs")).len();
    let mut truncated = jpeg_with_exif(200, 200, 1);
    truncated.truncate(truncated.len() / 2);
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "empty.txt",
            "text/plain",
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_file",
        ),
        (
            "page.png",
            "image/png",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "dangerous_type",
        ),
        (
            "vector.svg",
            "image/svg+xml",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "dangerous_type",
        ),
        (
            "scan.jpg",
            "image/jpeg",
            b"%PDF-1.4 pretending".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "type_mismatch",
        ),
        (
            "big.bin",
            "application/octet-stream",
            vec![7u8; 2 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "half.jpg",
            "image/jpeg",
            truncated,
            StatusCode::UNPROCESSABLE_ENTITY,
            "truncated_image",
        ),
    ];
    for (name, content_type, body, status, code) in cases {
        let (got, err) = upload(&admin, name, content_type, body).await;
        assert_eq!(
            (got, err["code"].as_str()),
            (status, Some(code)),
            "{name}: {err}"
        );
    }
    let (got, err) = upload(&admin, "bomb.png", "image/png", bomb).await;
    assert!(
        got == StatusCode::PAYLOAD_TOO_LARGE || got == StatusCode::UNPROCESSABLE_ENTITY,
        "{err}"
    );
    assert_eq!(err["code"], "image_too_large");
    // A cut-off upload: the client fails mid-stream.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(vec![b'a'; 100_000]),
        Err(std::io::Error::other("cable pulled")),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let cut = admin
        .http
        .post(admin.url("/api/v1/media?name=cut.txt"))
        .bearer_auth(admin.token.as_deref().unwrap())
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await;
    assert!(cut.is_err() || cut.unwrap().status().is_client_error());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(media_count(&storage).await, 0, "no half row");
    assert_eq!(
        files_under(&storage.data_dir().join("blobs")).len(),
        blobs_before,
        "no orphan object"
    );
    // Names are cleaned of paths and control characters.
    let (status, media) = upload(
        &admin,
        "../../etc/pass\u{7}wd.txt",
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    let name = media["name"].as_str().unwrap();
    assert!(
        !name.contains('/') && !name.contains('\u{7}') && !name.contains(".."),
        "{name}"
    );
}

async fn expired_media_are_destroyed_but_their_messages_stay(storage: Storage) {
    use sqlx::{Connection, Row};
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let (_, media) = upload(&admin, "wound.jpg", "image/jpeg", jpeg_with_exif(40, 40, 1)).await;
    let id = media["id"].as_str().unwrap().to_owned();
    let (_, conv) = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [bob_user["id"]]}),
        )
        .await;
    let conv = conv["id"].as_str().unwrap();
    admin.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"client_msg_id": "p", "body": "day 1", "attachments": [{"kind": "media", "id": id}]})).await;
    assert!(
        files_under(&storage.data_dir().join("blobs"))
            .iter()
            .any(|f| f.to_string_lossy().contains(&id))
    );
    // Not due yet: nothing happens.
    let out = storage.admin(&["expire-media"], "");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 media expired"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Three days later (the default retention), the sweep destroys it.
    let later = renkei_core::clock::Timestamp::now()
        .plus_secs(3 * 86_400 + 60)
        .to_rfc3339();
    let out = storage.admin(&["expire-media", "--as-of", &later], "");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 media expired"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = bob.get(&format!("/api/v1/media/{id}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("media_expired"))
    );
    assert_eq!(
        download(&bob, &format!("/api/v1/media/{id}/content"))
            .await
            .status(),
        StatusCode::GONE
    );
    assert!(
        !files_under(&storage.data_dir())
            .iter()
            .any(|f| f.to_string_lossy().contains(&id)),
        "no file of it remains"
    );
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&storage.raw_url())
        .await
        .unwrap();
    let keys: i64 = sqlx::query("SELECT COUNT(*) AS n FROM media_keys WHERE media_id = $1")
        .bind(&id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(keys, 0, "the data keys are destroyed");
    let (_, history) = bob
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(
        (
            history[0]["body"].as_str(),
            history[0]["attachments"][0]["id"].as_str()
        ),
        (Some("day 1"), Some(id.as_str())),
        "the message stays"
    );
}

async fn a_conversation_may_keep_media_for_less_time_never_more(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (bob_api, bob) = active_user(&server, &admin, &org, "bob").await;
    let (_, conv) = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "Wound care", "member_ids": [bob["id"]]}),
        )
        .await;
    let conv = conv["id"].as_str().unwrap();
    let (status, body) = admin
        .patch(
            &format!("/api/v1/conversations/{conv}"),
            json!({"retention_days": 5}),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_retention")),
        "longer than the policy's 3 days"
    );
    let (_, before) = upload(&admin, "before.png", "image/png", png(8, 8)).await;
    admin.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"client_msg_id": "1", "body": "day 0", "attachments": [{"kind": "media", "id": before["id"]}]})).await;
    let (status, changed) = admin
        .patch(
            &format!("/api/v1/conversations/{conv}"),
            json!({"retention_days": 1}),
            None,
        )
        .await;
    assert_eq!(
        (status, changed["retention_days"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{changed}"
    );
    let (_, after) = upload(&admin, "after.png", "image/png", png(8, 8)).await;
    admin.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"client_msg_id": "2", "body": "day 0 again", "attachments": [{"kind": "media", "id": after["id"]}]})).await;
    let (_, elsewhere) = upload(&admin, "kept.png", "image/png", png(8, 8)).await;
    let a_day_later = renkei_core::clock::Timestamp::now()
        .plus_secs(86_400 + 60)
        .to_rfc3339();
    let out = storage.admin(&["expire-media", "--as-of", &a_day_later], "");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 media expired"),
        "hidden in the conversation, not destroyed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for media in [&before, &after] {
        let id = media["id"].as_str().unwrap();
        for (who, path) in [
            (&admin, format!("/api/v1/media/{id}?conversation={conv}")),
            (&bob_api, format!("/api/v1/media/{id}")),
            (&bob_api, format!("/api/v1/media/{id}/content")),
        ] {
            let (status, body) = who.get(&path).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::GONE, Some("media_expired")),
                "{path}"
            );
        }
    }
    assert_eq!(
        admin
            .get(&format!(
                "/api/v1/media/{}",
                elsewhere["id"].as_str().unwrap()
            ))
            .await
            .0,
        StatusCode::OK,
        "media outside keep the policy's days"
    );
}
