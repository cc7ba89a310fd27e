//! The second factor (TOTP) through the API: enrolling, signing in with a code, replays and
//! wrong codes refused and counted towards the lockout, recovery codes once each, the
//! organization's policy, voluntary enrollment, the administrator's reset, and sessions that
//! owe a code getting nothing (REST or WebSocket).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{ADMIN_PASSWORD, Api, Server, Storage, USER_PASSWORD, Ws, active_user};
use renkei_core::totp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    a_required_user_enrolls_then_needs_a_fresh_code_at_every_sign_in,
    wrong_and_replayed_codes_count_towards_the_lockout,
    code_attempts_are_rate_limited_like_sign_in,
    the_organization_policy_requires_it_of_everyone_at_once,
    voluntary_enrollment_and_the_administrator_reset,
);

/// An authenticator app: the secret, and the newest step whose code it gave out (the server
/// accepts each step once).
struct App {
    secret: Vec<u8>,
    last: i64,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

impl App {
    fn from(enrollment: &Value) -> App {
        let text = enrollment["secret"].as_str().unwrap();
        let secret = totp::base32_decode(text).expect("base32 secret");
        assert_eq!(secret.len(), 20, "a 160-bit secret");
        App {
            secret,
            last: i64::MIN,
        }
    }

    /// A code the server accepts now and that was not given out before: the oldest step of
    /// the ±1 window not used yet, waiting for time to move on when all are used. Stays away
    /// from the last 3 seconds of a step so the server sees the same current step.
    async fn next_code(&mut self) -> String {
        loop {
            let t = unix_now();
            let now = (t / 30.0).floor() as i64;
            if t - (now * 30) as f64 > 27.0 {
                tokio::time::sleep(Duration::from_secs_f64((now + 1) as f64 * 30.0 - t + 0.2))
                    .await;
                continue;
            }
            let step = (now - 1).max(self.last + 1);
            if step > now + 1 {
                tokio::time::sleep(Duration::from_secs_f64((now + 1) as f64 * 30.0 - t + 0.2))
                    .await;
                continue;
            }
            self.last = step;
            return totp::code_at_step(&self.secret, step);
        }
    }

