//! Passkeys (WebAuthn) through the API, with a software authenticator: enrolling named
//! passkeys, signing in without a password, passing the second factor after the password,
//! single-use challenges, a removed passkey refused, a cloned authenticator (its counter going
//! backwards) refused, flagged and audited, and the organization's second-factor rule met by a
//! passkey.

mod common;

use common::passkey::{PUBLIC_URL, SoftPasskey};
use common::{Api, Server, Storage, USER_PASSWORD, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    a_passkey_signs_in_and_passes_the_second_factor_until_it_is_removed,
    a_cloned_authenticator_is_refused_flagged_and_audited,
    a_passkey_meets_the_organizations_second_factor_rule,
);

fn start(storage: &Storage) -> Server {
    Server::start(
        storage,
        &[PUBLIC_URL, ("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "100000")],
    )
}

/// The page's origin as the browser reports it.
fn origin(server: &Server) -> String {
    let port = server.addr().rsplit(':').next().unwrap().to_owned();
    format!("http://localhost:{port}")
}

/// Registers `passkey` as `name` for the session `api`; the passkey as listed.
async fn enroll(api: &Api, passkey: &mut SoftPasskey, name: &str) -> Value {
    let (status, ceremony) = api
        .post("/api/v1/me/passkeys/registration", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let selection = &ceremony["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{ceremony}");
    assert_eq!(selection["userVerification"], "required", "{ceremony}");
    assert_eq!(ceremony["options"]["publicKey"]["rp"]["id"], "localhost");
    let answer = passkey.create(&ceremony["options"]);
    let body =
        json!({"challenge_id": ceremony["challenge_id"], "name": name, "credential": answer});
    let (status, added) = api.post("/api/v1/me/passkeys", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["name"], name);
    assert_eq!(added["cloned"], false);
    let (status, again) = api.post("/api/v1/me/passkeys", body).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("challenge_invalid")),
        "a registration challenge is spent once"
    );
    added
}

/// A challenge for an assertion, and the options it came with.
async fn challenge(api: &Api) -> Value {
    let (status, ceremony) = api.post("/api/v1/auth/passkey/challenge", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    assert_eq!(
        ceremony["options"]["publicKey"]["userVerification"],
        "required"
    );
    ceremony
}

/// Signs in with `answer` to `ceremony` on a new client: the status and answer.
async fn sign_in_with(server: &Server, ceremony: &Value, answer: Value) -> (StatusCode, Value) {
    server
        .client()
        .post(
            "/api/v1/auth/passkey",
            json!({"challenge_id": ceremony["challenge_id"], "credential": answer}),
        )
        .await
}

/// Signs in with `passkey`, no password; the session.
async fn passkey_session(server: &Server, passkey: &mut SoftPasskey) -> Api {
    let ceremony = challenge(&server.client()).await;
    let (status, body) = sign_in_with(server, &ceremony, passkey.get(&ceremony["options"])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["second_factor"],
        Value::Null,
        "the passkey was the second factor"
    );
    let mut api = server.client();
    api.token = Some(body["token"].as_str().unwrap().to_owned());
    api
}

fn code_of(answer: &(StatusCode, Value)) -> (StatusCode, Option<&str>) {
    (answer.0, answer.1["code"].as_str())
}

/// The audit entries of `action`.
async fn audited(admin: &Api, action: &str) -> Vec<Value> {
    let (status, entries) = admin.get(&format!("/api/v1/audit?action={action}")).await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    entries.as_array().unwrap().clone()
}

async fn a_passkey_signs_in_and_passes_the_second_factor_until_it_is_removed(storage: Storage) {
    let server = start(&storage);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (nurse, _) = active_user(&server, &admin, &org, "ito").await;
    let mut phone = SoftPasskey::new("ito phone", &origin(&server));
    let added = enroll(&nurse, &mut phone, "iPhone").await;
    let (status, listed) = nurse.get("/api/v1/me/passkeys").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], added["id"]);
    assert_eq!(listed[0]["name"], "iPhone");

    // With a passkey, a password alone no longer signs in: the passkey is the second factor.
    let mut password = server.client();
    let (status, login) = password
        .post(
            "/api/v1/auth/login",
            json!({"login": "ito", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["second_factor"], "verify");
    password.token = Some(login["token"].as_str().unwrap().to_owned());
    assert_eq!(
        code_of(&password.get("/api/v1/me").await),
        (StatusCode::FORBIDDEN, Some("second_factor_required"))
    );
    let (_, status_now) = password.get("/api/v1/auth/second-factor").await;
    assert_eq!(status_now["passkeys"], 1, "{status_now}");
    assert_eq!(status_now["enrolled"], false, "no authenticator app");
    assert_eq!(
        code_of(
            &password
                .post("/api/v1/me/second-factor/enrollment", json!({}))
                .await
        ),
        (StatusCode::FORBIDDEN, Some("second_factor_required")),
        "an authenticator app is no way around the passkey"
    );
    let ceremony = challenge(&password).await;
    let answer = phone.get(&ceremony["options"]);
    let body = json!({"challenge_id": ceremony["challenge_id"], "credential": answer});
    let (status, passed) = password
        .post("/api/v1/auth/second-factor/passkey", body.clone())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{passed}");
    assert_eq!(password.get("/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(
        code_of(
            &password
                .post("/api/v1/auth/second-factor/passkey", body)
                .await
        ),
        (StatusCode::FORBIDDEN, Some("challenge_invalid")),
        "an assertion is accepted once"
    );

    // Password-less: the passkey names its user.
    let session = passkey_session(&server, &mut phone).await;
    let (status, me) = session.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["login"], "ito");
    let logins = audited(&admin, "auth.login").await;
    assert!(
        logins
            .iter()
            .any(|e| e["details"]["method"] == "passkey" && e["target_id"].is_string()),
        "{logins:?}"
    );

    // Another page's origin, or a replayed answer, is refused.
    let ceremony = challenge(&server.client()).await;
    let mut elsewhere = phone.clone();
    elsewhere.origin = "http://evil.localhost:8080".into();
    let answer = elsewhere.get(&ceremony["options"]);
    assert_eq!(
        code_of(&sign_in_with(&server, &ceremony, answer.clone()).await),
        (StatusCode::FORBIDDEN, Some("passkey_refused"))
    );
    assert_eq!(
        code_of(&sign_in_with(&server, &ceremony, answer).await),
        (StatusCode::FORBIDDEN, Some("challenge_invalid"))
    );

    // Removed, it signs in no more, and the password alone does again.
    let id = added["id"].as_str().unwrap();
    let (status, body) = session.delete(&format!("/api/v1/me/passkeys/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        code_of(&session.delete(&format!("/api/v1/me/passkeys/{id}")).await),
        (StatusCode::NOT_FOUND, Some("passkey_not_found"))
    );
    let ceremony = challenge(&server.client()).await;
    let answer = phone.get(&ceremony["options"]);
    assert_eq!(
        code_of(&sign_in_with(&server, &ceremony, answer).await),
        (StatusCode::FORBIDDEN, Some("passkey_refused"))
    );
    let failures = audited(&admin, "auth.passkey_failed").await;
    let reasons: Vec<&str> = failures
        .iter()
        .filter_map(|e| e["details"]["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"unknown_passkey"), "{failures:?}");
    assert!(reasons.contains(&"assertion_invalid"), "{failures:?}");
    assert_eq!(audited(&admin, "auth.passkey_added").await.len(), 1);
    assert_eq!(audited(&admin, "auth.passkey_removed").await.len(), 1);
    let (_, login) = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": "ito", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(login["second_factor"], Value::Null, "{login}");
    let (_, listed) = session.get("/api/v1/me/passkeys").await;
    assert_eq!(listed, json!([]));
}

async fn a_cloned_authenticator_is_refused_flagged_and_audited(storage: Storage) {
    let server = start(&storage);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (doctor, _) = active_user(&server, &admin, &org, "sato").await;
    let mut key = SoftPasskey::new("sato key", &origin(&server));
    let added = enroll(&doctor, &mut key, "USB key").await;
    let copy = key.clone();
    passkey_session(&server, &mut key).await;
    passkey_session(&server, &mut key).await;

    // The copy answers with a counter the original has passed: refused and flagged.
    let ceremony = challenge(&server.client()).await;
    let answer = copy.get_at(&ceremony["options"], 1);
    assert_eq!(
        code_of(&sign_in_with(&server, &ceremony, answer).await),
        (StatusCode::FORBIDDEN, Some("passkey_cloned"))
    );
    let cloned = audited(&admin, "auth.passkey_cloned").await;
    assert_eq!(cloned.len(), 1, "{cloned:?}");
    assert_eq!(cloned[0]["target_id"], added["id"]);
    let (_, listed) = doctor.get("/api/v1/me/passkeys").await;
    assert_eq!(listed[0]["cloned"], true, "{listed}");

    // Flagged, it is refused even with a counter that moves on; the password alone signs in
    // (a flagged passkey is no second factor).
    let ceremony = challenge(&server.client()).await;
    let answer = key.get(&ceremony["options"]);
    assert_eq!(
        code_of(&sign_in_with(&server, &ceremony, answer).await),
        (StatusCode::FORBIDDEN, Some("passkey_refused"))
    );
    let (_, login) = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": "sato", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(login["second_factor"], Value::Null, "{login}");
}

/// Sets the organization's second-factor rule.
async fn require_second_factor(admin: &Api, org: &str) {
    let path = format!("/api/v1/orgs/{org}");
    let (_, current) = admin.get(&path).await;
    let mut policy = current["policy"].clone();
    policy["second_factor_required"] = json!(true);
    let (status, saved) = admin
        .patch(
            &path,
            json!({ "policy": policy }),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
}

async fn a_passkey_meets_the_organizations_second_factor_rule(storage: Storage) {
    let server = start(&storage);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    active_user(&server, &admin, &org, "kato").await;
    require_second_factor(&admin, &org).await;

    // Owing a second factor and having none, the session may enroll a passkey, and passes.
    let mut api = server.client();
    let (_, login) = api
        .post(
            "/api/v1/auth/login",
            json!({"login": "kato", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(login["second_factor"], "enroll", "{login}");
    api.token = Some(login["token"].as_str().unwrap().to_owned());
    let mut phone = SoftPasskey::new("kato phone", &origin(&server));
    enroll(&api, &mut phone, "Pixel").await;
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::OK);

    // From then on the rule is met by the passkey: after the password, or instead of it.
    let (_, login) = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": "kato", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(login["second_factor"], "verify", "{login}");
    let session = passkey_session(&server, &mut phone).await;
    let (status, me) = session.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let (_, factor) = session.get("/api/v1/auth/second-factor").await;
    assert_eq!(factor["required"], true, "{factor}");
    assert_eq!(factor["passed"], true, "{factor}");
}
