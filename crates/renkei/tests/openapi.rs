//! The OpenAPI document describes the API that runs: its enums name what the server sends and
//! accepts, and every parameter is declared where a client must put it (path or query).

mod common;

use common::{Api, Server, Storage, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    every_parameter_is_declared_where_it_is_sent,
    enums_name_what_the_server_sends_and_accepts,
    real_bodies_match_the_documents_schemas,
    administration_bodies_and_refusals_match_the_document,
    malformed_paths_bodies_and_missing_sessions_are_documented_json_refusals,
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

/// Where `value` breaks `schema`, with `$ref`s resolved into the document's components.
///
/// A small subset of JSON Schema, the one utoipa writes: `$ref`, `allOf`, `oneOf` (exactly
/// one branch), `anyOf` (at least one), `type`, `enum`, `required`, `properties`, `items`, and no field
/// the schema does not declare when it declares its fields.
fn violations(spec: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    check(spec, schema, value, at, out, true);
}

/// [`violations`]; `whole` is false for one part of an `allOf`, which sees only its fields.
fn check(
    spec: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    out: &mut Vec<String>,
    whole: bool,
) {
    let schema = resolve(spec, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(spec, part, value, at, out, false);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            let fitting = branches
                .iter()
                .filter(|b| {
                    let mut found = Vec::new();
                    violations(spec, b, value, at, &mut found);
                    found.is_empty()
                })
                .count();
            if fitting == 0 {
                out.push(format!("{at}: {value} fits no branch of {key}"));
            } else if key == "oneOf" && fitting > 1 {
                out.push(format!("{at}: {value} fits {fitting} branches of oneOf"));
            }
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| of_type(t, value)) {
        out.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Value::Object(fields) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            if !fields.contains_key(name.as_str().unwrap_or_default()) {
                out.push(format!("{at}: required {name} is missing"));
            }
        }
        let declared = declared_fields(spec, schema).filter(|_| whole);
        for (name, field) in fields {
            if let Some(sub) = schema["properties"].get(name) {
                violations(spec, sub, field, &format!("{at}.{name}"), out);
            }
            if let Some(declared) = &declared
                && !declared.contains(name)
            {
                out.push(format!("{at}: field {name:?} is not in the document"));
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, element) in items.iter().enumerate() {
            violations(spec, item, element, &format!("{at}[{i}]"), out);
        }
    }
}

/// The schema a `$ref` points to, or the schema itself.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(target) => {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {target}"));
            resolve(spec, &spec["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Every field an object schema declares, through `allOf`; `None` when it takes any field.
fn declared_fields(spec: &Value, schema: &Value) -> Option<Vec<String>> {
    let schema = resolve(spec, schema);
    let parts = schema["allOf"].as_array();
    if schema.get("properties").is_none() && parts.is_none() {
        return None;
    }
    if schema["additionalProperties"].is_object() || schema["additionalProperties"] == true {
        return None;
    }
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in parts.into_iter().flatten() {
        names.extend(declared_fields(spec, part)?);
    }
    Some(names)
}

/// Whether `value` is of the JSON Schema type `name`.
fn of_type(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// The document's operation for a concrete `path` such as `/api/v1/users/0190…`.
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> &'a Value {
    let path = path.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || t.starts_with('{'))
        })
        // A literal segment (`/users/import`) wins over a template (`/users/{id}`).
        .min_by_key(|(template, _)| template.matches('{').count())
        .and_then(|(_, item)| item.get(method))
        .unwrap_or_else(|| panic!("{method} {path} is not in the document"))
}

/// The served document, and what real calls found it does not describe.
struct Contract {
    spec: Value,
    wrong: Vec<String>,
}

impl Contract {
    /// Sends a JSON request that must succeed, and checks both bodies against the document.
    async fn call(&mut self, api: &Api, method: &str, path: &str, body: Option<Value>) -> Value {
        self.exchange(api, method, path, body, None).await
    }

    /// Sends a JSON request that must be refused with `status`, and checks both bodies.
    async fn refused(&mut self, api: &Api, method: &str, path: &str, body: Value, status: u16) {
        self.exchange(api, method, path, Some(body), Some(status))
            .await;
    }

