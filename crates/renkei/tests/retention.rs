//! What one hospital's conversation can do to another hospital's studies and photos: its
//! shorter retention hides them there only; a revoked agreement closes them like studies; and
//! the owning hospital's audit log records who viewed its study elsewhere.

mod common;

use common::dicom::stow;
use common::partners::{agree, org, org_admin};
use common::{Api, Server, Storage, active_user, pydicom_test_files, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    a_group_retention_hides_shared_content_there_only,
    another_hospitals_photos_close_with_the_agreement,
    the_owning_hospital_sees_views_of_its_study_elsewhere,
);

/// Hospital A (the first admin's) and hospital B with an agreement on messaging and images;
/// alice of A, bea and ben of B.
struct Partners {
    server: Server,
    a_org: String,
    a_admin: Api,
    b_admin: Api,
    agreement: String,
    alice: Api,
    bea: Api,
    bea_id: Value,
    ben: Api,
    ben_id: Value,
}

async fn partners(storage: &Storage) -> Partners {
    let server = Server::start(storage, &[]);
    let root = server.first_admin().await;
    let a_org = root.org_id().await;
    let b_org = org(&root, "Beppu Hospital", "beppu", "hospital").await;
    let a_admin = org_admin(&server, &root, &a_org, "a-admin").await;
    let b_admin = org_admin(&server, &root, &b_org, "b-admin").await;
    let agreement = agree(&a_admin, &b_admin, &b_org, &["messaging", "images"]).await;
    let (alice, _) = active_user(&server, &root, &a_org, "alice").await;
    let (bea, bea_user) = active_user(&server, &root, &b_org, "bea").await;
    let (ben, ben_user) = active_user(&server, &root, &b_org, "ben").await;
    Partners {
        server,
        a_org,
        a_admin,
        b_admin,
        agreement,
        alice,
        bea,
        bea_id: bea_user["id"].clone(),
        ben,
        ben_id: ben_user["id"].clone(),
    }
}

