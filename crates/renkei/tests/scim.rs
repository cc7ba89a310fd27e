//! Provisioning with SCIM 2.0 against the real server: recorded Entra ID and Okta request
//! sequences replayed (tests/fixtures/scim), tokens that belong to one organization, bad
//! bodies refused in SCIM's error format with nothing changed, and a deactivation that ends
//! the user's sessions.

mod common;

use std::collections::HashMap;

use common::partners::{org, org_admin};
use common::{Api, Server, Storage, active_user};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    entra_id_requests_replay,
    okta_requests_replay,
    a_token_opens_only_its_own_organization,
    bad_bodies_are_refused_and_change_nothing,
    deactivating_a_linked_account_ends_its_sessions,
);

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// An identity provider: the tenant URL's path and the token.
struct Provider {
    api: Api,
    base: String,
    token: String,
}

impl Provider {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send_with(&self.token, method, path, body).await
    }

    async fn send_with(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = self.api.url(&format!("{}{path}", self.base));
        let mut req = self.api.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        if status != StatusCode::NO_CONTENT {
            let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(kind, "application/scim+json", "{path}");
        }
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The organization's tenant URL and a new token, made in the admin API.
async fn provider(server: &Server, admin: &Api, org: &str) -> Provider {
    let (status, made) = admin
        .post(&format!("/api/v1/orgs/{org}/scim/token"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["status"], "active");
    Provider {
        api: server.client(),
        base: made["path"].as_str().unwrap().to_owned(),
        token: made["token"].as_str().unwrap().to_owned(),
    }
}

/// Whether `actual` holds everything `expected` says: objects key by key, lists element by
/// element with the same length, other values equal.
fn holds(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|got| holds(got, v))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(got, v)| holds(got, v))
        }
        _ => actual == expected,
    }
}

/// `text` with every `{name}` replaced by what was saved under `name`.
fn filled(text: &str, saved: &HashMap<String, String>) -> String {
    saved.iter().fold(text.to_owned(), |t, (name, value)| {
        t.replace(&format!("{{{name}}}"), value)
    })
}