    /// A six-digit code that matches no step of the current window.
    fn wrong_code(&self) -> String {
        let now = (unix_now() / 30.0).floor() as i64;
        let valid: Vec<String> = (now - 2..=now + 2)
            .map(|s| totp::code_at_step(&self.secret, s))
            .collect();
        (0..)
            .map(|n| format!("{:06}", 123_456 + n))
            .find(|c| !valid.contains(c))
            .unwrap()
    }
}

/// Signs in with the password; the session and the login answer.
async fn sign_in(server: &Server, login: &str, password: &str) -> (Api, Value) {
    let mut api = server.client();
    let (status, body) = api
        .post(
            "/api/v1/auth/login",
            json!({"login": login, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "login {login}: {body}");
    api.token = Some(body["token"].as_str().unwrap().to_owned());
    (api, body)
}

/// Starts and confirms an enrollment; the app and the recovery codes.
async fn enroll(api: &Api, login: &str) -> (App, Vec<String>) {
    let (status, enrollment) = api
        .post("/api/v1/me/second-factor/enrollment", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{enrollment}");
    let secret = enrollment["secret"].as_str().unwrap();
    assert_eq!(
        enrollment["otpauth_uri"],
        format!(
            "otpauth://totp/renkei:{login}?secret={secret}&issuer=renkei&algorithm=SHA1&digits=6&period=30"
        )
    );
    let mut app = App::from(&enrollment);
    let code = app.next_code().await;
    let (status, enrolled) = api
        .post(
            "/api/v1/me/second-factor/enrollment/confirm",
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    let codes: Vec<String> = enrolled["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (app, codes)
}

async fn enter(api: &Api, code: &str) -> (StatusCode, Value) {
    api.post("/api/v1/auth/second-factor", json!({ "code": code }))
        .await
}

fn code_of(answer: &(StatusCode, Value)) -> (StatusCode, Option<&str>) {
    (answer.0, answer.1["code"].as_str())
}

const GATED: (StatusCode, Option<&str>) = (StatusCode::FORBIDDEN, Some("second_factor_required"));

/// Whether the session is refused data with `second_factor_required`: REST and WebSocket.
async fn assert_gated(server: &Server, api: &Api) {
    for path in ["/api/v1/me", "/api/v1/conversations", "/api/v1/studies"] {
        let answer = api.get(path).await;
        assert_eq!(code_of(&answer), GATED, "{path}: {}", answer.1);
    }
    let answer = api
        .put("/api/v1/me/passcode", json!({"passcode": "135790"}))
        .await;
    assert_eq!(code_of(&answer), GATED);
    let mut ws = Ws::open(server).await;
    ws.send(json!({"type": "hello", "token": api.token})).await;
    let frame = ws.next_or_close().await.expect("an error frame first");
    assert_eq!(
        (frame["type"].as_str(), frame["code"].as_str()),
        (Some("error"), Some("second_factor_required")),
        "{frame}"
    );
    assert_eq!(ws.next_or_close().await.unwrap_err().0, 4001);
}

/// Nothing secret in the audit log, the logs or the user records.
async fn assert_nothing_secret(server: &Server, admin: &Api, org: &str, secrets: &[&str]) {
    let (_, audit) = admin.get("/api/v1/audit?limit=1000").await;
    let (_, users) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    let logs = server.logs();
    for secret in secrets {
        assert!(!audit.to_string().contains(secret), "audit has {secret}");
        assert!(!users.to_string().contains(secret), "users have {secret}");
        assert!(!logs.contains(secret), "logs have {secret}");
    }
    for user in users.as_array().unwrap() {
        let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| !k.contains("secret") && !k.contains("recovery")),
            "{user}"
        );
    }
}

async fn a_required_user_enrolls_then_needs_a_fresh_code_at_every_sign_in(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let created = admin
        .create_user(
            &org,
            "tanaka",
            "one-time password",
            json!({"second_factor_required": true}),
        )
        .await;
    assert_eq!(created["second_factor_enrolled"], false);

    // Not enrolled yet: the session may only enroll; everything else says so.
    let (api, login) = sign_in(&server, "tanaka", "one-time password").await;
    assert_eq!(login["second_factor"], "enroll");
    assert_gated(&server, &api).await;
    let answer = api
        .put(
            "/api/v1/me/password",
            json!({"current_password": "one-time password", "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(code_of(&answer), GATED);
    assert_eq!(
        code_of(&enter(&api, "123456").await),
        (StatusCode::CONFLICT, Some("not_enrolled"))
    );
    let (status, state) = api.get("/api/v1/auth/second-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        state,
        json!({"required": true, "enrolled": false, "passed": false, "recovery_codes_left": 0, "passkeys": 0})
    );

    // A first enrollment attempt is abandoned; the second one is confirmed. A wrong code
    // does not confirm it.
    let (status, abandoned) = api
        .post("/api/v1/me/second-factor/enrollment", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, enrollment) = api
        .post("/api/v1/me/second-factor/enrollment", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(abandoned["secret"], enrollment["secret"]);
    let mut app = App::from(&enrollment);
    let wrong = api
        .post(
            "/api/v1/me/second-factor/enrollment/confirm",
            json!({"code": app.wrong_code()}),
        )
        .await;
    assert_eq!(code_of(&wrong), (StatusCode::FORBIDDEN, Some("wrong_code")));
    // A code of the abandoned secret does not confirm the new one.
    let mut abandoned_app = App::from(&abandoned);
    let old_code = abandoned_app.next_code().await;
    if totp::matching_step(&app.secret, &old_code, unix_now() as i64).is_none() {
        let answer = api
            .post(
                "/api/v1/me/second-factor/enrollment/confirm",
                json!({ "code": old_code }),
            )
            .await;
        assert_eq!(
            code_of(&answer),
            (StatusCode::FORBIDDEN, Some("wrong_code"))
        );
    }
    let first = app.next_code().await;
    let (status, enrolled) = api
        .post(
            "/api/v1/me/second-factor/enrollment/confirm",
            json!({ "code": first }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    let recovery: Vec<String> = enrolled["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let mut unique = recovery.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);

    // This session has passed: the one-time password is replaced, data is served.
    let (status, body) = api
        .put(
            "/api/v1/me/password",
            json!({"current_password": "one-time password", "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, me) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["second_factor_enrolled"], true);
    assert_eq!(api.get("/api/v1/conversations").await.0, StatusCode::OK);
    assert_eq!(
        code_of(
            &api.post("/api/v1/me/second-factor/enrollment", json!({}))
                .await
        ),
        (StatusCode::CONFLICT, Some("already_enrolled"))
    );

    // Signing in again needs a code; the one used at enrollment is refused (replay).
    let (again, login) = sign_in(&server, "tanaka", USER_PASSWORD).await;
    assert_eq!(login["second_factor"], "verify");
    assert_gated(&server, &again).await;
    assert_eq!(
        code_of(&enter(&again, &first).await),
        (StatusCode::FORBIDDEN, Some("code_already_used"))
    );
    // Enrolling another app instead of entering the code owed is refused.
    assert_eq!(
        code_of(
            &again
                .post("/api/v1/me/second-factor/enrollment", json!({}))
                .await
        ),
        (StatusCode::FORBIDDEN, Some("second_factor_required"))
    );
    let code = app.next_code().await;
    let (status, passed) = enter(&again, &code).await;
    assert_eq!(status, StatusCode::OK, "{passed}");
    assert_eq!(passed["recovery_codes_left"], 10);
    assert_eq!(again.get("/api/v1/conversations").await.0, StatusCode::OK);
    Ws::connect(&server, again.token.as_deref().unwrap(), None).await;

    // The same code in another session is a replay, however fresh.
    let (third, _) = sign_in(&server, "tanaka", USER_PASSWORD).await;
    assert_eq!(
        code_of(&enter(&third, &code).await),
        (StatusCode::FORBIDDEN, Some("code_already_used"))
    );
    // A recovery code works once, typed with spaces or upper case too.
    let typed = recovery[3].replace('-', " ").to_uppercase();
    let (status, passed) = enter(&third, &typed).await;
    assert_eq!(status, StatusCode::OK, "{passed}");
    assert_eq!(passed["recovery_codes_left"], 9);
    assert_eq!(third.get("/api/v1/conversations").await.0, StatusCode::OK);
    let (fourth, _) = sign_in(&server, "tanaka", USER_PASSWORD).await;
    assert_eq!(
        code_of(&enter(&fourth, &recovery[3]).await),
        (StatusCode::FORBIDDEN, Some("wrong_code"))
    );
    assert_gated(&server, &fourth).await;
    let (status, _) = enter(&fourth, &recovery[4]).await;
    assert_eq!(status, StatusCode::OK);

    // The user record says enrolled; nothing secret is kept where admins or logs see it.
    let (_, record) = admin
        .get(&format!(
            "/api/v1/users/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(record["second_factor_enrolled"], true, "{record}");
    let (_, entries) = admin
        .get("/api/v1/audit?action=auth.second_factor_enrolled")
        .await;
    assert_eq!(entries.as_array().unwrap().len(), 1);
    let (_, entries) = admin.get("/api/v1/audit?action=auth.second_factor").await;
    let methods: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["method"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(methods.len(), 3, "{entries}");
    assert_eq!(methods.iter().filter(|m| **m == "recovery_code").count(), 2);
    let secret = enrollment["secret"].as_str().unwrap();
    let mut secrets: Vec<&str> = vec![secret, abandoned["secret"].as_str().unwrap()];
    secrets.extend(recovery.iter().map(String::as_str));
    let plain: Vec<String> = recovery.iter().map(|c| c.replace('-', "")).collect();
    secrets.extend(plain.iter().map(String::as_str));
    assert_nothing_secret(&server, &admin, &org, &secrets).await;
}

const LOCKOUT: &[(&str, &str)] = &[
    ("RENKEI_LOGIN_MAX_FAILURES", "3"),
    ("RENKEI_LOGIN_LOCKOUT_SECONDS", "3"),
];

async fn wrong_and_replayed_codes_count_towards_the_lockout(storage: Storage) {
    let server = Server::start(&storage, LOCKOUT);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (api, _) = active_user(&server, &admin, &org, "sato").await;
    let (mut app, _) = enroll(&api, "sato").await;

    // Two wrong codes, then signing in again with the right password does not forget them:
    // the third wrong answer locks the account and ends its sessions.
    let (first, login) = sign_in(&server, "sato", USER_PASSWORD).await;
    assert_eq!(login["second_factor"], "verify");
    for _ in 0..2 {
        assert_eq!(
            code_of(&enter(&first, &app.wrong_code()).await),
            (StatusCode::FORBIDDEN, Some("wrong_code"))
        );
    }
    let (second, _) = sign_in(&server, "sato", USER_PASSWORD).await;
    let code = app.next_code().await;
    let (status, _) = enter(&second, &code).await;
    assert_eq!(status, StatusCode::OK);
    // That success restarted the count; a replay is wrong too.
    let (third, _) = sign_in(&server, "sato", USER_PASSWORD).await;
    assert_eq!(
        code_of(&enter(&third, &code).await),
        (StatusCode::FORBIDDEN, Some("code_already_used"))
    );
    assert_eq!(
        code_of(&enter(&third, &app.wrong_code()).await),
        (StatusCode::FORBIDDEN, Some("wrong_code"))
    );
    let (fourth, _) = sign_in(&server, "sato", USER_PASSWORD).await;
    assert_eq!(
        code_of(&enter(&fourth, "not-a-code").await),
        (StatusCode::LOCKED, Some("account_locked"))
    );
    for session in [&first, &second, &third, &fourth] {
        assert_eq!(
            session.get("/api/v1/auth/second-factor").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let refused = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": "sato", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(
        code_of(&refused),
        (StatusCode::LOCKED, Some("account_locked"))
    );
    let (_, failures) = admin
        .get("/api/v1/audit?action=auth.second_factor_failed")
        .await;
    assert_eq!(failures.as_array().unwrap().len(), 5, "{failures}");
    let (_, locks) = admin.get("/api/v1/audit?action=auth.account_locked").await;
    assert_eq!(locks.as_array().unwrap().len(), 1);

    // After the lock, the right code works.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (fifth, _) = sign_in(&server, "sato", USER_PASSWORD).await;
    let code = app.next_code().await;
    assert_eq!(enter(&fifth, &code).await.0, StatusCode::OK);
    assert_eq!(fifth.get("/api/v1/conversations").await.0, StatusCode::OK);
}

async fn code_attempts_are_rate_limited_like_sign_in(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (api, _) = active_user(&server, &admin, &org, "suzuki").await;
    let (app, _) = enroll(&api, "suzuki").await;
    server.stop();
    let server = Server::start(&storage, &[("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "3")]);
    // The attempts above are kept in the database past the restart: count from another
    // address.
    let mut api = server.client_from("127.0.0.2");
    let (status, body) = api
        .post(
            "/api/v1/auth/login",
            json!({"login": "suzuki", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    api.token = body["token"].as_str().map(str::to_owned);
    for _ in 0..2 {
        assert_eq!(
            enter(&api, &app.wrong_code()).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let answer = enter(&api, &app.wrong_code()).await;
    assert_eq!(
        code_of(&answer),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
}

/// Sets the organization's second-factor rule.
async fn set_policy(admin: &Api, org: &str, required: bool) {
    let path = format!("/api/v1/orgs/{org}");
    let (status, current) = admin.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    let mut policy = current["policy"].clone();
    policy["second_factor_required"] = json!(required);
    let (status, saved) = admin
        .patch(
            &path,
            json!({ "policy": policy }),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
}

async fn the_organization_policy_requires_it_of_everyone_at_once(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (nurse, _) = active_user(&server, &admin, &org, "ito").await;
    let (other, _) = active_user(&server, &admin, &org, "kato").await;
    let (_, login) = sign_in(&server, "ito", USER_PASSWORD).await;
    assert!(login["second_factor"].is_null(), "{login}");

    set_policy(&admin, &org, true).await;
    // Sessions opened before the rule owe it too, the administrator's own included.
    assert_gated(&server, &nurse).await;
    assert_gated(&server, &admin).await;
    enroll(&admin, "admin").await;
    assert_eq!(admin.get("/api/v1/conversations").await.0, StatusCode::OK);
    let (_, login) = sign_in(&server, "ito", USER_PASSWORD).await;
    assert_eq!(login["second_factor"], "enroll");
    enroll(&nurse, "ito").await;
    assert_eq!(nurse.get("/api/v1/conversations").await.0, StatusCode::OK);

    // Without the rule, whoever enrolled keeps their second factor; the others sign in
    // with their password alone.
    set_policy(&admin, &org, false).await;
    let (_, login) = sign_in(&server, "ito", USER_PASSWORD).await;
    assert_eq!(login["second_factor"], "verify");
    let (_, login) = sign_in(&server, "kato", USER_PASSWORD).await;
    assert!(login["second_factor"].is_null(), "{login}");
    assert_eq!(other.get("/api/v1/conversations").await.0, StatusCode::OK);
    let (_, login) = sign_in(&server, "admin", ADMIN_PASSWORD).await;
    assert_eq!(login["second_factor"], "verify");

    // The administrator lost their phone: the command line resets it (break-glass), audited
    // without an actor, and ends their sessions.
    let out = storage.admin(&["reset-second-factor", "--login", "admin"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(admin.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (admin, login) = sign_in(&server, "admin", ADMIN_PASSWORD).await;
    assert!(login["second_factor"].is_null(), "{login}");
    let (_, entries) = admin
        .get("/api/v1/audit?action=user.second_factor_reset")
        .await;
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert!(entries[0]["actor_id"].is_null());
    let missing = storage.admin(&["reset-second-factor", "--login", "nobody"], "");
    assert!(!missing.status.success());
}

async fn voluntary_enrollment_and_the_administrator_reset(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (api, user) = active_user(&server, &admin, &org, "kimura").await;
    let (colleague, _) = active_user(&server, &admin, &org, "mori").await;
    let id = user["id"].as_str().unwrap();
    let (status, state) = api.get("/api/v1/auth/second-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&state["required"], &state["passed"]),
        (&json!(false), &json!(true))
    );

    // Enrolled of their own will: from now on it is asked at every sign-in.
    let (mut app, recovery) = enroll(&api, "kimura").await;
    let (_, state) = api.get("/api/v1/auth/second-factor").await;
    assert_eq!(
        state,
        json!({"required": true, "enrolled": true, "passed": true, "recovery_codes_left": 10, "passkeys": 0})
    );
    let (second, login) = sign_in(&server, "kimura", USER_PASSWORD).await;
    assert_eq!(login["second_factor"], "verify");
    assert_gated(&server, &second).await;
    let code = app.next_code().await;
    assert_eq!(enter(&second, &code).await.0, StatusCode::OK);

    // Only an administrator resets it.
    let path = format!("/api/v1/users/{id}/second-factor");
    let (status, _) = colleague
        .http
        .delete(colleague.url(&path))
        .bearer_auth(colleague.token.as_deref().unwrap())
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    let (status, _) = admin
        .http
        .delete(admin.url(&path))
        .bearer_auth(admin.token.as_deref().unwrap())
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Every session ended; the record says not enrolled; signing in needs no code; the old
    // recovery codes are gone; the reset is audited by whom.
    for session in [&api, &second] {
        assert_eq!(
            session.get("/api/v1/auth/second-factor").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (_, record) = admin.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(record["second_factor_enrolled"], false);
    let (again, login) = sign_in(&server, "kimura", USER_PASSWORD).await;
    assert!(login["second_factor"].is_null(), "{login}");
    assert_eq!(again.get("/api/v1/conversations").await.0, StatusCode::OK);
    assert_eq!(
        code_of(&enter(&again, &recovery[0]).await),
        (StatusCode::CONFLICT, Some("not_enrolled"))
    );
    let (_, entries) = admin
        .get("/api/v1/audit?action=user.second_factor_reset")
        .await;
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["target_id"], id, "{}", entries[0]);
    let (_, me) = admin.get("/api/v1/me").await;
    assert_eq!(entries[0]["actor_id"], me["user"]["id"]);
    let recovery: Vec<&str> = recovery.iter().map(String::as_str).collect();
    assert_nothing_secret(&server, &admin, &org, &recovery).await;

    // The routes are in the OpenAPI description.
    let (_, spec) = server.client().get("/api/openapi.json").await;
    for path in [
        "/api/v1/auth/second-factor",
        "/api/v1/me/second-factor/enrollment",
        "/api/v1/me/second-factor/enrollment/confirm",
        "/api/v1/users/{id}/second-factor",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing");
    }
}
