//! Organization administration through the API: every user field, resets that end sessions,
//! applications through the invite link, CSV import (dry run, all or nothing) and export,
//! the audit log as CSV, seats and usage statistics, the file-type policy.

mod common;

use common::{Api, Server, Storage, USER_PASSWORD, active_user, csv_rows, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    every_user_field_is_saved_and_a_concurrent_edit_shows_both_versions,
    resets_and_retirement_end_sessions_at_once_and_free_the_seat,
    applicants_sign_up_through_the_invite_link_and_wait_for_approval,
    csv_import_lists_every_error_then_applies_all_rows_or_none,
    csv_export_opens_in_excel_and_imports_back_unchanged,
    audit_log_exports_as_csv_with_the_list_filters,
    usage_statistics_count_what_is_created,
    the_file_type_policy_refuses_uploads_of_other_kinds,
    the_command_line_imports_and_exports_the_same_csv,
    invite_links_expire_and_can_be_revoked,
);

/// A GET answered with raw bytes: status, content type, body.
async fn bytes(api: &Api, path: &str) -> (StatusCode, String, Vec<u8>) {
    let resp = api
        .http
        .get(api.url(path))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

async fn import(api: &Api, org: &str, csv: &[u8], dry_run: bool) -> (StatusCode, Value) {
    let path = format!("/api/v1/orgs/{org}/users/import?dry_run={dry_run}");
    api.raw(Method::POST, &path, "text/csv", csv.to_vec()).await
}

async fn users(api: &Api, org: &str) -> Vec<Value> {
    let (_, list) = api
        .get(&format!("/api/v1/orgs/{org}/users?limit=500"))
        .await;
    list.as_array().unwrap().clone()
}

fn by_login<'a>(list: &'a [Value], login: &str) -> &'a Value {
    list.iter()
        .find(|u| u["login"] == login)
        .unwrap_or_else(|| panic!("no user {login}"))
}

async fn every_user_field_is_saved_and_a_concurrent_edit_shows_both_versions(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (_, partner) = admin
        .post("/api/v1/orgs", json!({"name": "Beppu Medical Center"}))
        .await;
    let (_, dept) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "救急科"}),
        )
        .await;
    let user = admin
        .create_user(&org, "tanaka", "one-time password", json!({}))
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let edit = json!({
        "login": "tanaka.ichiro",
        "display_name": "田中 一郎",
        "kana": "たなか いちろう",
        "romaji": "tanaka ichiro",
        "profession": "radiology_technologist",
        "department_id": dept["id"],
        "email": "tanaka@oita-u.example",
        "phone": "+81 97-549-4411",
        "roles": ["org_admin"],
        "status": "suspended",
        "staff_number": "E-10234",
        "affiliations": [{"org_id": partner["id"], "department": "放射線科", "title": "非常勤"}],
        "second_factor_required": true,
    });
    let (status, saved) = admin.patch(&path, edit.clone(), Some(1)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, read) = admin.get(&path).await;
    for (field, value) in edit.as_object().unwrap() {
        assert_eq!(&read[field], value, "field {field} read back");
    }
    // Clearing optional fields works too.
    let (status, cleared) = admin
        .patch(
            &path,
            json!({"staff_number": null, "affiliations": [], "second_factor_required": false}),
            Some(2),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(
        (
            &cleared["staff_number"],
            &cleared["affiliations"],
            &cleared["second_factor_required"]
        ),
        (&Value::Null, &json!([]), &json!(false))
    );
    // Bad values are refused whole: nothing of the edit is saved.
    for (bad, code) in [
        (
            json!({"staff_number": "番号", "phone": "111"}),
            "invalid_staff_number",
        ),
        (
            json!({"affiliations": [{"org_id": org}]}),
            "invalid_affiliation",
        ),
        (
            json!({"affiliations": [{"org_id": "01234567-89ab-7def-8123-456789abcdef"}]}),
            "organization_not_found",
        ),
    ] {
        let (status, body) = admin.patch(&path, bad.clone(), Some(3)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{bad}"
        );
    }
    let (_, unchanged) = admin.get(&path).await;
    assert_eq!(unchanged, cleared);
    // Two admins edit the same version: one saves, the other sees both versions.
    let other_admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let mine = json!({"display_name": "田中 一朗"});
    let (a, b) = tokio::join!(
        admin.patch(&path, json!({"email": "first@oita-u.example"}), Some(3)),
        other_admin.patch(&path, mine.clone(), Some(3)),
    );
    let mut results = [a, b];
    results.sort_by_key(|(status, _)| *status);
    let [(ok, winner), (conflict, refused)] = results;
    assert_eq!((ok, conflict), (StatusCode::OK, StatusCode::CONFLICT));
    assert_eq!(refused["code"], "version_conflict");
    assert_eq!(
        refused["current"], winner,
        "the loser is shown the saved version"
    );
    let (_, now) = admin.get(&path).await;
    assert_eq!(now, winner, "the refused edit changed nothing");
}