    /// Sends a request; `expect`ed status or any success; checks the bodies against the document.
    async fn exchange(
        &mut self,
        api: &Api,
        method: &str,
        path: &str,
        body: Option<Value>,
        expect: Option<u16>,
    ) -> Value {
        let spec = &self.spec;
        let op = operation(spec, method, path);
        let mut wrong = Vec::new();
        if let Some(body) = &body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert!(
                !schema.is_null(),
                "{method} {path} has no JSON request body"
            );
            violations(spec, schema, body, "request", &mut wrong);
        }
        let req = api
            .http
            .request(method.to_uppercase().parse().unwrap(), api.url(path))
            .bearer_auth(api.token.as_deref().unwrap_or_default());
        let req = match &body {
            Some(body) => req.json(body),
            None => req,
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let reply: Value = resp.json().await.unwrap_or(Value::Null);
        match expect {
            Some(code) => assert_eq!(status.as_u16(), code, "{method} {path}: {reply}"),
            None => assert!(status.is_success(), "{method} {path}: {status} {reply}"),
        }
        let declared = &op["responses"][status.as_str()];
        let schema = &declared["content"]["application/json"]["schema"];
        if declared.is_null() {
            wrong.push(format!("{status} is not in the document"));
        } else if schema.is_null() {
            wrong.push(format!("{status} has no JSON schema"));
        } else {
            violations(spec, schema, &reply, "response", &mut wrong);
        }
        let at = path.split('?').next().unwrap();
        self.wrong
            .extend(wrong.into_iter().map(|w| format!("{method} {at}: {w}")));
        reply
    }
}

impl Contract {
    /// Fails with every mismatch the calls found.
    fn finish(&self) {
        assert!(
            self.wrong.is_empty(),
            "the document does not describe these bodies:\n{}",
            self.wrong.join("\n")
        );
    }
}

/// A running server with its document, an administrator and a colleague `sato`.
struct Scene {
    server: Server,
    /// Outlives the server: its data folder.
    _storage: Storage,
    c: Contract,
    admin: Api,
    colleague: Api,
    org: String,
    id: String,
}

impl Scene {
    async fn start(storage: Storage) -> Scene {
        let server = Server::start(&storage, &[]);
        let c = Contract {
            spec: document(&server).await,
            wrong: Vec::new(),
        };
        let admin = server.first_admin().await;
        let org = admin.org_id().await;
        let (colleague, made) = active_user(&server, &admin, &org, "sato").await;
        let id = made["id"].as_str().unwrap().to_owned();
        Scene {
            server,
            _storage: storage,
            c,
            admin,
            colleague,
            org,
            id,
        }
    }
}

