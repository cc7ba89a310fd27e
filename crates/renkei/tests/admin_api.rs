//! Organizations, departments and users through the API: every field editable, versions
//! enforced, permissions checked, bad input refused without changing anything.

mod common;

use common::{Server, Storage, active_user, active_user_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    an_admin_edits_every_user_field_and_reads_it_back,
    concurrent_edits_get_exactly_one_conflict_with_both_versions,
    members_read_their_organization_only_and_cannot_administer,
    bad_input_gets_clear_errors_and_changes_nothing,
    organizations_and_departments_are_managed_with_versions,
    audit_log_verifies_and_reports_a_tampered_row,
    health_readiness_metrics_and_openapi,
    an_org_admin_verifies_the_chain_but_counts_only_their_entries,
    names_titles_and_bodies_lose_bidi_overrides,
    a_dicom_peers_addresses_are_replaced_and_audited,
);

async fn an_admin_edits_every_user_field_and_reads_it_back(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (_, dept) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "Cardiovascular Surgery"}),
        )
        .await;
    let user = admin
        .create_user(&org, "tanaka", "one-time password", json!({}))
        .await;
    let id = user["id"].as_str().unwrap();
    let edit = json!({
        "login": "tanaka.ichiro",
        "display_name": "田中 一郎",
        "kana": "タナカ イチロウ",
        "profession": "doctor",
        "department_id": dept["id"],
        "email": "tanaka@oita-u.example",
        "phone": "+81 97-549-4411",
        "roles": ["org_admin"],
        "status": "suspended",
    });
    let (status, saved) = admin
        .patch(&format!("/api/v1/users/{id}"), edit.clone(), Some(1))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, read) = admin.get(&format!("/api/v1/users/{id}")).await;
    for (field, value) in edit.as_object().unwrap() {
        assert_eq!(&read[field], value, "field {field}");
    }
    assert_eq!(read["romaji"], "tanaka ichirou", "romaji follows the kana");
    assert_eq!(read["version"], 2);
    let (status, saved) = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            json!({"romaji": "tanaka itiro", "email": null}),
            Some(2),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        (saved["romaji"].as_str(), &saved["email"]),
        (Some("tanaka itiro"), &Value::Null)
    );
    // The audit entry records before and after of exactly the changed fields.
    let (_, audit) = admin
        .get(&format!("/api/v1/audit?target_id={id}&action=user.status"))
        .await;
    let changes = &audit[0]["details"]["changes"];
    assert_eq!(
        changes["login"],
        json!({"before": "tanaka", "after": "tanaka.ichiro"})
    );
    assert!(changes.get("kana").is_some() && changes.get("version").is_none());
}