async fn resets_and_retirement_end_sessions_at_once_and_free_the_seat(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (member, record) = active_user(&server, &admin, &org, "tanaka").await;
    let id = record["id"].as_str().unwrap();
    let seats = format!("/api/v1/orgs/{org}/seats");
    let (status, before) = admin.get(&seats).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["today"]["active"], 2, "{before}");
    assert_eq!(before["today"]["by_profession"]["nurse"], 1);

    // Password reset: a one-time password, shown once; the old sessions end.
    let (status, reset) = admin
        .post(&format!("/api/v1/users/{id}/password-reset"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert_eq!(member.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let one_time = reset["one_time_password"].as_str().unwrap();
    let again = server.login("tanaka", one_time).await;
    let (_, me) = again.get("/api/v1/me").await;
    assert_eq!(me["user"]["must_change_password"], true);
    let (status, _) = again
        .put(
            "/api/v1/me/password",
            json!({"current_password": one_time, "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Passcode reset: cleared, sessions end, the user signs in without one.
    again
        .put("/api/v1/me/passcode", json!({"passcode": "2468"}))
        .await;
    let (status, _) = admin
        .raw(
            Method::DELETE,
            &format!("/api/v1/users/{id}/passcode"),
            "application/json",
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(again.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let third = server.login("tanaka", USER_PASSWORD).await;
    let (_, me) = third.get("/api/v1/me").await;
    assert_eq!(me["has_passcode"], false, "{me}");

    // A member cannot reset anyone.
    let (status, _) = third
        .post(&format!("/api/v1/users/{id}/password-reset"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Retiring ends the session and frees the seat at once.
    let (_, current) = admin.get(&format!("/api/v1/users/{id}")).await;
    let (status, _) = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            json!({"status": "retired"}),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(third.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, after) = admin.get(&seats).await;
    assert_eq!(after["today"]["active"], 1, "{after}");
    assert_eq!(after["today"]["peak"], 2, "the day's peak is kept");
    assert!(after["today"]["by_profession"].get("nurse").is_none());
    let days = after["days"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["active"], 1);
    let (status, body) = admin.get(&format!("{seats}?from=2026-02-30")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_range"))
    );
}

async fn applicants_sign_up_through_the_invite_link_and_wait_for_approval(storage: Storage) {
    let server = Server::start(&storage, &[("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "20")]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (_, dept) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "リハビリテーション科"}),
        )
        .await;
    let invite = format!("/api/v1/orgs/{org}/invite");
    let (status, none) = admin.get(&invite).await;
    assert_eq!((status, &none["token"]), (StatusCode::OK, &Value::Null));
    let (status, link) = admin.post(&invite, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let token = link["token"].as_str().unwrap().to_owned();
    assert_eq!(link["path"], format!("/signup/{token}"));
    assert_eq!(admin.get(&invite).await.1["token"], token.as_str());

    let anon = server.client();
    let (status, form) = anon.get(&format!("/api/v1/signup/{token}")).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert_eq!(form["departments"][0]["name"], "リハビリテーション科");
    assert!(form["professions"].as_array().unwrap().len() >= 12);
    for bad in ["not-a-token", &"A".repeat(43)] {
        let (status, body) = anon.get(&format!("/api/v1/signup/{bad}")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("invite_not_found"))
        );
    }
    let application = json!({
        "login": "suzuki.pt", "display_name": "鈴木 花子", "kana": "すずき はなこ",
        "profession": "physical_therapist", "department_id": dept["id"],
        "email": "suzuki@oita-u.example", "password": "my own password 1",
    });
    let signup = format!("/api/v1/signup/{token}");
    let (status, body) = anon.post(&signup, application.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"status": "pending"}),
        "nothing else is revealed"
    );
    // Bad applications are refused and store nothing.
    for (bad, status, code) in [
        (
            json!({"password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
        ),
        (
            json!({"login": "x y"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_login",
        ),
        (
            json!({"roles": ["org_admin"]}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ] {
        let mut body = application.clone();
        body.as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let (got, err) = anon.post(&signup, body).await;
        assert_eq!((got, err["code"].as_str()), (status, Some(code)), "{bad}");
    }
    // A taken login gets the answer any application gets (sign-up tells no one which logins
    // exist); nothing is stored, and the administrators see the attempt in the audit log.
    let (status, body) = anon.post(&signup, application.clone()).await;
    assert_eq!(
        (status, body),
        (StatusCode::CREATED, json!({"status": "pending"}))
    );
    // Not approved yet: no way in.
    let (status, body) = anon
        .post(
            "/api/v1/auth/login",
            json!({"login": "suzuki.pt", "password": "my own password 1"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("account_pending"))
    );
    let (_, queue) = admin.get(&format!("/api/v1/orgs/{org}/applications")).await;
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (&queue[0]["display_name"], &queue[0]["department_id"]),
        (&json!("鈴木 花子"), &dept["id"])
    );
    let id = queue[0]["id"].as_str().unwrap();
    let (status, approved) = admin
        .post(&format!("/api/v1/users/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        (status, approved["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );
    let suzuki = server.login("suzuki.pt", "my own password 1").await;
    let (_, me) = suzuki.get("/api/v1/me").await;
    assert_eq!(
        me["user"]["must_change_password"], false,
        "their own password"
    );
    let (status, body) = admin
        .post(&format!("/api/v1/users/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_pending"))
    );
    // A rejected applicant never gets in.
    let mut second = application.clone();
    second["login"] = json!("fake.doctor");
    anon.post(&signup, second).await;
    let (_, queue) = admin.get(&format!("/api/v1/orgs/{org}/applications")).await;
    let id = queue[0]["id"].as_str().unwrap();
    let (status, rejected) = admin
        .post(&format!("/api/v1/users/{id}/reject"), json!({}))
        .await;
    assert_eq!(
        (status, rejected["status"].as_str()),
        (StatusCode::OK, Some("retired"))
    );
    let (status, _) = anon
        .post(
            "/api/v1/auth/login",
            json!({"login": "fake.doctor", "password": "my own password 1"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Rotating the link retires the old one at once.
    let (_, rotated) = admin.post(&invite, json!({})).await;
    assert_ne!(rotated["token"], token.as_str());
    assert_eq!(anon.get(&signup).await.0, StatusCode::NOT_FOUND);
    // The public endpoint is rate-limited per address.
    let mut last = StatusCode::OK;
    for _ in 0..20 {
        last = anon.get(&signup).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

const HEADER: &str =
    "login,staff_number,display_name,kana,profession,department,email,phone,roles,status\n";

async fn csv_import_lists_every_error_then_applies_all_rows_or_none(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "救急科"}),
        )
        .await;
    let (_, other) = admin
        .post("/api/v1/orgs", json!({"name": "Beppu Medical Center"}))
        .await;
    admin
        .create_user(
            other["id"].as_str().unwrap(),
            "beppu.nurse",
            "one-time password",
            json!({}),
        )
        .await;
    let before = users(&admin, &org).await;

    // A missing required column is reported on the header row.
    let (status, body) = import(&admin, &org, b"login,display_name\nsato,Sato\n", true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["errors"],
        json!([{"row": 1, "column": "profession", "code": "missing_column",
                "message": "the header must have a profession column"}])
    );
    // Every bad row and cell is listed, with its row number and column.
    let bad = format!(
        "{HEADER}\
         sato,E-1,佐藤 花子,さとう はなこ,nurse,救急科,sato@oita-u.example,0975,,active\n\
         kato,E-2,加藤,かとう,surgeon,救急科,not-an-email,,,active\n\
         ito,E-3,伊藤,いとう,doctor,眼科,,call me,root,\n\
         sato,E-4,佐藤 二郎,,doctor,,,,,\n\
         beppu.nurse,E-5,別府,,nurse,,,,,\n\
         abe,E-1,阿部,,clerk,,,,,sleeping\n\
         short,row\n"
    );
    let (status, body) = import(&admin, &org, bad.as_bytes(), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let found: Vec<(i64, String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(i64, String, String)> = [
        (3, "profession", "invalid_profession"),
        (3, "email", "invalid_email"),
        (4, "department", "department_not_found"),
        (4, "roles", "invalid_role"),
        (4, "phone", "invalid_phone"),
        (5, "login", "duplicate_row"),
        (6, "login", "login_taken"),
        (7, "status", "invalid_status"),
        (8, "", "column_count"),
    ]
    .iter()
    .map(|(r, c, k)| (*r, c.to_string(), k.to_string()))
    .collect();
    let mut sorted = found.clone();
    sorted.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(sorted, want, "{body}");
    // Parameters let the client say it in the user's language.
    let param = |code: &str, name: &str| {
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == code)
            .map(|e| e["params"][name].clone())
    };
    assert_eq!(param("duplicate_row", "first"), Some(json!(2)), "{body}");
    assert_eq!(param("department_not_found", "name"), Some(json!("眼科")));
    assert_eq!(param("column_count", "cells"), Some(json!(2)));
    // A real import of the same file is refused the same way.
    let (status, _) = import(&admin, &org, bad.as_bytes(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(users(&admin, &org).await, before, "nothing changed");

    // Fixed, the dry run says what would happen and still changes nothing.
    let good = format!(
        "{HEADER}\
         sato,E-1,佐藤 花子,さとう はなこ,nurse,救急科,sato@oita-u.example,0975-12-3456,,active\n\
         kato,E-2,加藤 健,かとう けん,doctor,救急科,,,org_admin,active\n\
         admin,,Administrator,,other,,,,org_admin;server_admin,active\n"
    );
    let (status, plan) = import(&admin, &org, good.as_bytes(), true).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let actions: Vec<&str> = plan["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "create", "unchanged"]);
    assert_eq!(
        users(&admin, &org).await,
        before,
        "a dry run changes nothing"
    );

    let (status, done) = import(&admin, &org, good.as_bytes(), false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let created = done["created"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    let sato_password = created.iter().find(|c| c["login"] == "sato").unwrap()["one_time_password"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = users(&admin, &org).await;
    let sato = by_login(&list, "sato");
    assert_eq!(
        (
            &sato["display_name"],
            &sato["staff_number"],
            &sato["phone"],
            &sato["romaji"]
        ),
        (
            &json!("佐藤 花子"),
            &json!("E-1"),
            &json!("0975-12-3456"),
            &json!("satou hanako")
        )
    );
    assert_eq!(by_login(&list, "kato")["roles"], json!(["org_admin"]));
    server.login("sato", &sato_password).await;

    // Re-importing the same file changes nothing (no new versions).
    let (status, again) = import(&admin, &org, good.as_bytes(), false).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(
        again["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "unchanged")
    );
    assert_eq!(users(&admin, &org).await, list);

    // Matched by staff number, a row renames the login; both encodings Japanese PCs write.
    let sjis_rows = "login,staff_number,display_name,department\r\nsato.hanako,E-1,佐藤 花子,\r\n";
    let sjis: Vec<u8> = encode_shift_jis(sjis_rows);
    assert!(std::str::from_utf8(&sjis).is_err(), "really Shift_JIS");
    let (status, plan) = import(&admin, &org, &sjis, true).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "profession is a required column: {plan}"
    );
    let sjis = encode_shift_jis(
        &sjis_rows
            .replace("department", "profession")
            .replace("花子,", "花子,nurse"),
    );
    let (status, done) = import(&admin, &org, &sjis, false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        (
            done["encoding"].as_str(),
            done["rows"][0]["action"].as_str()
        ),
        (Some("shift_jis"), Some("update"))
    );
    let list = users(&admin, &org).await;
    assert_eq!(by_login(&list, "sato.hanako")["staff_number"], "E-1");
    let bom = [
        b"\xEF\xBB\xBF".as_slice(),
        "login,display_name,profession\nkato,加藤 健一,doctor\n".as_bytes(),
    ]
    .concat();
    let (status, done) = import(&admin, &org, &bom, false).await;
    assert_eq!(
        (status, done["encoding"].as_str()),
        (StatusCode::OK, Some("utf-8-bom")),
        "{done}"
    );
    assert_eq!(
        by_login(&users(&admin, &org).await, "kato")["display_name"],
        "加藤 健一"
    );
    let (status, body) = import(&admin, &org, b"\xFF\xFEl\0o\0", true).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_encoding"))
    );

    // A row whose staff number and login point at two different users is refused.
    let before = users(&admin, &org).await;
    let swap = "login,staff_number,display_name,profession\nkato,E-1,佐藤 花子,nurse\n";
    let (status, body) = import(&admin, &org, swap.as_bytes(), false).await;
    assert_eq!(
        (
            status,
            body["errors"][0]["code"].as_str(),
            body["errors"][0]["row"].as_i64()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("conflicting_match"),
            Some(2)
        ),
        "{body}"
    );
    assert_eq!(users(&admin, &org).await, before);
}

/// Shift_JIS bytes of text made of ASCII and the few kanji/kana these tests use.
fn encode_shift_jis(text: &str) -> Vec<u8> {
    let table: &[(char, &[u8])] = &[
        ('佐', b"\x8d\xb2"),
        ('藤', b"\x93\xa1"),
        ('花', b"\x89\xd4"),
        ('子', b"\x8e\x71"),
        ('\u{3000}', b"\x81\x40"),
    ];
    let mut out = Vec::new();
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c as u8);
        } else {
            let (_, code) = table
                .iter()
                .find(|(k, _)| *k == c)
                .unwrap_or_else(|| panic!("{c} not in the table"));
            out.extend_from_slice(code);
        }
    }
    out
}

async fn csv_export_opens_in_excel_and_imports_back_unchanged(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    admin
        .create_user(
            &org,
            "mallory",
            "one-time password",
            json!({"display_name": "=HYPERLINK(\"http://evil.example\")", "phone": "+81 97-000-0000",
                   "kana": "@まろりー", "staff_number": "-77"}),
        )
        .await;
    admin
        .create_user(
            &org,
            "tanaka",
            "one-time password",
            json!({"display_name": "田中, \"一郎\""}),
        )
        .await;
    let (status, ct, body) = bytes(&admin, &format!("/api/v1/orgs/{org}/users/export")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(
        body.starts_with(b"\xEF\xBB\xBF"),
        "a BOM so Excel reads UTF-8"
    );
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.starts_with("login,staff_number,display_name,kana,romaji,profession,department,email,phone,roles,status,second_factor_required\r\n"));
    let mallory = text.lines().find(|l| l.starts_with("mallory")).unwrap();
    assert!(mallory.contains(",'-77,"), "{mallory}");
    assert!(
        mallory.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")\","),
        "{mallory}"
    );
    assert!(mallory.contains(",'@まろりー,"), "{mallory}");
    assert!(mallory.contains(",'+81 97-000-0000,"), "{mallory}");
    assert!(
        text.contains("\"田中, \"\"一郎\"\"\""),
        "quotes and commas are quoted: {text}"
    );
    for line in text.lines().skip(1) {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{line}");
        }
    }
    // The export imports back as it is: every row unchanged.
    let before = users(&admin, &org).await;
    let (status, plan) = import(&admin, &org, &body, false).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert!(
        plan["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "unchanged"),
        "{plan}"
    );
    assert_eq!(users(&admin, &org).await, before);
}

async fn audit_log_exports_as_csv_with_the_list_filters(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let user = admin
        .create_user(&org, "tanaka", "one-time password", json!({}))
        .await;
    let id = user["id"].as_str().unwrap();
    admin
        .patch(
            &format!("/api/v1/users/{id}"),
            json!({"phone": "111"}),
            Some(1),
        )
        .await;
    let (_, listed) = admin.get(&format!("/api/v1/audit?target_id={id}")).await;
    let (status, ct, body) = bytes(&admin, &format!("/api/v1/audit/export?target_id={id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    assert!(body.starts_with(
        b"\xEF\xBB\xBFseq,at,org_id,actor_id,actor_login,actor_name,action,target_kind,target_id,details,hash\r\n"
    ));
    let mut reader = csv_bytes_rows(&body[3..]);
    let header = reader.remove(0);
    assert_eq!(header[6], "action");
    let actions: Vec<&str> = reader.iter().map(|r| r[6].as_str()).collect();
    // Each row names its actor, not only their id.
    let (_, me) = admin.get("/api/v1/me").await;
    for row in &reader {
        assert_eq!(row[3], me["user"]["id"].as_str().unwrap(), "{row:?}");
        assert_eq!(row[4], "admin", "{row:?}");
        assert_eq!(
            row[5],
            me["user"]["display_name"].as_str().unwrap(),
            "{row:?}"
        );
    }
    let expected: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions, expected,
        "the same entries as the list, newest first"
    );
    assert_eq!(actions, ["user.update", "user.create"]);
    let (_, ct, only) = bytes(
        &admin,
        &format!(
            "/api/v1/audit/export?action=user.create&since={}",
            urlencode("2000-01-01T00:00:00Z")
        ),
    )
    .await;
    assert!(ct.starts_with("text/csv"));
    assert!(
        csv_bytes_rows(&only[3..])
            .iter()
            .skip(1)
            .all(|r| r[6] == "user.create")
    );
    // Exporting is itself audited; members may not export.
    let (_, exports) = admin.get("/api/v1/audit?action=audit.export").await;
    assert_eq!(exports.as_array().unwrap().len(), 2);
    let (member, _) = active_user(&server, &admin, &org, "sato").await;
    assert_eq!(
        member.get("/api/v1/audit/export").await.0,
        StatusCode::FORBIDDEN
    );
}

/// The rows of CSV bytes (UTF-8).
fn csv_bytes_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv_rows(std::str::from_utf8(bytes).unwrap())
}

async fn usage_statistics_count_what_is_created(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (_, icu) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({"name": "ICU"}),
        )
        .await;
    let (tanaka, t) = active_user(&server, &admin, &org, "tanaka").await;
    let (_, s) = active_user(&server, &admin, &org, "sato").await;
    admin
        .patch(
            &format!("/api/v1/users/{}", t["id"].as_str().unwrap()),
            json!({"department_id": icu["id"], "profession": "doctor"}),
            Some(1),
        )
        .await;
    let (status, conv) = tanaka
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "ICU", "member_ids": [s["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    let path = format!(
        "/api/v1/conversations/{}/messages",
        conv["id"].as_str().unwrap()
    );
    for i in 0..3 {
        let (status, body) = tanaka
            .post(
                &path,
                json!({"client_msg_id": format!("m-{i}"), "body": "hello"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    tanaka
        .post(&path, json!({"client_msg_id": "m-0", "body": "hello"}))
        .await;
    let png = {
        let img = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 200, 10]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    let (status, photo) = tanaka
        .raw(Method::POST, "/api/v1/media?name=x.png", "image/png", png)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");

    let (status, report) = admin.get(&format!("/api/v1/orgs/{org}/stats")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let month = report["months"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let count = |metric: &str, dept: &Value| -> i64 {
        report["counts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["metric"] == metric && c["month"] == month.as_str() && &c["department_id"] == dept
            })
            .map(|c| c["value"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(
        count("messages", &icu["id"]),
        3,
        "a resend is not counted: {report}"
    );
    assert_eq!(count("conversations", &icu["id"]), 1);
    assert_eq!(count("photos", &Value::Null), 1);
    assert_eq!(count("studies", &Value::Null), 0);
    let icu_row = report["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "messages")
        .unwrap();
    assert_eq!(icu_row["department"], "ICU");
    let active = |profession: &str| -> Option<i64> {
        report["active_users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["month"] == month.as_str() && a["profession"] == profession)
            .and_then(|a| a["value"].as_i64())
    };
    assert_eq!(
        (
            active("total"),
            active("doctor"),
            active("nurse"),
            active("other")
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );

    // The same as CSV, with the organization's slug and name.
    let first_name = report["members"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(report["members"][0]["slug"], "first");
    let (status, ct, csv) = bytes(&admin, &format!("/api/v1/orgs/{org}/stats/export")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    let rows = csv_bytes_rows(&csv[3..]);
    assert_eq!(
        rows[0],
        [
            "metric",
            "organization",
            "organization_name",
            "month",
            "department",
            "profession",
            "value"
        ]
    );
    assert!(
        rows.contains(&vec![
            "messages".into(),
            "first".into(),
            first_name.clone(),
            month.clone(),
            "ICU".into(),
            String::new(),
            "3".into()
        ]),
        "{rows:?}"
    );
    assert!(rows.contains(&vec![
        "active_users".into(),
        "first".into(),
        first_name.clone(),
        month.clone(),
        String::new(),
        "doctor".into(),
        "1".into()
    ]));
    // A range before anything happened is empty; bad ranges and members are refused.
    let (_, old) = admin
        .get(&format!(
            "/api/v1/orgs/{org}/stats?from=2020-01-01&to=2020-12-31"
        ))
        .await;
    assert_eq!(
        (
            old["months"].as_array().unwrap().len(),
            old["counts"].as_array().unwrap().len()
        ),
        (12, 0)
    );
    let (status, _) = admin
        .get(&format!(
            "/api/v1/orgs/{org}/stats?from=2021-01-01&to=2020-01-01"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        tanaka.get(&format!("/api/v1/orgs/{org}/stats")).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn the_file_type_policy_refuses_uploads_of_other_kinds(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (_, current) = admin.get(&format!("/api/v1/orgs/{org}")).await;
    assert_eq!(
        current["policy"]["allowed_file_kinds"],
        json!({"photo": true, "video": true, "pdf": true, "file": true})
    );
    let mut policy = current["policy"].clone();
    policy["allowed_file_kinds"] =
        json!({"photo": true, "video": true, "pdf": false, "file": true});
    let (status, saved) = admin
        .patch(
            &format!("/api/v1/orgs/{org}"),
            json!({"policy": policy}),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let (status, body) = admin
        .raw(
            Method::POST,
            "/api/v1/media?name=report.pdf",
            "application/pdf",
            pdf,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("file_type_not_allowed")
        ),
        "{body}"
    );
    let (status, body) = admin
        .raw(
            Method::POST,
            "/api/v1/media?name=notes.txt",
            "text/plain",
            b"ward round notes".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn the_command_line_imports_and_exports_the_same_csv(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let file = storage.dir.path().join("staff.csv");
    std::fs::write(
        &file,
        "login,display_name,profession\nsato,佐藤 花子,nurse\nkato,加藤,surgeon\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let refused = storage.admin(&["import-users", "--org", "first", "--file", &path], "");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("row 3, column profession") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    std::fs::write(
        &file,
        "login,display_name,profession\nsato,佐藤 花子,nurse\nkato,加藤,doctor\n",
    )
    .unwrap();
    let dry = storage.admin(
        &[
            "import-users",
            "--org",
            "first",
            "--file",
            &path,
            "--dry-run",
        ],
        "",
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(String::from_utf8_lossy(&dry.stdout).contains("row 2: create sato"));
    assert_eq!(
        users(&admin, &org).await.len(),
        1,
        "a dry run creates no one"
    );
    let done = storage.admin(&["import-users", "--org", "first", "--file", &path], "");
    let stdout = String::from_utf8_lossy(&done.stdout).to_string();
    assert!(stdout.contains("one-time password for sato: "), "{stdout}");
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("one-time password for kato: "))
        .unwrap();
    server.login("kato", password).await;
    let out = storage.dir.path().join("export.csv");
    let export = storage.admin(
        &[
            "export-users",
            "--org",
            "first",
            "--to",
            &out.display().to_string(),
        ],
        "",
    );
    assert!(export.status.success());
    let (_, _, via_api) = bytes(&admin, &format!("/api/v1/orgs/{org}/users/export")).await;
    assert_eq!(
        std::fs::read(&out).unwrap(),
        via_api,
        "the same file from the shell and the API"
    );
}

/// An invite link works for 14 days unless chosen otherwise; an administrator can revoke it
/// (audited); an expired or revoked link says so on the public sign-up page (410).
async fn invite_links_expire_and_can_be_revoked(storage: Storage) {
    use sqlx::Connection;
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let invite = format!("/api/v1/orgs/{org}/invite");
    let (status, link) = admin.post(&invite, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    assert_eq!(link["status"], "active");
    let at = |field: &str| {
        renkei_core::clock::Timestamp::parse_rfc3339(link[field].as_str().unwrap())
            .unwrap()
            .millis()
    };
    assert_eq!(
        at("expires_at") - at("created_at"),
        14 * 86_400_000,
        "{link}"
    );
    for bad in [0, 91] {
        let (status, body) = admin.post(&invite, json!({"expires_in_days": bad})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_invite_expiry"))
        );
    }

    // A link past its expiry answers 410 invite_expired, to the form and to an application.
    let (_, link) = admin.post(&invite, json!({"expires_in_days": 2})).await;
    let signup = format!("/api/v1/signup/{}", link["token"].as_str().unwrap());
    let anon = server.client();
    assert_eq!(anon.get(&signup).await.0, StatusCode::OK);
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&storage.raw_url())
        .await
        .unwrap();
    sqlx::raw_sql("UPDATE org_invites SET expires_at = expires_at - 172800001")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (status, body) = anon.get(&signup).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("invite_expired")),
        "{body}"
    );
    let application = json!({"login": "late.nurse", "display_name": "遅刻 看護師",
        "profession": "nurse", "password": "my own password 1"});
    let (status, body) = anon.post(&signup, application.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("invite_expired"))
    );
    assert_eq!(admin.get(&invite).await.1["status"], "expired");

    // A fresh link, revoked by the administrator, answers 410 invite_revoked.
    let (_, link) = admin.post(&invite, json!({})).await;
    let signup = format!("/api/v1/signup/{}", link["token"].as_str().unwrap());
    assert_eq!(anon.get(&signup).await.0, StatusCode::OK);
    let revoke = || admin.raw(Method::DELETE, &invite, "application/json", Vec::new());
    let (status, revoked) = revoke().await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    let (status, body) = anon.get(&signup).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("invite_revoked"))
    );
    let (status, body) = anon.post(&signup, application).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("invite_revoked"))
    );
    let (status, body) = revoke().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("invite_not_found")),
        "revoking twice"
    );
    let (_, entries) = admin.get("/api/v1/audit?action=org.invite_revoked").await;
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    // Members may not revoke.
    let (member, _) = active_user(&server, &admin, &org, "sato").await;
    let (status, _) = member
        .raw(Method::DELETE, &invite, "application/json", Vec::new())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
