//! The OpenAPI document describes the API that runs: its enums name what the server sends and
//! accepts, and every parameter is declared where a client must put it (path or query).

mod common;

use common::{Api, Server, Storage, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    every_parameter_is_declared_where_it_is_sent,
    enums_name_what_the_server_sends_and_accepts,
);

/// The served document.
async fn document(server: &Server) -> Value {
    let (status, spec) = server.client().get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{spec}");
    spec
}

/// Every operation of the document: (method, path template, its parameters).
fn operations(spec: &Value) -> Vec<(String, String, Vec<Value>)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if let Some(op) = item.get(method) {
                let mut params = shared.clone();
                params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
                ops.push((method.to_owned(), path.clone(), params));
            }
        }
    }
    ops
}

/// The `{names}` of a path template.
fn template_names(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

async fn every_parameter_is_declared_where_it_is_sent(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let spec = document(&server).await;
    let ops = operations(&spec);
    assert!(ops.len() > 50, "the document lists the API: {}", ops.len());
    let mut wrong = Vec::new();
    for (method, path, params) in &ops {
        let in_path: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str())
            .collect();
        for name in &in_path {
            if !template_names(path).contains(name) {
                wrong.push(format!("{method} {path}: `{name}` is declared in path"));
            }
        }
        for name in template_names(path) {
            if !in_path.contains(&name) {
                wrong.push(format!("{method} {path}: `{{{name}}}` is not declared"));
            }
        }
        for p in params {
            let place = p["in"].as_str().unwrap_or_default();
            if !["path", "query", "header", "cookie"].contains(&place) {
                wrong.push(format!("{method} {path}: `{}` is in {place:?}", p["name"]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "misplaced parameters:\n{}",
        wrong.join("\n")
    );
    // The parameters a client builds URLs with are queries where the server reads them.
    for (method, path, name) in [
        ("get", "/api/v1/directory", "q"),
        ("get", "/api/v1/directory", "offset"),
        ("get", "/api/v1/orgs/{id}/users", "limit"),
        ("get", "/api/v1/conversations/{id}/messages", "before_seq"),
        ("get", "/api/v1/conversations/{id}/events", "after_seq"),
        ("post", "/api/v1/orgs/{id}/users/import", "dry_run"),
        ("post", "/api/v1/media", "name"),
        ("get", "/api/v1/media/{id}", "conversation"),
        ("get", "/api/v1/search/messages", "conversation_id"),
    ] {
        let (_, _, params) = ops
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .unwrap_or_else(|| panic!("{method} {path} missing"));
        let param = params.iter().find(|p| p["name"] == name);
        assert_eq!(
            param.map(|p| &p["in"]),
            Some(&json!("query")),
            "{method} {path} ?{name}"
        );
    }
}

/// The values the document allows for the component schema `name`.
fn enum_of(spec: &Value, name: &str) -> Vec<String> {
    spec["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is not an enum in the document"))
        .iter()
        .map(|v| v.as_str().expect("string enum").to_owned())
        .collect()
}

/// Asserts that the server's `value` is one the document's enum `name` allows.
fn assert_listed(spec: &Value, name: &str, value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("{name}: {value}"));
    let allowed = enum_of(spec, name);
    assert!(
        allowed.iter().any(|a| a == text),
        "the server sent {name} {text:?}; the document allows {allowed:?}"
    );
}

/// The document's value of enum `name` that `wanted` is, as a client would pick it.
fn listed(spec: &Value, name: &str, wanted: &str) -> String {
    let allowed = enum_of(spec, name);
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(&wanted.replace(['_', '.'], "")) || *a == wanted)
        .cloned()
        .unwrap_or_else(|| panic!("{name} has no {wanted}: {allowed:?}"))
}

async fn enums_name_what_the_server_sends_and_accepts(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let spec = document(&server).await;
    let admin = server.first_admin().await;
    let org = admin.org_id().await;

    // Every enum of the document is written the way the server writes its names.
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        for value in schema["enum"].as_array().into_iter().flatten() {
            let text = value.as_str().unwrap_or_default();
            assert!(
                !text.is_empty()
                    && text
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.".contains(c)),
                "{name} lists {value}, which the server never sends"
            );
        }
    }

    // A user: roles, profession and status as read back.
    let role = listed(&spec, "Role", "org_admin");
    let profession = listed(&spec, "Profession", "doctor");
    let (colleague, made) = active_user(&server, &admin, &org, "sato").await;
    let id = made["id"].as_str().unwrap();
    let (_, made) = admin.get(&format!("/api/v1/users/{id}")).await;
    let (status, user) = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            json!({"roles": [role], "profession": profession}),
            made["version"].as_i64(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the document's values are accepted: {user}"
    );
    let (_, user) = admin.get(&format!("/api/v1/users/{id}")).await;
    for role in user["roles"].as_array().unwrap() {
        assert_listed(&spec, "Role", role);
    }
    assert_listed(&spec, "Profession", &user["profession"]);
    assert_listed(&spec, "UserStatus", &user["status"]);
    // Every profession the document lists is one the server takes.
    let mut version = user["version"].as_i64().unwrap();
    for profession in enum_of(&spec, "Profession") {
        let (status, saved) = admin
            .patch(
                &format!("/api/v1/users/{id}"),
                json!({"profession": profession}),
                Some(version),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "profession {profession}: {saved}");
        version = saved["version"].as_i64().unwrap();
    }

    // A group created with the document's kind, and its view.
    let kind = listed(&spec, "ConversationKind", "group");
    let (status, view) = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": kind, "title": "病棟連絡", "member_ids": [id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_listed(&spec, "ConversationKind", &view["kind"]);
    assert_listed(&spec, "MemberRole", &view["my_role"]);
    assert_listed(&spec, "NotifyLevel", &view["notify"]);
    let conv = view["id"].as_str().unwrap();

    // A message with the document's priority, and the timeline's event kinds.
    let urgent = listed(&spec, "Priority", "urgent");
    let (status, ack) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": "oapi-1", "body": "至急", "priority": urgent}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    assert_listed(&spec, "Priority", &ack["message"]["priority"]);
    let events = timeline(&colleague, conv).await;
    assert!(events.len() >= 2, "{events:?}");
    for event in &events {
        assert_listed(&spec, "EventKind", &event["kind"]);
    }
    let (_, members) = colleague
        .get(&format!("/api/v1/conversations/{conv}/members"))
        .await;
    for member in members.as_array().unwrap() {
        assert_listed(&spec, "MemberRole", &member["role"]);
    }
}

/// Every event of a conversation, as a member reads them.
async fn timeline(api: &Api, conv: &str) -> Vec<Value> {
    let (status, events) = api
        .get(&format!("/api/v1/conversations/{conv}/events?after_seq=0"))
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    events.as_array().unwrap().clone()
}