async fn real_bodies_match_the_documents_schemas(storage: Storage) {
    let mut s = Scene::start(storage).await;
    let (c, admin, colleague) = (&mut s.c, &s.admin, &s.colleague);
    let (org, id) = (s.org.as_str(), s.id.as_str());

    c.call(admin, "get", "/api/v1/me", None).await;
    let user = c
        .call(admin, "get", &format!("/api/v1/users/{id}"), None)
        .await;
    c.call(colleague, "get", &format!("/api/v1/users/{id}"), None)
        .await;
    c.call(
        admin,
        "get",
        &format!("/api/v1/orgs/{org}/users?limit=5"),
        None,
    )
    .await;
    c.call(colleague, "get", "/api/v1/directory?q=sato", None)
        .await;
    let edit = json!({"profession": "doctor", "roles": ["org_admin"]});
    let users = format!("/api/v1/users/{id}");
    let (status, saved) = admin.patch(&users, edit, user["version"].as_i64()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");

    let new = json!({"kind": "group", "title": "病棟連絡", "member_ids": [id]});
    let view = c
        .call(admin, "post", "/api/v1/conversations", Some(new))
        .await;
    let conv = view["id"].as_str().unwrap();
    let message = json!({"client_msg_id": "oapi-1", "body": "至急 @sato", "priority": "urgent", "mentions": [id]});
    let messages = format!("/api/v1/conversations/{conv}/messages");
    c.call(colleague, "post", &messages, Some(message)).await;
    c.call(admin, "get", &messages, None).await;
    c.call(admin, "get", "/api/v1/conversations", None).await;
    c.call(
        colleague,
        "get",
        &format!("/api/v1/conversations/{conv}"),
        None,
    )
    .await;
    let events = format!("/api/v1/conversations/{conv}/events?after_seq=0");
    c.call(colleague, "get", &events, None).await;
    let members = format!("/api/v1/conversations/{conv}/members");
    c.call(admin, "get", &members, None).await;
    c.call(
        admin,
        "get",
        "/api/v1/search/messages?q=%E8%87%B3%E6%80%A5",
        None,
    )
    .await;
    c.finish();
}

async fn administration_bodies_and_refusals_match_the_document(storage: Storage) {
    let mut s = Scene::start(storage).await;
    let (c, admin, colleague) = (&mut s.c, &s.admin, &s.colleague);
    let (org, id) = (s.org.as_str(), s.id.as_str());
    let anon = s.server.client();

    let login = json!({"login": "sato", "password": common::USER_PASSWORD});
    c.call(&anon, "post", "/api/v1/auth/login", Some(login))
        .await;
    let wrong = json!({"login": "sato", "password": "not the password"});
    c.refused(&anon, "post", "/api/v1/auth/login", wrong, 401)
        .await;
    for path in [
        "/api/v1/orgs".to_owned(),
        format!("/api/v1/orgs/{org}"),
        format!("/api/v1/orgs/{org}/departments"),
        format!("/api/v1/orgs/{org}/applications"),
        format!("/api/v1/orgs/{org}/sign-in-holds"),
        format!("/api/v1/orgs/{org}/gateways"),
        format!("/api/v1/orgs/{org}/dicom-peers"),
        format!("/api/v1/orgs/{org}/seats"),
        format!("/api/v1/orgs/{org}/stats"),
        "/api/v1/audit?limit=20".to_owned(),
        "/api/v1/audit/verify".to_owned(),
        "/api/v1/agreements".to_owned(),
        "/api/v1/councils".to_owned(),
        "/api/v1/cooperation/orgs".to_owned(),
        "/api/v1/studies".to_owned(),
    ] {
        c.call(admin, "get", &path, None).await;
    }
    let department = json!({"name": "循環器内科"});
    let departments = format!("/api/v1/orgs/{org}/departments");
    c.call(admin, "post", &departments, Some(department)).await;
    let taken = json!({"login": "sato", "display_name": "佐藤", "kana": "さとう", "profession": "nurse", "password": "one-time password"});
    let users = format!("/api/v1/orgs/{org}/users");
    c.refused(admin, "post", &users, taken, 409).await;

    let new = json!({"kind": "group", "title": "病棟連絡", "member_ids": [id]});
    let view = c
        .call(admin, "post", "/api/v1/conversations", Some(new))
        .await;
    let conv = view["id"].as_str().unwrap();
    let untitled = json!({"kind": "group", "member_ids": [id]});
    c.refused(admin, "post", "/api/v1/conversations", untitled, 422)
        .await;
    let message = json!({"client_msg_id": "oapi-2", "body": "申し送りです"});
    let messages = format!("/api/v1/conversations/{conv}/messages");
    let ack = c.call(colleague, "post", &messages, Some(message)).await;
    let seq = ack["seq"].as_i64().unwrap();
    let edit = json!({"body": "申し送りです（訂正）"});
    let one = format!("/api/v1/conversations/{conv}/messages/{seq}");
    c.call(colleague, "patch", &one, Some(edit)).await;
    let read = format!("/api/v1/conversations/{conv}/read");
    c.call(admin, "post", &read, Some(json!({"seq": seq})))
        .await;
    let receipts = format!("/api/v1/conversations/{conv}/messages/{seq}/receipts");
    c.call(colleague, "get", &receipts, None).await;
    let notify = format!("/api/v1/conversations/{conv}/notifications");
    c.call(
        colleague,
        "put",
        &notify,
        Some(json!({"level": "mentions"})),
    )
    .await;
    let role = format!("/api/v1/conversations/{conv}/members/{id}");
    c.call(admin, "put", &role, Some(json!({"role": "admin"})))
        .await;
    let unknown = format!("/api/v1/conversations/{}", renkei_core::new_id());
    c.exchange(colleague, "get", &unknown, None, Some(404))
        .await;
    c.finish();
}

/// A path parameter that does not parse (a malformed identifier, a sequence number or frame
/// that is not a number) names nothing: 404 `not_found` as JSON, as the document says, not
/// the framework's plain-text 400. A request without a session is the documented 401. A body
/// that is not a JSON object is refused.
async fn malformed_paths_bodies_and_missing_sessions_are_documented_json_refusals(
    storage: Storage,
) {
    let mut s = Scene::start(storage).await;
    let (c, admin, org) = (&mut s.c, &s.admin, s.org.as_str());
    let anon = s.server.client();
    let new = json!({"kind": "group", "title": "病棟連絡", "member_ids": [s.id]});
    let view = c
        .call(admin, "post", "/api/v1/conversations", Some(new))
        .await;
    let conv = view["id"].as_str().unwrap();
    let study = renkei_core::new_id();
    for (method, path) in [
        (
            "get",
            format!("/api/v1/conversations/{conv}/messages/x/receipts"),
        ),
        (
            "delete",
            format!("/api/v1/conversations/{conv}/messages/1.5"),
        ),
        (
            "post",
            format!("/api/v1/conversations/{conv}/messages/seven/ack"),
        ),
        (
            "delete",
            format!("/api/v1/conversations/{conv}/members/not-a-uuid"),
        ),
        ("delete", format!("/api/v1/orgs/{org}/redaction-rules/f")),
        (
            "delete",
            "/api/v1/orgs/not-a-uuid/dicom-peers/PACS".to_owned(),
        ),
        (
            "get",
            format!("/api/v1/studies/{study}/instances/1.2.3/frames/one/raw"),
        ),
        (
            "get",
            "/api/v1/studies/x/instances/1.2.3/waveforms".to_owned(),
        ),
    ] {
        let reply = c.exchange(admin, method, &path, None, Some(404)).await;
        assert_eq!(reply["code"], "not_found", "{method} {path}: {reply}");
    }
    for path in [
        "/api/v1/conversations".to_owned(),
        format!("/api/v1/orgs/{org}/users"),
    ] {
        let reply = c.exchange(&anon, "get", &path, None, Some(401)).await;
        assert_eq!(reply["code"], "unauthenticated", "{path}: {reply}");
    }
    // A body must be a JSON object: an array is refused and changes nothing (serde would fill
    // the settings from it by position, clearing them).
    let settings = "/api/v1/me/notifications";
    let (status, saved) = admin
        .put(settings, json!({"utc_offset_minutes": 540}))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, refused) = admin.put(settings, json!([null, null])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["code"], "invalid_json", "{refused}");
    let (_, now) = admin.get(settings).await;
    assert_eq!(now["utc_offset_minutes"], 540, "nothing changed: {now}");
    // The directory of an organization lists full records to its administrator: exactly one
    // of the documented shapes (a full record is also a directory entry).
    c.call(admin, "get", &format!("/api/v1/orgs/{org}/users"), None)
        .await;
    c.finish();
}