/// A CT received by `api`'s hospital (STOW-RS); its id and Study Instance UID.
async fn study_of(api: &Api, dir: &std::path::Path) -> (String, String) {
    let file = std::fs::read(dir.join("CT_small.dcm")).unwrap();
    let (status, body) = stow(api, &[file]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, inbox) = api.get("/api/v1/studies").await;
    (
        inbox[0]["id"].as_str().unwrap().to_owned(),
        inbox[0]["study_uid"].as_str().unwrap().to_owned(),
    )
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 200, 10]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A photo uploaded by `api`; its id.
async fn photo_of(api: &Api) -> String {
    let url = format!("/api/v1/media?name={}", urlencode("wound.png"));
    let (status, body) = api.raw(Method::POST, &url, "image/png", png()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A group of `api` with `members`; its id.
async fn group(api: &Api, members: &[&Value]) -> String {
    let (status, body) = api
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "Shared care", "member_ids": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Posts attachments (`("media" | "study", id)`) into a conversation.
async fn share(api: &Api, conv: &str, client_id: &str, attachments: &[(&str, &str)]) {
    let attachments: Vec<Value> = attachments
        .iter()
        .map(|(kind, id)| json!({"kind": kind, "id": id}))
        .collect();
    let (status, body) = api
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": client_id, "body": "see this", "attachments": attachments}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn status_code(api: &Api, path: &str) -> (StatusCode, Option<String>) {
    let (status, body) = api.get(path).await;
    (status, body["code"].as_str().map(str::to_owned))
}

fn ok() -> (StatusCode, Option<String>) {
    (StatusCode::OK, None)
}

fn gone(code: &str) -> (StatusCode, Option<String>) {
    (StatusCode::GONE, Some(code.to_owned()))
}

fn sweep_at(storage: &Storage, secs_from_now: i64) -> String {
    let at = renkei_core::clock::Timestamp::now()
        .plus_secs(secs_from_now)
        .to_rfc3339();
    let out = storage.admin(&["expire-media", "--as-of", &at], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `expires_at` of a study in the caller's inbox.
async fn inbox_expiry(api: &Api, study: &str) -> Value {
    let (_, inbox) = api.get("/api/v1/studies").await;
    inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == study)
        .map(|s| s["expires_at"].clone())
        .unwrap_or_else(|| panic!("{study} in the inbox: {inbox}"))
}

async fn a_group_retention_hides_shared_content_there_only(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let p = partners(&storage).await;
    let (b_study, _) = study_of(&p.bea, &dir).await;
    let (a_study, _) = study_of(&p.alice, &dir).await;
    let photo = photo_of(&p.bea).await;
    // B's own conversation, and A's group with bea, both showing B's study and photo; the
    // group shows A's own study too.
    let b_only = group(&p.bea, &[&p.ben_id]).await;
    share(
        &p.bea,
        &b_only,
        "b-1",
        &[("study", &b_study), ("media", &photo)],
    )
    .await;
    let shared = group(&p.alice, &[&p.bea_id]).await;
    share(
        &p.bea,
        &shared,
        "b-2",
        &[("study", &b_study), ("media", &photo)],
    )
    .await;
    share(&p.alice, &shared, "a-1", &[("study", &a_study)]).await;
    let b_expiry = inbox_expiry(&p.bea, &b_study).await;
    let a_expiry = inbox_expiry(&p.alice, &a_study).await;
    let photo_expiry = p.bea.get(&format!("/api/v1/media/{photo}")).await.1["expires_at"].clone();

    let (status, body) = p
        .alice
        .patch(
            &format!("/api/v1/conversations/{shared}"),
            json!({"retention_days": 1}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The objects keep their own organization's expiry: inbox cards and the photo's record.
    assert_eq!(inbox_expiry(&p.bea, &b_study).await, b_expiry);
    assert_eq!(inbox_expiry(&p.alice, &a_study).await, a_expiry);
    assert_eq!(
        p.bea.get(&format!("/api/v1/media/{photo}")).await.1["expires_at"],
        photo_expiry
    );

    // A day later the sweep destroys nothing: it hides them in the group.
    let out = sweep_at(&storage, 86_400 + 60);
    assert!(
        out.contains("0 media expired") && out.contains("0 studies expired"),
        "{out}"
    );
    let in_group = format!("?conversation={shared}");
    let in_b_only = format!("?conversation={b_only}");
    let media = format!("/api/v1/media/{photo}");
    for path in [media.clone(), format!("{media}{in_group}")] {
        assert_eq!(
            status_code(&p.alice, &path).await,
            gone("media_expired"),
            "{path}"
        );
    }
    assert_eq!(
        status_code(&p.alice, &format!("/api/v1/studies/{b_study}/card")).await,
        gone("study_expired"),
        "B's study is gone from A's group"
    );
    assert_eq!(
        status_code(&p.bea, &format!("{media}{in_group}")).await,
        gone("media_expired"),
        "hidden in the group for its uploader too"
    );
    // B keeps its own: its inbox, its photo in its own conversation.
    for path in [
        media.clone(),
        format!("{media}{in_b_only}"),
        format!("{media}/thumbnail{in_b_only}"),
        format!("/api/v1/studies/{b_study}/card"),
        format!("/api/v1/studies/{b_study}"),
    ] {
        assert_eq!(status_code(&p.ben, &path).await.0, StatusCode::OK, "{path}");
    }
    assert_eq!(
        status_code(&p.bea, &format!("{media}{in_b_only}")).await,
        ok()
    );
    // Within A, a group admin does not override the organization's policy for its inbox.
    assert_eq!(
        status_code(&p.alice, &format!("/api/v1/studies/{a_study}/card")).await,
        ok()
    );
    let (_, inbox) = p.alice.get("/api/v1/studies").await;
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == a_study && s["expired"] == false),
        "{inbox}"
    );

    // The organization's own retention (three days) still destroys them everywhere.
    let out = sweep_at(&storage, 3 * 86_400 + 60);
    assert!(
        out.contains("1 media expired") && out.contains("2 studies expired"),
        "{out}"
    );
    assert_eq!(
        status_code(&p.ben, &format!("{media}{in_b_only}")).await,
        gone("media_expired")
    );
    assert_eq!(
        status_code(&p.ben, &format!("/api/v1/studies/{b_study}/card")).await,
        gone("study_expired")
    );
    drop(p.server);
}

async fn another_hospitals_photos_close_with_the_agreement(storage: Storage) {
    let p = partners(&storage).await;
    let b_photo = photo_of(&p.bea).await;
    let a_photo = photo_of(&p.alice).await;
    let shared = group(&p.alice, &[&p.bea_id]).await;
    share(&p.bea, &shared, "b-1", &[("media", &b_photo)]).await;
    share(&p.alice, &shared, "a-1", &[("media", &a_photo)]).await;
    let b_media = format!("/api/v1/media/{b_photo}");
    for path in [
        b_media.clone(),
        format!("{b_media}/thumbnail"),
        format!("{b_media}/content"),
    ] {
        assert_eq!(
            status_code(&p.alice, &path).await.0,
            StatusCode::OK,
            "{path}"
        );
    }

    let (status, body) = p
        .a_admin
        .post(
            &format!("/api/v1/agreements/{}/revoke", p.agreement),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // B's photo stays in A's conversation, but A cannot open it, like B's studies.
    for path in [
        b_media.clone(),
        format!("{b_media}?conversation={shared}"),
        format!("{b_media}/thumbnail"),
        format!("{b_media}/content"),
    ] {
        assert_eq!(
            status_code(&p.alice, &path).await,
            (StatusCode::NOT_FOUND, Some("media_not_found".to_owned())),
            "{path}"
        );
    }
    // A's own photo in its own conversation, and B's photo for its uploader, are untouched.
    assert_eq!(
        status_code(&p.alice, &format!("/api/v1/media/{a_photo}")).await,
        ok()
    );
    assert_eq!(status_code(&p.bea, &b_media).await, ok());

    // A new agreement in force opens it again: nothing was destroyed.
    let b_org = p.bea.org_id().await;
    agree(&p.a_admin, &p.b_admin, &b_org, &["messaging"]).await;
    assert_eq!(status_code(&p.alice, &b_media).await, ok());
}

async fn the_owning_hospital_sees_views_of_its_study_elsewhere(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let p = partners(&storage).await;
    let (study, uid) = study_of(&p.bea, &dir).await;
    let shared = group(&p.alice, &[&p.bea_id]).await;
    share(&p.bea, &shared, "b-1", &[("study", &study)]).await;
    assert_eq!(
        status_code(&p.alice, &format!("/api/v1/studies/{study}")).await,
        ok()
    );
    let (status, _, _) =
        common::dicom::get_bytes(&p.alice, &format!("/dicomweb/studies/{uid}/series")).await;
    assert_eq!(status, StatusCode::OK);
    // B's own user viewing it is written once, in B's log.
    assert_eq!(
        status_code(&p.ben, &format!("/api/v1/studies/{study}")).await,
        ok()
    );

    let alice_id = p.alice.get("/api/v1/me").await.1["user"]["id"].clone();
    let owner = views(&p.b_admin, &study).await;
    let by_alice: Vec<&Value> = owner.iter().filter(|v| v["actor_id"] == alice_id).collect();
    assert_eq!(
        by_alice.len(),
        2,
        "both views, in the owner's log: {owner:?}"
    );
    for view in &by_alice {
        assert_eq!(view["details"]["viewer_org_id"], json!(p.a_org), "{view}");
    }
    assert!(
        by_alice
            .iter()
            .any(|v| v["details"]["service"] == "qido_series"),
        "{owner:?}"
    );
    assert_eq!(
        owner.iter().filter(|v| v["actor_id"] == p.ben_id).count(),
        1,
        "{owner:?}"
    );
    // The viewer's organization keeps its own entries.
    let viewer = views(&p.a_admin, &study).await;
    assert_eq!(
        viewer.iter().filter(|v| v["actor_id"] == alice_id).count(),
        2,
        "{viewer:?}"
    );
    let (_, verified) = p.a_admin.get("/api/v1/audit/verify").await;
    assert_eq!(verified["intact"], true, "{verified}");
}

/// The `study.view` entries of a study that `api`'s audit log shows.
async fn views(api: &Api, study: &str) -> Vec<Value> {
    let path = format!("/api/v1/audit?action=study.view&target_id={study}&limit=50");
    let (status, page) = api.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page.as_array().unwrap().clone()
}
