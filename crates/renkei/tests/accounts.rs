//! Account safety (issue 17): server administrators changed only by server administrators,
//! sign-in back-off that never ends a session, answers that do not reveal which logins exist,
//! password changes that end the other sessions, common passwords refused, and the directory
//! view members get — over real HTTP and WebSocket, on both databases.

mod common;

use common::{ADMIN_PASSWORD, Server, Storage, USER_PASSWORD, Ws, active_user, active_user_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    an_org_admin_changes_no_server_admin,
    wrong_passwords_slow_sign_in_but_never_end_sessions,
    known_and_unknown_logins_get_the_same_answers,
    a_password_change_ends_the_other_sessions_and_sockets,
    common_passwords_and_the_login_are_refused,
    members_see_a_directory_without_security_state,
);

/// Slow sign-in down after 3 wrong passwords, starting with a 2 s wait.
const BACKOFF: &[(&str, &str)] = &[
    ("RENKEI_LOGIN_MAX_FAILURES", "3"),
    ("RENKEI_LOGIN_BACKOFF_SECONDS", "2"),
    ("RENKEI_LOGIN_LOCKOUT_SECONDS", "60"),
];

/// The same with a 30 s first wait, for what must still be waiting a while later.
const SLOW: &[(&str, &str)] = &[
    ("RENKEI_LOGIN_MAX_FAILURES", "3"),
    ("RENKEI_LOGIN_BACKOFF_SECONDS", "30"),
    ("RENKEI_LOGIN_LOCKOUT_SECONDS", "600"),
];

fn code(answer: &(StatusCode, Value)) -> (StatusCode, Option<&str>) {
    (answer.0, answer.1["code"].as_str())
}

async fn sign_in(server: &Server, login: &str, password: &str) -> (StatusCode, Value) {
    server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": login, "password": password}),
        )
        .await
}