async fn concurrent_edits_get_exactly_one_conflict_with_both_versions(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let user = admin
        .create_user(&org, "tanaka", "one-time password", json!({}))
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let second_admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let (a, b) = tokio::join!(
        admin.patch(&path, json!({"phone": "111"}), Some(1)),
        second_admin.patch(&path, json!({"email": "b@x.example"}), Some(1)),
    );
    let mut results = [a, b];
    results.sort_by_key(|(status, _)| *status);
    let [(ok, saved), (conflict, refused)] = results;
    assert_eq!(
        (ok, conflict),
        (StatusCode::OK, StatusCode::CONFLICT),
        "{saved} {refused}"
    );
    assert_eq!(refused["code"], "version_conflict");
    assert_eq!(
        refused["current"], saved,
        "the loser sees the winner's version"
    );
    let (_, now) = admin.get(&path).await;
    assert_eq!(now, saved, "the refused edit changed nothing");
    // Without a version, an edit is refused rather than applied blindly.
    let (status, body) = admin.patch(&path, json!({"phone": "222"}), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PRECONDITION_REQUIRED, Some("version_required"))
    );
    // The body's version works as well as If-Match.
    let (status, _) = admin
        .patch(&path, json!({"phone": "222", "version": 2}), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn members_read_their_organization_only_and_cannot_administer(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let home = admin.org_id().await;
    let (status, other) = admin
        .post("/api/v1/orgs", json!({"name": "Beppu Medical Center"}))
        .await;
    assert_eq!(
        (status, other["slug"].as_str()),
        (StatusCode::CREATED, Some("beppu-medical-center"))
    );
    let other_id = other["id"].as_str().unwrap();
    let outsider = admin
        .create_user(other_id, "beppu.nurse", "one-time password", json!({}))
        .await;
    let (member, _) = active_user(&server, &admin, &home, "tanaka").await;
    let (status, users) = member.get(&format!("/api/v1/orgs/{home}/users")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 2);
    for path in [
        format!("/api/v1/orgs/{other_id}"),
        format!("/api/v1/orgs/{other_id}/users"),
        format!("/api/v1/users/{}", outsider["id"].as_str().unwrap()),
    ] {
        let (status, _) = member.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = member.post(&format!("/api/v1/orgs/{home}/users"), json!({"login": "x1", "display_name": "X", "profession": "nurse", "password": "0123456789ab"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = member
        .post("/api/v1/orgs", json!({"name": "Rogue Hospital"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = member.get("/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An organization admin cannot grant server administration.
    let (org_admin, record) = active_user(&server, &admin, &home, "sato").await;
    admin
        .patch(
            &format!("/api/v1/users/{}", record["id"].as_str().unwrap()),
            json!({"roles": ["org_admin"]}),
            Some(1),
        )
        .await;
    let (status, _) = org_admin.post(&format!("/api/v1/orgs/{home}/users"), json!({"login": "x2", "display_name": "X", "profession": "nurse", "password": "0123456789ab", "roles": ["server_admin"]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn bad_input_gets_clear_errors_and_changes_nothing(storage: Storage) {
    let server = Server::start(&storage, &[("RENKEI_MAX_BODY_BYTES", "4096")]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let users_path = format!("/api/v1/orgs/{org}/users");
    let (_, before) = admin.get(&users_path).await;
    let post = Method::POST;
    let cases: Vec<(Vec<u8>, &str, StatusCode, &str)> = vec![
        (b"{not json".to_vec(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        (br#"{"login": 5}"#.to_vec(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        (br#"{"login":"a1","display_name":"A","profession":"nurse","password":"0123456789ab","is_root":true}"#.to_vec(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        (br#"{"login":"a1","display_name":"A","profession":"surgeon-king","password":"0123456789ab"}"#.to_vec(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        (b"{\"login\":\"a1\",\"display_name\":\"\xff\xfe\",\"profession\":\"nurse\",\"password\":\"0123456789ab\"}".to_vec(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        (br#"login=a1"#.to_vec(), "application/x-www-form-urlencoded", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (format!(r#"{{"login":"a1","display_name":"{}","profession":"nurse","password":"0123456789ab"}}"#, "x".repeat(5000)).into_bytes(), "application/json", StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (br#"{"login":"a1","display_name":"   ","profession":"nurse","password":"0123456789ab"}"#.to_vec(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
        (format!(r#"{{"login":"a1","display_name":"{}","profession":"nurse","password":"0123456789ab"}}"#, "長".repeat(201)).into_bytes(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "value_too_long"),
        (br#"{"login":"a b","display_name":"A","profession":"nurse","password":"0123456789ab"}"#.to_vec(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "invalid_login"),
        (br#"{"login":"a1","display_name":"A","profession":"nurse","password":"short"}"#.to_vec(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
        (br#"{"login":"admin","display_name":"A","profession":"nurse","password":"0123456789ab"}"#.to_vec(), "application/json", StatusCode::CONFLICT, "login_taken"),
        (br#"{"login":"a1","display_name":"A","profession":"nurse","password":"0123456789ab","department_id":"01234567-89ab-7def-8123-456789abcdef"}"#.to_vec(), "application/json", StatusCode::UNPROCESSABLE_ENTITY, "department_not_found"),
    ];
    for (body, content_type, status, code) in cases {
        let (got, err) = admin
            .raw(post.clone(), &users_path, content_type, body.clone())
            .await;
        assert_eq!(
            (got, err["code"].as_str()),
            (status, Some(code)),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            !err.to_string().contains("0123456789ab"),
            "the password is never echoed: {err}"
        );
    }
    let (_, after) = admin.get(&users_path).await;
    assert_eq!(before, after, "no refused request created anything");
    // Quotes and SQL meta-characters are stored literally.
    let tricky = "O'Brien\"); DROP TABLE users; --";
    let user = admin
        .create_user(
            &org,
            "obrien",
            "one-time password",
            json!({"display_name": tricky}),
        )
        .await;
    let (_, read) = admin
        .get(&format!("/api/v1/users/{}", user["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["display_name"], tricky);
    // Unknown ids and routes are clear 404s.
    let (status, body) = admin.get("/api/v1/users/not-a-uuid").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = admin.get("/api/v1/nothing-here").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("route_not_found"))
    );
    // An invalid lifecycle move is refused.
    let (status, body) = admin
        .patch(
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
            json!({"status": "pending"}),
            Some(1),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_status_transition")
        )
    );
}

async fn organizations_and_departments_are_managed_with_versions(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let path = format!("/api/v1/orgs/{org}");
    admin
        .put("/api/v1/me/passcode", json!({"passcode": "8642"}))
        .await;
    let policy = json!({"retention_days": 7, "patient_id_digits": 3, "idle_lock_minutes": 5, "passcode_required": true, "second_factor_required": false, "max_upload_mb": 200, "allowed_file_kinds": {"photo": true, "video": true, "pdf": true, "file": true}, "push_preview": "sender", "urgent_realert_seconds": 60, "urgent_realert_max": 5, "urgent_escalate_after_seconds": 600, "message_retention_days": null});
    let (status, saved) = admin
        .patch(
            &path,
            json!({"name": "Oita University Hospital", "slug": "oita-u", "policy": policy}),
            Some(1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        (
            saved["slug"].as_str(),
            &saved["policy"],
            saved["version"].as_i64()
        ),
        (Some("oita-u"), &policy, Some(2))
    );
    let (status, body) = admin.patch(&path, json!({"policy": {"retention_days": 99, "patient_id_digits": 3, "idle_lock_minutes": 5, "passcode_required": true, "second_factor_required": false}}), Some(2)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_policy"))
    );
    let (status, body) = admin.patch(&path, json!({"name": "Stale"}), Some(1)).await;
    assert_eq!(
        (status, body["current"]["name"].as_str()),
        (StatusCode::CONFLICT, Some("Oita University Hospital"))
    );
    // passcode_required: a member without a passcode sees no data until they set one.
    let (member, _) = active_user(&server, &admin, &org, "tanaka").await;
    let (status, body) = member.get("/api/v1/orgs").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("passcode_required"))
    );
    member
        .put("/api/v1/me/passcode", json!({"passcode": "13579"}))
        .await;
    let (status, _) = member.get("/api/v1/orgs").await;
    assert_eq!(status, StatusCode::OK);
    // Departments: unique names per organization, renamed with versions.
    let depts = format!("{path}/departments");
    let (status, dept) = admin.post(&depts, json!({"name": "救急科"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = admin.post(&depts, json!({"name": "救急科"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("department_exists"))
    );
    let dept_path = format!("/api/v1/departments/{}", dept["id"].as_str().unwrap());
    let (status, renamed) = admin
        .patch(
            &dept_path,
            json!({"name": "救命救急センター", "version": 1}),
            None,
        )
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("救命救急センター"))
    );
    let (status, _) = admin
        .patch(&dept_path, json!({"name": "Old", "version": 1}), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn audit_log_verifies_and_reports_a_tampered_row(storage: Storage) {
    use sqlx::Connection;
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    admin
        .create_user(&org, "tanaka", "one-time password", json!({}))
        .await;
    let (status, report) = admin.get("/api/v1/audit/verify").await;
    assert_eq!(
        (status, report["intact"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{report}"
    );
    let (_, page) = admin.get("/api/v1/audit?limit=2").await;
    let last = page[1]["seq"].as_i64().unwrap();
    let (_, older) = admin
        .get(&format!("/api/v1/audit?limit=100&before_seq={last}"))
        .await;
    assert!(
        older
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["seq"].as_i64().unwrap() < last)
    );
    let ok = storage.admin(&["verify-audit"], "");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Someone with database access rewrites history.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&storage.raw_url())
        .await
        .unwrap();
    sqlx::raw_sql("UPDATE audit_log SET action = 'auth.logout' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (_, report) = admin.get("/api/v1/audit/verify").await;
    assert_eq!(
        (report["intact"].as_bool(), report["broken_at"].as_i64()),
        (Some(false), Some(2)),
        "{report}"
    );
    let broken = storage.admin(&["verify-audit"], "");
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken at entry 2"));
}

async fn health_readiness_metrics_and_openapi(storage: Storage) {
    let server = Server::start(
        &storage,
        &[
            ("RENKEI_METRICS_TOKEN", "metrics-secret-123"),
            ("RENKEI_METRICS_LISTEN", "127.0.0.1:0"),
        ],
    );
    let anon = server.client();
    assert_eq!(anon.get("/healthz").await.0, StatusCode::OK);
    assert_eq!(
        anon.get("/readyz").await,
        (StatusCode::OK, json!({"status": "ready"}))
    );
    let (_, spec) = anon.get("/api/openapi.json").await;
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/unlock",
        "/api/v1/me/passcode",
        "/api/v1/users/{id}",
        "/api/v1/audit",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the spec"
        );
    }
    // The main listener serves metrics only with the token.
    let (status, body) = anon.get("/metrics").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "metrics_token_required");
    let wrong = anon
        .http
        .get(anon.url("/metrics"))
        .bearer_auth("metrics-secret-124")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let with_token = anon
        .http
        .get(anon.url("/metrics"))
        .bearer_auth("metrics-secret-123")
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    let metrics = with_token.text().await.unwrap();
    let readyz = "renkei_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}";
    assert!(metrics.contains(readyz), "{metrics}");
    // The separate metrics listener serves them without one.
    let metrics_base = server
        .stdout
        .lock()
        .unwrap()
        .iter()
        .find_map(|l| {
            l.strip_prefix("renkei metrics listening on ")
                .map(str::to_owned)
        })
        .expect("the metrics listener's address is printed");
    let open = reqwest::get(format!("{metrics_base}/metrics"))
        .await
        .unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    assert!(open.text().await.unwrap().contains(readyz));
    let resp = anon.http.get(anon.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    server.stop();

    // Without a token or a listener of their own, metrics are not served at all.
    let plain = Server::start(&storage, &[]);
    let (status, body) = plain.client().get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// `/audit/verify` tells a hospital's administrator whether the chain holds and how many
/// entries are theirs, never the server-wide count.
async fn an_org_admin_verifies_the_chain_but_counts_only_their_entries(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let root_org = root.org_id().await;
    for login in ["a1", "a2", "a3"] {
        root.create_user(&root_org, login, "one-time password", json!({}))
            .await;
    }
    let (status, beppu) = root
        .post(
            "/api/v1/orgs",
            json!({"name": "Beppu Clinic", "slug": "beppu", "kind": "hospital"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{beppu}");
    let beppu = beppu["id"].as_str().unwrap().to_owned();
    let extra = json!({"roles": ["org_admin"], "profession": "clerk"});
    let (beppu_admin, _) = active_user_with(&server, &root, &beppu, "beppu-admin", extra).await;

    let (_, everything) = root.get("/api/v1/audit/verify").await;
    assert_eq!(everything["intact"], true, "{everything}");
    assert_eq!(everything["scope"], "server");
    let (status, theirs) = beppu_admin.get("/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert_eq!(theirs["intact"], true, "{theirs}");
    assert_eq!(theirs["scope"], "organization");
    let (_, own_entries) = beppu_admin.get("/api/v1/audit?limit=1000").await;
    let own = own_entries.as_array().unwrap().len() as i64;
    assert!(own > 0);
    assert_eq!(theirs["entries"].as_i64(), Some(own), "{theirs}");
    assert!(
        everything["entries"].as_i64().unwrap() > own,
        "the server-wide count ({everything}) is more than the hospital's ({theirs})"
    );
}

/// A right-to-left override or a zero-width character in a name, a department, a group title
/// or a message cannot disguise what the text says: it comes back without them.
async fn names_titles_and_bodies_lose_bidi_overrides(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (status, dept) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "放射線\u{202E}科\u{200B}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dept}");
    assert_eq!(dept["name"], "放射線科");
    let extra =
        json!({"display_name": "田中\u{202E}一郎", "kana": "たなか\u{2066}いちろう\u{2069}"});
    let (tanaka, user) = active_user_with(&server, &admin, &org, "tanaka", extra).await;
    assert_eq!(user["display_name"], "田中一郎");
    assert_eq!(user["kana"], "たなかいちろう");

    let (status, conv) = tanaka
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "申し送り\u{202E}txt.exe", "member_ids": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    assert_eq!(conv["title"], "申し送りtxt.exe");
    let conv = conv["id"].as_str().unwrap();
    let messages = format!("/api/v1/conversations/{conv}/messages");
    let (status, ack) = tanaka
        .post(
            &messages,
            json!({"client_msg_id": "m1", "body": "所見は\u{202E}txt.exe\u{200B}です 👩\u{200D}⚕\u{FE0F}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    let (_, history) = tanaka.get(&messages).await;
    assert_eq!(
        history[0]["body"], "所見はtxt.exeです 👩\u{200D}⚕\u{FE0F}",
        "overrides go, an emoji sequence stays"
    );
    let seq = history[0]["seq"].as_i64().unwrap();
    let (status, edited) = tanaka
        .patch(
            &format!("{messages}/{seq}"),
            json!({"body": "訂正\u{2067}です"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["body"], "訂正です");
}

/// The admin console edits the addresses a DICOM peer may call from: at least one, each a
/// valid address or range, before and after in the audit log.
async fn a_dicom_peers_addresses_are_replaced_and_audited(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let peers = format!("/api/v1/orgs/{org}/dicom-peers");
    let (status, peer) = admin
        .post(&peers, json!({"ae_title": "CT01", "allow": ["10.1.2.3"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{peer}");
    // A peer admitted from anywhere must be asked for, and is audited as such.
    for body in [
        json!({"ae_title": "US02"}),
        json!({"ae_title": "US02", "allow": []}),
        json!({"ae_title": "US02", "allow": [" "]}),
    ] {
        let (status, refused) = admin.post(&peers, body).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("allow_required")),
            "{refused}"
        );
    }
    let (status, anywhere) = admin
        .post(
            &peers,
            json!({"ae_title": "US02", "allow_any_address": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{anywhere}");
    let (_, added) = admin.get("/api/v1/audit?action=dicom_peer.add").await;
    assert!(
        added
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["details"]["ae_title"] == "US02" && e["details"]["any_address"] == true),
        "{added}"
    );
    let (status, _) = admin.delete(&format!("{peers}/US02")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ct01 = format!("{peers}/CT01");
    let (status, updated) = admin
        .put(&ct01, json!({"allow": ["10.1.2.3", "10.1.3.0/24"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let both = json!(["10.1.2.3/32", "10.1.3.0/24"]);
    assert_eq!(updated["allow"], both);
    let (_, listed) = admin.get(&peers).await;
    assert_eq!(listed[0]["allow"], both);
    let (_, entries) = admin.get("/api/v1/audit?action=dicom_peer.update").await;
    assert_eq!(
        entries[0]["details"]["changes"]["allow"],
        json!({"before": ["10.1.2.3/32"], "after": both}),
        "{entries}"
    );

    for (body, code) in [
        (json!({"allow": []}), "allow_required"),
        (json!({"allow": ["  "]}), "allow_required"),
        (
            json!({"allow": ["not an address"]}),
            "invalid_address_range",
        ),
    ] {
        let (status, refused) = admin.put(&ct01, body).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{refused}"
        );
    }
    let (status, _) = admin
        .put(&format!("{peers}/MR09"), json!({"allow": ["10.1.2.3"]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = admin.get(&peers).await;
    assert_eq!(listed[0]["allow"], both, "refusals change nothing");
    let (member, _) = active_user(&server, &admin, &org, "sato").await;
    let (status, _) = member.put(&ct01, json!({"allow": ["10.9.9.9"]})).await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{status}"
    );
}