/// Replays a recorded sequence; returns the ids it saved.
async fn replay(provider: &Provider, fixture: &str) -> HashMap<String, String> {
    let path = format!(
        "{}/tests/fixtures/scim/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut saved = HashMap::new();
    for (i, step) in recorded["steps"].as_array().unwrap().iter().enumerate() {
        let step: Value = serde_json::from_str(&filled(&step.to_string(), &saved)).unwrap();
        let method = Method::from_bytes(step["method"].as_str().unwrap().as_bytes()).unwrap();
        let path = step["path"].as_str().unwrap();
        let body = step.get("body").cloned();
        let (status, got) = provider.send(method.clone(), path, body).await;
        let what = format!("{fixture} step {i} ({method} {path}, {})", step["note"]);
        assert_eq!(
            status.as_u16() as u64,
            step["status"].as_u64().unwrap(),
            "{what}: {got}"
        );
        if let Some(expected) = step.get("expect") {
            assert!(
                holds(&got, expected),
                "{what}: got {got}, expected {expected}"
            );
        }
        for absent in step["absent"].as_array().into_iter().flatten() {
            assert!(got.get(absent.as_str().unwrap()).is_none(), "{what}: {got}");
        }
        for (name, field) in step["save"].as_object().into_iter().flatten() {
            let value = got[field.as_str().unwrap()].as_str().unwrap().to_owned();
            saved.insert(name.clone(), value);
        }
    }
    saved
}

/// The id of the organization's current SCIM token: the target of its last rotation.
async fn token_id(admin: &Api, org: &str) -> String {
    let (status, entries) = admin
        .get(&format!(
            "/api/v1/audit?org_id={org}&action=scim.token_rotated&limit=1"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    entries[0]["target_id"].as_str().unwrap().to_owned()
}

/// The actions of the audit entries whose actor is `actor`.
async fn actions_by(admin: &Api, org: &str, actor: &str) -> Vec<String> {
    let (status, entries) = admin
        .get(&format!(
            "/api/v1/audit?org_id={org}&actor_id={actor}&limit=1000"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn entra_id_requests_replay(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let entra = provider(&server, &admin, &org).await;
    let saved = replay(&entra, "entra.json").await;

    let (status, user) = admin.get(&format!("/api/v1/users/{}", saved["user"])).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["login"], "takahashi.ichiro@hospital.example");
    assert_eq!(user["display_name"], "高橋 一郎");
    assert_eq!(user["kana"], "たなか いちろう");
    assert_eq!(user["profession"], "doctor");
    assert_eq!(user["staff_number"], "10042");
    assert_eq!(user["status"], "retired", "DELETE retires, never deletes");

    let (_, departments) = admin.get(&format!("/api/v1/orgs/{org}/departments")).await;
    let names: Vec<&str> = departments
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    for name in ["循環器内科", "救急科", "放射線部"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }

    let token = token_id(&admin, &org).await;
    let actions = actions_by(&admin, &org, &token).await;
    for action in [
        "user.create",
        "user.update",
        "user.status",
        "department.create",
        "department.update",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

async fn okta_requests_replay(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let okta = provider(&server, &admin, &org).await;
    let saved = replay(&okta, "okta.json").await;

    let (status, user) = admin.get(&format!("/api/v1/users/{}", saved["user"])).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["display_name"], "佐藤 華子");
    assert_eq!(user["email"], "sato.hanako@hospital.example");
    assert_eq!(user["profession"], "other", "the default without a mapping");
    assert_eq!(user["status"], "retired");
    assert_eq!(user["department_id"], Value::Null);
    let (_, users) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    let copies = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["login"] == "sato.hanako@hospital.example")
        .count();
    assert_eq!(copies, 1, "the second POST made no duplicate");
}

async fn a_token_opens_only_its_own_organization(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let ours = provider(&server, &admin, &org).await;
    let other_org = org_of(&admin, "beppu").await;
    let other_admin = org_admin(&server, &admin, &other_org, "beppu-admin").await;
    let theirs = provider(&server, &other_admin, &other_org).await;

    let (status, _) = ours.send(Method::GET, "/Users", None).await;
    assert_eq!(status, StatusCode::OK);
    let refused = [
        ("no such token", "rks_not-a-token".to_owned()),
        ("another organization's token", theirs.token.clone()),
        ("a session's token", admin.token.clone().unwrap()),
    ];
    for (what, token) in refused {
        let (status, body) = ours.send_with(&token, Method::GET, "/Users", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["schemas"], json!([ERROR]), "{what}");
        assert_eq!(body["status"], "401", "{what}");
    }

    let (_, setup) = admin.get(&format!("/api/v1/orgs/{org}/scim")).await;
    assert_eq!(setup["path"], format!("/scim/v2/{org}"));
    assert!(setup["last_used_at"].is_string(), "{setup}");
    assert!(
        setup.get("token").is_none(),
        "the token is shown once: {setup}"
    );

    let rotated = provider(&server, &admin, &org).await;
    let (status, _) = ours.send(Method::GET, "/Users", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a rotated token stops at once"
    );
    let (status, _) = rotated
        .send(Method::GET, "/ServiceProviderConfig", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin
        .delete(&format!("/api/v1/orgs/{org}/scim/token"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = rotated.send(Method::GET, "/Users", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops at once"
    );
    let (_, setup) = admin.get(&format!("/api/v1/orgs/{org}/scim")).await;
    assert_eq!(setup["status"], "none");

    // Another organization's administrator cannot make a token here.
    let (status, _) = other_admin
        .post(&format!("/api/v1/orgs/{org}/scim/token"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The server administrator is never changed by provisioning.
    let theirs_again = provider(&server, &admin, &org).await;
    let (_, me) = admin.get("/api/v1/me").await;
    let admin_id = me["user"]["id"].as_str().unwrap();
    let (status, body) = theirs_again
        .send(
            Method::PATCH,
            &format!("/Users/{admin_id}"),
            Some(deactivate("False")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["scimType"], "mutability");
    let (status, _) = admin.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
}

async fn org_of(admin: &Api, slug: &str) -> String {
    org(admin, "Beppu Clinic", slug, "hospital").await
}

fn deactivate(active: &str) -> Value {
    json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": active}]})
}

async fn bad_bodies_are_refused_and_change_nothing(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let scim = provider(&server, &admin, &org).await;
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "kato@hospital.example", "displayName": "加藤 三郎", "active": true,
    });
    let (status, made) = scim.send(Method::POST, "/Users", Some(user.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let before = scim.send(Method::GET, &path, None).await.1;
    let audit_before = audit_len(&admin, &org).await;

    let with = |k: &str, v: Value| {
        let mut u = user.clone();
        u["userName"] = json!("ito@hospital.example");
        u[k] = v;
        u
    };
    let patch = |ops: Value| json!({"schemas": [PATCH], "Operations": ops});
    let bad: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/Users".into(),
            json!("not an object"),
            "invalidSyntax",
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({"displayName": "名無し"}),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Users".into(),
            with("userName", json!("a b c")),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Users".into(),
            with("emails", json!([{"value": "not-an-address"}])),
            "invalidValue",
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"userName": "kato@hospital.example", "active": "maybe"}),
            "invalidValue",
        ),
        (
            Method::PATCH,
            path.clone(),
            patch(json!([{"op": "Replace", "path": "active", "value": "perhaps"}])),
            "invalidValue",
        ),
        (
            Method::PATCH,
            path.clone(),
            patch(json!([{"op": "Move", "path": "active", "value": false}])),
            "invalidSyntax",
        ),
        (
            Method::PATCH,
            path.clone(),
            patch(json!([
                {"op": "Replace", "path": "displayName", "value": "変わってはいけない"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "broken"},
            ])),
            "invalidValue",
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"Operations": []}),
            "invalidSyntax",
        ),
        (
            Method::POST,
            "/Groups".into(),
            json!({"displayName": "内科", "members": [{"value": "00000000-0000-7000-8000-000000000000"}]}),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Groups".into(),
            json!({"members": []}),
            "invalidValue",
        ),
    ];
    for (method, at, body, scim_type) in bad {
        let (status, answer) = scim.send(method.clone(), &at, Some(body.clone())).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {at} {body}: {answer}"
        );
        assert_eq!(answer["schemas"], json!([ERROR]), "{answer}");
        assert_eq!(answer["status"], "400");
        assert_eq!(
            answer["scimType"], scim_type,
            "{method} {at} {body}: {answer}"
        );
        assert!(answer["detail"].is_string());
    }
    let (status, answer) = scim
        .send(Method::GET, "/Users?filter=userName sw \"k\"", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["scimType"], "invalidFilter");

    assert_eq!(scim.send(Method::GET, &path, None).await.1, before);
    assert_eq!(
        audit_len(&admin, &org).await,
        audit_before,
        "nothing audited"
    );
    let (_, list) = scim.send(Method::GET, "/Users", None).await;
    assert_eq!(list["totalResults"], 2, "the admin and kato only: {list}");
    let (_, groups) = scim.send(Method::GET, "/Groups", None).await;
    assert_eq!(groups["totalResults"], 0, "{groups}");
}

/// How many audit entries the organization has.
async fn audit_len(admin: &Api, org: &str) -> usize {
    let (status, entries) = admin
        .get(&format!("/api/v1/audit?org_id={org}&limit=1000"))
        .await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    entries.as_array().unwrap().len()
}

async fn deactivating_a_linked_account_ends_its_sessions(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (nurse, made) = active_user(&server, &admin, &org, "suzuki").await;
    let (status, _) = admin
        .patch(
            &format!("/api/v1/users/{}", made["id"].as_str().unwrap()),
            json!({"email": "suzuki.yoko@hospital.example"}),
            made["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (mut ws, _) = common::Ws::connect(&server, nurse.token.as_deref().unwrap(), None).await;
    let scim = provider(&server, &admin, &org).await;

    // The identity provider's userName is the e-mail address: the account is found, linked.
    let (status, found) = scim
        .send(
            Method::GET,
            "/Users?filter=userName eq \"Suzuki.Yoko@hospital.example\"",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], made["id"]);
    let path = format!("/Users/{}", made["id"].as_str().unwrap());
    let link = json!({"schemas": [PATCH], "Operations": [{"op": "Add", "path": "externalId", "value": "e-77"}]});
    let (status, linked) = scim.send(Method::PATCH, &path, Some(link)).await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    assert_eq!(linked["externalId"], "e-77");
    let (status, _) = nurse.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "linking changes no session");

    let (status, off) = scim
        .send(Method::PATCH, &path, Some(deactivate("False")))
        .await;
    assert_eq!(status, StatusCode::OK, "{off}");
    assert_eq!(off["active"], false);
    let (status, _) = nurse.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    assert_eq!(
        ws.next_or_close().await.unwrap_err().0,
        4001,
        "the socket closed"
    );
    let (_, user) = admin
        .get(&format!("/api/v1/users/{}", made["id"].as_str().unwrap()))
        .await;
    assert_eq!(user["status"], "retired");
}