async fn an_org_admin_changes_no_server_admin(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let org = root.org_id().await;
    let (_, me) = root.get("/api/v1/me").await;
    let root_id = me["user"]["id"].as_str().unwrap().to_owned();
    let (oa, _) = active_user_with(
        &server,
        &root,
        &org,
        "org.admin",
        json!({"roles": ["org_admin"]}),
    )
    .await;
    let (_, nurse) = active_user(&server, &root, &org, "nurse1").await;
    let user_path = format!("/api/v1/users/{root_id}");
    let version = root.get(&user_path).await.1["version"].as_i64();

    // Every change to the server administrator is refused, whatever the roles granted.
    for patch in [
        json!({"roles": ["org_admin"]}),
        json!({"roles": []}),
        json!({"status": "suspended"}),
        json!({"display_name": "乗っ取り"}),
        json!({"email": "attacker@example.org"}),
    ] {
        let answer = oa.patch(&user_path, patch.clone(), version).await;
        assert_eq!(
            code(&answer),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{patch}"
        );
    }
    for (method, suffix) in [
        (Method::POST, "password-reset"),
        (Method::DELETE, "passcode"),
        (Method::DELETE, "second-factor"),
        (Method::POST, "sign-in-release"),
    ] {
        let answer = oa
            .raw(
                method.clone(),
                &format!("{user_path}/{suffix}"),
                "application/json",
                b"{}".to_vec(),
            )
            .await;
        assert_eq!(
            code(&answer),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{suffix}"
        );
    }
    // Nor may an org admin make one, by edit, creation or import.
    let nurse_path = format!("/api/v1/users/{}", nurse["id"].as_str().unwrap());
    let answer = oa
        .patch(
            &nurse_path,
            json!({"roles": ["server_admin"]}),
            nurse["version"].as_i64(),
        )
        .await;
    assert_eq!(code(&answer), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = oa
        .post(
            &format!("/api/v1/orgs/{org}/users"),
            json!({"login": "root2", "display_name": "R", "profession": "nurse",
                   "password": "one-time password", "roles": ["server_admin"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let import = format!("/api/v1/orgs/{org}/users/import?dry_run=false");
    let (_, root_record) = root.get(&user_path).await;
    let name = root_record["display_name"].as_str().unwrap().to_owned();
    let profession = root_record["profession"].as_str().unwrap().to_owned();
    for csv in [
        format!("login,display_name,profession,roles\nadmin,乗っ取り,{profession},server_admin\n"),
        format!("login,display_name,profession,roles\nadmin,{name},{profession},org_admin\n"),
        format!("login,display_name,profession,status\nadmin,{name},{profession},suspended\n"),
        "login,display_name,profession,roles\nnewroot,New Root,nurse,server_admin\n".to_owned(),
    ] {
        let (status, body) = oa
            .raw(Method::POST, &import, "text/csv", csv.as_bytes().to_vec())
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{csv}: {body}");
        assert_eq!(body["errors"][0]["code"], "forbidden", "{body}");
    }
    // An export imported back changes nothing, server administrator row included.
    let (_, csv) = {
        let resp = oa
            .http
            .get(oa.url(&format!("/api/v1/orgs/{org}/users/export")))
            .bearer_auth(oa.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        (resp.status(), resp.bytes().await.unwrap().to_vec())
    };
    let (status, body) = oa.raw(Method::POST, &import, "text/csv", csv).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The server administrator is untouched and still signs in.
    let (_, after) = root.get(&user_path).await;
    assert_eq!(
        (&after["roles"], &after["status"]),
        (&root_record["roles"], &json!("active"))
    );
    assert!(
        after["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("server_admin"))
    );
    assert_eq!(after["version"].as_i64(), version);
    server.login("admin", ADMIN_PASSWORD).await;
    // A server administrator may change a server administrator.
    let answer = root
        .patch(&user_path, json!({"email": "root@example.org"}), version)
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
}

async fn wrong_passwords_slow_sign_in_but_never_end_sessions(storage: Storage) {
    let server = Server::start(&storage, BACKOFF);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (doctor, record) = active_user(&server, &admin, &org, "tanaka").await;
    let (mut ws, _) = Ws::connect(&server, doctor.token.as_deref().unwrap(), None).await;

    // The first wrong passwords say how many are left; the last free one says how long to wait.
    for left in [2, 1, 0] {
        let answer = sign_in(&server, "tanaka", "not the password").await;
        assert_eq!(
            code(&answer),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
        );
        assert_eq!(answer.1["attempts_left"], left, "{}", answer.1);
    }
    // Then no password is checked, the right one neither, until the wait is over.
    let answer = sign_in(&server, "tanaka", USER_PASSWORD).await;
    assert_eq!(
        code(&answer),
        (StatusCode::TOO_MANY_REQUESTS, Some("sign_in_delayed"))
    );
    assert!(
        answer.1["retry_after"].as_i64().is_some_and(|s| s >= 1),
        "{}",
        answer.1
    );

    // The doctor's open session and socket go on: a stranger slowed sign-in down, no more.
    assert_eq!(doctor.get("/api/v1/conversations").await.0, StatusCode::OK);
    ws.send(json!({"type": "ping"})).await;
    assert!(ws.next_or_close().await.is_ok(), "the socket stays open");

    // The administrator sees the hold and releases it (audited); sign-in works at once.
    let holds_path = format!("/api/v1/orgs/{org}/sign-in-holds");
    let (status, holds) = admin.get(&holds_path).await;
    assert_eq!(status, StatusCode::OK, "{holds}");
    let hold = &holds.as_array().unwrap()[0];
    assert_eq!(
        (hold["login"].as_str(), hold["failures"].as_i64()),
        (Some("tanaka"), Some(3))
    );
    assert!(hold["wait_until"].is_string(), "{hold}");
    let id = record["id"].as_str().unwrap();
    let (status, _) = admin
        .post(&format!("/api/v1/users/{id}/sign-in-release"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(admin.get(&holds_path).await.1, json!([]));
    let (_, released) = admin
        .get("/api/v1/audit?action=user.sign_in_released")
        .await;
    assert_eq!(released[0]["target_id"], id, "{released}");
    assert_eq!(released[0]["details"]["failures"], 3);
    server.login("tanaka", USER_PASSWORD).await;

    // Each further wrong password doubles the wait.
    for _ in 0..3 {
        sign_in(&server, "tanaka", "not the password").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let answer = sign_in(&server, "tanaka", "not the password").await;
    assert_eq!(
        code(&answer),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    assert!(
        answer.1["retry_after"].as_i64().is_some_and(|s| s >= 3),
        "the wait doubles: {}",
        answer.1
    );
    assert_eq!(
        doctor.get("/api/v1/conversations").await.0,
        StatusCode::OK,
        "no session ended"
    );

    // The command line releases too (break-glass for a lone server administrator), audited.
    let out = storage.admin(&["release-sign-in", "--login", "tanaka"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.login("tanaka", USER_PASSWORD).await;
    let (_, released) = admin
        .get("/api/v1/audit?action=user.sign_in_released")
        .await;
    assert_eq!(released.as_array().unwrap().len(), 2, "{released}");
    assert!(released[0]["actor_id"].is_null(), "{released}");

    // No hard lock was ever set by a password: nothing says `account_locked`.
    let (_, locks) = admin.get("/api/v1/audit?action=auth.account_locked").await;
    assert_eq!(locks, json!([]));
    let (_, everything) = admin.get("/api/v1/audit?limit=1000").await;
    assert!(!everything.to_string().contains("not the password"));
}

/// The visible part of an answer: status, code, attempts left, whether a wait is given.
fn shape(answer: &(StatusCode, Value)) -> (StatusCode, Value, Value, bool) {
    (
        answer.0,
        answer.1["code"].clone(),
        answer.1["attempts_left"].clone(),
        answer.1["retry_after"].is_number(),
    )
}

async fn known_and_unknown_logins_get_the_same_answers(storage: Storage) {
    let server = Server::start(&storage, SLOW);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    active_user(&server, &admin, &org, "tanaka").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        known.push(shape(&sign_in(&server, "tanaka", "guess 12345").await));
        unknown.push(shape(&sign_in(&server, "nobody.here", "guess 12345").await));
    }
    assert_eq!(known, unknown);
    assert_eq!(known[4].0, StatusCode::TOO_MANY_REQUESTS, "{known:?}");

    // Sign-up through an invite link answers a taken login like any application, stores
    // nothing, and shows the attempt to the organization's administrators.
    let (_, link) = admin
        .post(&format!("/api/v1/orgs/{org}/invite"), json!({}))
        .await;
    let signup = format!("/api/v1/signup/{}", link["token"].as_str().unwrap());
    let application = |login: &str| {
        json!({"login": login, "display_name": "応募 太郎", "kana": "おうぼ たろう",
               "profession": "nurse", "password": "an applicant's passphrase"})
    };
    let anon = server.client();
    let taken = anon.post(&signup, application("tanaka")).await;
    let fresh = anon.post(&signup, application("brand.new")).await;
    assert_eq!(taken, fresh);
    assert_eq!(taken, (StatusCode::CREATED, json!({"status": "pending"})));
    let (_, queue) = admin.get(&format!("/api/v1/orgs/{org}/applications")).await;
    let logins: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["login"].as_str())
        .collect();
    assert_eq!(logins, ["brand.new"]);
    let (_, refused) = admin.get("/api/v1/audit?action=user.apply_refused").await;
    assert_eq!(refused[0]["details"]["login"], "tanaka", "{refused}");
}

async fn a_password_change_ends_the_other_sessions_and_sockets(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (phone, _) = active_user(&server, &admin, &org, "tanaka").await;
    let desk = server.login("tanaka", USER_PASSWORD).await;
    let (mut desk_ws, _) = Ws::connect(&server, desk.token.as_deref().unwrap(), None).await;
    let (mut phone_ws, _) = Ws::connect(&server, phone.token.as_deref().unwrap(), None).await;

    let (status, body) = phone
        .put(
            "/api/v1/me/password",
            json!({"current_password": USER_PASSWORD, "new_password": "a brand new passphrase 7"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // The other session ends, and its live socket closes at once.
    let answer = desk.get("/api/v1/me").await;
    assert_eq!(
        code(&answer),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    loop {
        match desk_ws.next_or_close().await {
            Ok(frame) if frame["type"] == "error" => continue,
            Ok(frame) => panic!("the ended session's socket got {frame}"),
            Err(closed) => {
                assert_ne!(closed.0, 0, "closed, not timed out");
                break;
            }
        }
    }
    // The session that made the change and its socket go on.
    assert_eq!(phone.get("/api/v1/me").await.0, StatusCode::OK);
    phone_ws.send(json!({"type": "ping"})).await;
    assert!(phone_ws.next_or_close().await.is_ok());
    server.login("tanaka", "a brand new passphrase 7").await;
}

async fn common_passwords_and_the_login_are_refused(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (user, _) = active_user(&server, &admin, &org, "tanaka").await;
    let change = |new: &str| json!({"current_password": USER_PASSWORD, "new_password": new});
    for (new, expected) in [
        ("aaaaaaaaaa", "password_too_common"),
        ("1234567890", "password_too_common"),
        ("password12", "password_too_common"),
        ("Qwertyuiop", "password_too_common"),
        ("tanaka-0401!", "password_contains_login"),
        ("User-tanaka-1", "password_contains_login"),
    ] {
        let answer = user.put("/api/v1/me/password", change(new)).await;
        assert_eq!(
            code(&answer),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(expected)),
            "{new}"
        );
    }
    // Nothing changed: the old password still signs in.
    server.login("tanaka", USER_PASSWORD).await;
}

async fn members_see_a_directory_without_security_state(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (member, _) = active_user(&server, &admin, &org, "tanaka").await;
    let (_, link) = admin
        .post(&format!("/api/v1/orgs/{org}/invite"), json!({}))
        .await;
    let signup = format!("/api/v1/signup/{}", link["token"].as_str().unwrap());
    server
        .client()
        .post(&signup, json!({"login": "applicant", "display_name": "応募 花子",
            "kana": "おうぼ はなこ", "profession": "nurse", "password": "an applicant's passphrase"}))
        .await;
    let path = format!("/api/v1/orgs/{org}/users?limit=500");

    let (status, list) = member.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    let names: Vec<&str> = list
        .iter()
        .filter_map(|u| u["display_name"].as_str())
        .collect();
    assert!(
        names.contains(&"User tanaka") && !names.contains(&"応募 花子"),
        "{names:?}"
    );
    for entry in list {
        for hidden in [
            "login",
            "roles",
            "second_factor_enrolled",
            "must_change_password",
            "email",
            "phone",
            "staff_number",
        ] {
            assert!(
                entry.get(hidden).is_none(),
                "{hidden} shown to a member: {entry}"
            );
        }
        assert_eq!(entry["status"], "active");
        assert!(entry["kana"].is_string() && entry["profession"].is_string());
    }
    // One record: the directory entry too; an applicant is not there at all.
    let admin_id = list
        .iter()
        .find(|u| u["display_name"] != "User tanaka")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, one) = member.get(&format!("/api/v1/users/{admin_id}")).await;
    assert!(one.get("roles").is_none(), "{one}");
    let (_, all) = admin.get(&path).await;
    let applicant = all
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "applicant")
        .unwrap()
        .clone();
    let answer = member
        .get(&format!(
            "/api/v1/users/{}",
            applicant["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(answer.0, StatusCode::NOT_FOUND);
    // Administrators keep the full view.
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|u| u["roles"].is_array() && u["must_change_password"].is_boolean())
    );
}