/// The validator finds each kind of mismatch, so a passing check means something.
#[test]
fn the_validator_reports_each_kind_of_mismatch() {
    let spec = json!({"components": {"schemas": {
        "Kind": {"type": "string", "enum": ["group", "direct"]},
        "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        "View": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object",
            "required": ["kind"], "properties": {
                "kind": {"$ref": "#/components/schemas/Kind"},
                "last": {"oneOf": [{"type": "null"}, {"type": "integer"}]},
                "list": {"oneOf": [{"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "integer"}}]},
                "tags": {"type": "array", "items": {"type": "string"}}}}]}
    }}});
    let view = json!({"$ref": "#/components/schemas/View"});
    let found = |value: Value| {
        let mut out = Vec::new();
        violations(&spec, &view, &value, "v", &mut out);
        out
    };
    assert_eq!(
        found(json!({"id": "a", "kind": "group", "last": null, "tags": ["x"]})),
        Vec::<String>::new()
    );
    for (value, wanted) in [
        (json!({"id": "a", "kind": "Group"}), "is not one of"),
        (json!({"kind": "group"}), "required \"id\" is missing"),
        (json!({"id": 1, "kind": "group"}), "is not [\"string\"]"),
        (
            json!({"id": "a", "kind": "group", "last": "x"}),
            "fits no branch",
        ),
        (
            json!({"id": "a", "kind": "group", "tags": [1]}),
            "v.tags[0]",
        ),
        (
            json!({"id": "a", "kind": "group", "list": []}),
            "fits 2 branches of oneOf",
        ),
        (
            json!({"id": "a", "kind": "group", "extra": 1}),
            "field \"extra\"",
        ),
    ] {
        let wrong = found(value.clone());
        assert!(
            wrong.iter().any(|w| w.contains(wanted)),
            "{value} should report {wanted:?}: {wrong:?}"
        );
    }
}

/// Every operation has an operationId of its own, so a client generated from the document
/// (the web client's `schema.ts`) names each operation once.
#[test]
fn every_operation_has_an_id_of_its_own() {
    let spec = serde_json::to_value(renkei_server::openapi()).expect("the document serializes");
    let mut seen = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            seen.entry(id).or_default().push(format!("{method} {path}"));
        }
    }
    let shared: Vec<_> = seen
        .iter()
        .filter(|(id, ops)| id.is_empty() || ops.len() > 1)
        .collect();
    assert!(
        shared.is_empty(),
        "operationIds missing or shared: {shared:?}"
    );
}
