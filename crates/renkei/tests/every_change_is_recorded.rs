//! Every change leaves its record: each mutating operation of the served OpenAPI document (and
//! each `renkei admin` command), called once successfully, adds exactly the audit entries and
//! timeline events it is expected to add — or, exempt with its reason, none. A route or command
//! without a scenario fails here, so a new one cannot slip through unrecorded.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::pin::Pin;

use common::partners::{org, org_admin};
use common::passkey::SoftPasskey;
use common::{Api, Server, Storage, active_user};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

on_both_backends!(
    every_mutating_route_leaves_its_record,
    every_admin_command_leaves_its_record,
);

/// What one successful change must add.
#[derive(Clone, Copy)]
enum Expect {
    /// These audit entries (by action) and timeline events (by kind), in any order.
    Records {
        audit: &'static [&'static str],
        events: &'static [&'static str],
    },
    /// Nothing: there is no change the audit log or a timeline should show, because …
    Exempt(&'static str),
}

/// One audit entry, no timeline event.
const fn audit(action: &'static [&'static str]) -> Expect {
    Expect::Records {
        audit: action,
        events: &[],
    }
}

/// Timeline events, no audit entry.
const fn events(kinds: &'static [&'static str]) -> Expect {
    Expect::Records {
        audit: &[],
        events: kinds,
    }
}

/// One audit entry and its timeline event: a conversation change the members see.
const fn both(action: &'static [&'static str], kinds: &'static [&'static str]) -> Expect {
    Expect::Records {
        audit: action,
        events: kinds,
    }
}

impl Expect {
    /// The rule every expectation follows: one change, one audit entry at most, and some
    /// record unless exempt (a conversation's creation writes one `member.added` per member).
    fn breaks_the_rule(&self) -> Option<String> {
        match self {
            Expect::Records { audit, events } if audit.is_empty() && events.is_empty() => {
                Some("expects no record and gives no reason".into())
            }
            Expect::Records { audit, .. } if audit.len() > 1 => Some(format!(
                "expects {} audit entries for one change",
                audit.len()
            )),
            Expect::Exempt(why) if why.trim().is_empty() => {
                Some("is exempt without a reason".into())
            }
            _ => None,
        }
    }

    fn wanted(&self) -> Written {
        match self {
            Expect::Records { audit, events } => Written {
                audit: sorted(audit),
                events: sorted(events),
            },
            Expect::Exempt(_) => Written {
                audit: Vec::new(),
                events: Vec::new(),
            },
        }
    }
}

fn sorted(names: &[impl AsRef<str>]) -> Vec<String> {
    let mut out: Vec<String> = names.iter().map(|n| n.as_ref().to_owned()).collect();
    out.sort();
    out
}

/// The audit log and every timeline, read behind the server's back.
struct Ledger {
    conn: sqlx::AnyConnection,
}

/// Where the ledger stood: the last audit entry, and every timeline event.
struct Mark {
    audit_seq: i64,
    events: HashSet<(String, i64)>,
}

/// What was written since a mark: audit actions and event kinds, sorted.
#[derive(Debug, PartialEq)]
struct Written {
    audit: Vec<String>,
    events: Vec<String>,
}

impl Ledger {
    async fn open(storage: &Storage) -> Ledger {
        sqlx::any::install_default_drivers();
        let conn = sqlx::AnyConnection::connect(&storage.raw_url())
            .await
            .unwrap();
        Ledger { conn }
    }

    async fn events(&mut self) -> Vec<(String, i64, String)> {
        sqlx::query_as("SELECT conversation_id, seq, kind FROM conversation_events")
            .fetch_all(&mut self.conn)
            .await
            .unwrap()
    }

    async fn mark(&mut self) -> Mark {
        let (audit_seq,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
            .fetch_one(&mut self.conn)
            .await
            .unwrap();
        let events = self
            .events()
            .await
            .into_iter()
            .map(|(c, s, _)| (c, s))
            .collect();
        Mark { audit_seq, events }
    }

    async fn since(&mut self, mark: &Mark) -> Written {
        let actions: Vec<(String,)> =
            sqlx::query_as("SELECT action FROM audit_log WHERE seq > $1 ORDER BY seq")
                .bind(mark.audit_seq)
                .fetch_all(&mut self.conn)
                .await
                .unwrap();
        let kinds: Vec<String> = self
            .events()
            .await
            .into_iter()
            .filter(|(c, s, _)| !mark.events.contains(&(c.clone(), *s)))
            .map(|(_, _, kind)| kind)
            .collect();
        Written {
            audit: sorted(&actions.into_iter().map(|(a,)| a).collect::<Vec<_>>()),
            events: sorted(&kinds),
        }
    }
}

/// One checked change: what it must write, and what it wrote.
struct Outcome {
    name: String,
    expect: Expect,
    written: Written,
}

/// Checks every outcome against its expectation and the rule; fails listing them all.
fn judge(outcomes: &[Outcome], mut wrong: Vec<String>) {
    for o in outcomes {
        let wanted = o.expect.wanted();
        let got = format!("audit {:?}, events {:?}", o.written.audit, o.written.events);
        eprintln!("{:<58} {got}", o.name);
        if let Some(broken) = o.expect.breaks_the_rule() {
            wrong.push(format!("{}: {broken}", o.name));
        }
        if wanted != o.written {
            wrong.push(format!(
                "{}: expected audit {:?}, events {:?}; wrote {got}",
                o.name, wanted.audit, wanted.events
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "changes not recorded as expected:\n{}",
        wrong.join("\n")
    );
}

/// Compares the names a scenario table covers with those that exist; lists the differences.
fn coverage(kind: &str, existing: &BTreeSet<String>, covered: &[&str]) -> Vec<String> {
    let covered: BTreeSet<String> = covered.iter().map(|c| c.to_string()).collect();
    let mut wrong = Vec::new();
    for missing in existing.difference(&covered) {
        wrong.push(format!(
            "{kind} {missing} has no scenario here: add one (or an exemption with its reason)"
        ));
    }
    for stale in covered.difference(existing) {
        wrong.push(format!("{kind} {stale} has a scenario but does not exist"));
    }
    wrong
}

// ---------------------------------------------------------------------------------------------
// The API.

/// The request a scenario prepared: made once, counted, and required to succeed.
struct Call {
    by: Api,
    method: Method,
    path: String,
    body: Body,
    if_match: Option<i64>,
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

impl Call {
    fn new(by: &Api, method: Method, path: impl Into<String>, body: Value) -> Call {
        Call {
            by: by.clone(),
            method,
            path: path.into(),
            body: Body::Json(body),
            if_match: None,
        }
    }

    fn post(by: &Api, path: impl Into<String>, body: Value) -> Call {
        Call::new(by, Method::POST, path, body)
    }

    fn put(by: &Api, path: impl Into<String>, body: Value) -> Call {
        Call::new(by, Method::PUT, path, body)
    }

    fn patch(by: &Api, path: impl Into<String>, body: Value, version: &Value) -> Call {
        Call {
            if_match: version.as_i64(),
            ..Call::new(by, Method::PATCH, path, body)
        }
    }

    fn delete(by: &Api, path: impl Into<String>) -> Call {
        Call {
            body: Body::None,
            ..Call::new(by, Method::DELETE, path, Value::Null)
        }
    }

    async fn send(self) -> (StatusCode, String) {
        let api = &self.by;
        let mut req = api.http.request(self.method, api.url(&self.path));
        if let Some(token) = &api.token {
            req = req.bearer_auth(token);
        }
        if let Some(v) = self.if_match {
            req = req.header("if-match", format!("\"{v}\""));
        }
        req = match self.body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
        };
        let resp = req.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap_or_default())
    }
}

/// Whether the concrete `path` is an instance of the document's `template`.
fn instance_of(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// A browser's `PushSubscription.toJSON()` on an allow-listed push service (never sent to:
/// the scenario's user gets no message), with the keys of RFC 8291's example.
fn push_subscription(w: &mut World) -> Value {
    json!({
        "endpoint": format!("https://fcm.googleapis.com/fcm/send/{}", w.fresh("device")),
        "expirationTime": null,
        "keys": {
            "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "auth": "BTBZMqHH6r4Tts7J_aSIgg"
        }
    })
}

/// What the scenarios share: a server, its first administrator and organization, two
/// colleagues, and a council made on first use.
struct World {
    server: Server,
    admin: Api,
    org: String,
    sato: (Api, String),
    suzuki: String,
    council: Option<(String, Api)>,
    made: usize,
}

impl World {
    /// A name not used before, e.g. `user-7`.
    fn fresh(&mut self, prefix: &str) -> String {
        self.made += 1;
        format!("{prefix}-{}", self.made)
    }

    /// A new active user of the first organization, signed in: one the scenario may spoil.
    async fn user(&mut self) -> (Api, String) {
        let login = self.fresh("user");
        let (api, made) = active_user(&self.server, &self.admin, &self.org, &login).await;
        (api, made["id"].as_str().unwrap().to_owned())
    }

    /// A new hospital and its signed-in administrator.
    async fn hospital(&mut self) -> (String, Api) {
        let slug = self.fresh("hospital");
        let id = org(&self.admin, &format!("Hospital {slug}"), &slug, "hospital").await;
        let admin = org_admin(&self.server, &self.admin, &id, &format!("{slug}-admin")).await;
        (id, admin)
    }

    /// The council, and its administrator.
    async fn council(&mut self) -> (String, Api) {
        if self.council.is_none() {
            let id = org(&self.admin, "Oita Council", "oita-council", "council").await;
            let admin = org_admin(&self.server, &self.admin, &id, "council-admin").await;
            self.council = Some((id, admin));
        }
        self.council.clone().unwrap()
    }

    /// A new hospital invited to the council (opted in when `opt_in`).
    async fn council_hospital(&mut self, opt_in: bool) -> (String, Api, String, Api) {
        let (council, council_admin) = self.council().await;
        let (hospital, admin) = self.hospital().await;
        must(
            Call::post(
                &council_admin,
                format!("/api/v1/councils/{council}/members"),
                json!({"org_id": hospital}),
            )
            .send()
            .await,
        );
        if opt_in {
            must(
                Call::post(
                    &admin,
                    format!("/api/v1/councils/{council}/opt-in"),
                    json!({}),
                )
                .send()
                .await,
            );
        }
        (council, council_admin, hospital, admin)
    }

    /// A group of `by`, sato and suzuki.
    async fn group(&mut self) -> String {
        let admin = self.admin.clone();
        let body =
            json!({"kind": "group", "title": "病棟連絡", "member_ids": [self.sato.1, self.suzuki]});
        let made = must(
            Call::post(&admin, "/api/v1/conversations", body)
                .send()
                .await,
        );
        made["id"].as_str().unwrap().to_owned()
    }

    /// A message of the administrator in a new group: (conversation, seq).
    async fn message(&mut self) -> (String, i64) {
        let conv = self.group().await;
        let body = json!({"client_msg_id": self.fresh("m"), "body": "申し送りです"});
        let path = format!("/api/v1/conversations/{conv}/messages");
        let ack = must(Call::post(&self.admin, path, body).send().await);
        (conv, ack["seq"].as_i64().unwrap())
    }

    /// A proposed agreement from the first organization to a new hospital; (id, its admin).
    async fn proposal(&mut self) -> (String, Api) {
        let (partner, partner_admin) = self.hospital().await;
        let body = json!({"partner_org_id": partner, "scopes": ["directory"]});
        let made = must(
            Call::post(&self.admin, "/api/v1/agreements", body)
                .send()
                .await,
        );
        (made["id"].as_str().unwrap().to_owned(), partner_admin)
    }

    /// A new department of the first organization.
    async fn department(&mut self) -> Value {
        let name = self.fresh("病棟");
        let path = format!("/api/v1/orgs/{}/departments", self.org);
        must(
            Call::post(&self.admin, path, json!({"name": name}))
                .send()
                .await,
        )
    }

    /// A study of the organization (pydicom's CT_small.dcm, sent by STOW-RS): its id and its
    /// image's SOP Instance UID.
    async fn study(&mut self) -> (String, String) {
        let dir = common::pydicom_test_files().expect("pydicom (scripts/setup.sh installs it)");
        let file = std::fs::read(dir.join("CT_small.dcm")).unwrap();
        let (status, _) = common::dicom::stow(&self.admin, &[file]).await;
        assert!(status.is_success(), "STOW-RS: {status}");
        let (_, inbox) = self.admin.get("/api/v1/studies").await;
        let id = inbox[0]["id"].as_str().unwrap().to_owned();
        let (_, detail) = self.admin.get(&format!("/api/v1/studies/{id}")).await;
        let series = detail["series"][0]["series_uid"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, instances) = self
            .admin
            .get(&format!("/api/v1/studies/{id}/series/{series}/instances"))
            .await;
        (id, instances[0]["sop_uid"].as_str().unwrap().to_owned())
    }

    /// A new per-device redaction rule of the organization (a device of its own, so rules never
    /// collide): its path.
    async fn redaction_rule(&mut self) -> String {
        let mut rule = common::dicom::acme_rule();
        rule["model"] = json!(self.fresh("model"));
        let rules = format!("/api/v1/orgs/{}/redaction-rules", self.org);
        let (status, made) = self.admin.post(&rules, rule).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        format!("{rules}/{}", made["id"].as_str().unwrap())
    }

    /// An admitted DICOM peer's AE title.
    async fn peer(&mut self) -> String {
        let ae = self.fresh("CT").to_uppercase().replace('-', "");
        let path = format!("/api/v1/orgs/{}/dicom-peers", self.org);
        let body = json!({"ae_title": ae, "allow": ["127.0.0.1"]});
        must(Call::post(&self.admin, path, body).send().await);
        ae
    }

    /// A new invite link's token.
    async fn invite(&mut self) -> String {
        let path = format!("/api/v1/orgs/{}/invite", self.org);
        let link = must(Call::post(&self.admin, path, json!({})).send().await);
        link["token"].as_str().unwrap().to_owned()
    }

    /// A pending applicant's id.
    async fn applicant(&mut self) -> String {
        let token = self.invite().await;
        let login = self.fresh("applicant");
        let signup = format!("/api/v1/signup/{token}");
        must(
            Call::post(&self.server.client(), signup, application(&login))
                .send()
                .await,
        );
        let (_, pending) = self
            .admin
            .get(&format!("/api/v1/orgs/{}/applications", self.org))
            .await;
        let found = pending
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login"] == login.as_str());
        found.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// A user's record, with its version.
    async fn record(&self, id: &str) -> Value {
        self.admin.get(&format!("/api/v1/users/{id}")).await.1
    }
}

/// A sign-up form for `login`.
fn application(login: &str) -> Value {
    json!({"login": login, "display_name": "応募 花子", "kana": "おうぼ はなこ",
           "profession": "nurse", "password": "my own password 1"})
}

/// The body of a setup call that must succeed.
fn must((status, text): (StatusCode, String)) -> Value {
    assert!(status.is_success(), "setup failed: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A TOTP code the server accepts now.
fn code_now(enrollment: &Value) -> String {
    let secret = renkei_core::totp::base32_decode(enrollment["secret"].as_str().unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    renkei_core::totp::code_at_step(&secret, now / 30)
}

/// A user with an authenticator app; its API and recovery codes.
async fn enrolled(w: &mut World) -> (Api, String, Vec<String>) {
    let (api, id) = w.user().await;
    let start = must(
        Call::post(&api, "/api/v1/me/second-factor/enrollment", json!({}))
            .send()
            .await,
    );
    let confirm = json!({"code": code_now(&start)});
    let done = must(
        Call::post(&api, "/api/v1/me/second-factor/enrollment/confirm", confirm)
            .send()
            .await,
    );
    let codes = done["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (api, id, codes)
}

/// A user with a passkey: their session, login, passkey and its id.
async fn with_passkey(w: &mut World) -> (Api, String, SoftPasskey, String) {
    let (api, _) = w.user().await;
    let login = api.get("/api/v1/me").await.1["user"]["login"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = w.server.addr().rsplit(':').next().unwrap().to_owned();
    let mut passkey = SoftPasskey::new(&login, &format!("http://localhost:{port}"));
    let body = registration(&api, &mut passkey).await;
    let added = must(Call::post(&api, "/api/v1/me/passkeys", body).send().await);
    let id = added["id"].as_str().unwrap().to_owned();
    (api, login, passkey, id)
}

/// A registration ceremony of `api` answered by `passkey`: the body that finishes it.
async fn registration(api: &Api, passkey: &mut SoftPasskey) -> Value {
    let ceremony = must(
        Call::post(api, "/api/v1/me/passkeys/registration", json!({}))
            .send()
            .await,
    );
    let credential = passkey.create(&ceremony["options"]);
    json!({"challenge_id": ceremony["challenge_id"], "name": "iPhone", "credential": credential})
}

/// An assertion ceremony answered by `passkey`: the body that finishes it.
async fn assertion(api: &Api, passkey: &mut SoftPasskey) -> Value {
    let ceremony = must(
        Call::post(api, "/api/v1/auth/passkey/challenge", json!({}))
            .send()
            .await,
    );
    let credential = passkey.get(&ceremony["options"]);
    json!({"challenge_id": ceremony["challenge_id"], "credential": credential})
}

type Prepared<'w> = Pin<Box<dyn Future<Output = Call> + 'w>>;

/// A mutating route of the document, what one call must write, and how to set it up.
struct Scenario {
    route: &'static str,
    expect: Expect,
    prepare: for<'w> fn(&'w mut World) -> Prepared<'w>,
}

macro_rules! scenarios {
    ($(($route:literal, $expect:expr, $prepare:expr $(,)?)),+ $(,)?) => {
        vec![$(Scenario {
            route: $route,
            expect: $expect,
            prepare: |w| Box::pin($prepare(w)),
        }),+]
    };
}

/// Every mutating route of the API. Conversation changes are audited *and* shown on the
/// timeline; messages are timeline events only (their edits and deletions audited too).
fn api_scenarios() -> Vec<Scenario> {
    scenarios![
        (
            "POST /api/v1/auth/login",
            audit(&["auth.login"]),
            async |w: &mut World| {
                let body = json!({"login": "sato", "password": common::USER_PASSWORD});
                Call::post(&w.server.client(), "/api/v1/auth/login", body)
            }
        ),
        (
            "POST /api/v1/auth/logout",
            audit(&["auth.logout"]),
            async |w: &mut World| {
                let api = w.server.login("sato", common::USER_PASSWORD).await;
                Call::post(&api, "/api/v1/auth/logout", json!({}))
            }
        ),
        (
            "POST /api/v1/auth/second-factor",
            audit(&["auth.second_factor"]),
            async |w: &mut World| {
                let (api, _, codes) = enrolled(w).await;
                Call::post(
                    &api,
                    "/api/v1/auth/second-factor",
                    json!({"code": codes[0]}),
                )
            }
        ),
        (
            "POST /api/v1/auth/unlock",
            audit(&["auth.unlock"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                must(
                    Call::put(&api, "/api/v1/me/passcode", json!({"passcode": "2468"}))
                        .send()
                        .await,
                );
                let login = api.get("/api/v1/me").await.1["user"]["login"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let locked = w.server.login(&login, common::USER_PASSWORD).await;
                Call::post(&locked, "/api/v1/auth/unlock", json!({"passcode": "2468"}))
            }
        ),
        (
            "PUT /api/v1/me/passcode",
            audit(&["auth.passcode_set"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                Call::put(&api, "/api/v1/me/passcode", json!({"passcode": "2468"}))
            }
        ),
        (
            "PUT /api/v1/me/password",
            audit(&["auth.password_changed"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                let body = json!({"current_password": common::USER_PASSWORD, "new_password": "another fine password"});
                Call::put(&api, "/api/v1/me/password", body)
            }
        ),
        (
            "POST /api/v1/me/second-factor/enrollment",
            Expect::Exempt(
                "an unconfirmed secret changes nothing about signing in; its confirmation is audited"
            ),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                Call::post(&api, "/api/v1/me/second-factor/enrollment", json!({}))
            }
        ),
        (
            "POST /api/v1/me/second-factor/enrollment/confirm",
            audit(&["auth.second_factor_enrolled"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                let start = must(
                    Call::post(&api, "/api/v1/me/second-factor/enrollment", json!({}))
                        .send()
                        .await,
                );
                Call::post(
                    &api,
                    "/api/v1/me/second-factor/enrollment/confirm",
                    json!({"code": code_now(&start)}),
                )
            }
        ),
        (
            "POST /api/v1/me/passkeys/registration",
            Expect::Exempt(
                "a registration challenge changes nothing about signing in; the passkey it leads to is audited"
            ),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                Call::post(&api, "/api/v1/me/passkeys/registration", json!({}))
            }
        ),
        (
            "POST /api/v1/me/passkeys",
            audit(&["auth.passkey_added"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                let port = w.server.addr().rsplit(':').next().unwrap().to_owned();
                let mut passkey =
                    SoftPasskey::new(&w.fresh("key"), &format!("http://localhost:{port}"));
                let body = registration(&api, &mut passkey).await;
                Call::post(&api, "/api/v1/me/passkeys", body)
            }
        ),
        (
            "DELETE /api/v1/me/passkeys/{id}",
            audit(&["auth.passkey_removed"]),
            async |w: &mut World| {
                let (api, _, _, id) = with_passkey(w).await;
                Call::delete(&api, format!("/api/v1/me/passkeys/{id}"))
            }
        ),
        (
            "POST /api/v1/auth/passkey/challenge",
            Expect::Exempt(
                "a sign-in challenge changes nothing; the sign-in or second factor it leads to is audited"
            ),
            async |w: &mut World| {
                Call::post(
                    &w.server.client(),
                    "/api/v1/auth/passkey/challenge",
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/auth/passkey",
            audit(&["auth.login"]),
            async |w: &mut World| {
                let (_, _, mut passkey, _) = with_passkey(w).await;
                let anonymous = w.server.client();
                let body = assertion(&anonymous, &mut passkey).await;
                Call::post(&anonymous, "/api/v1/auth/passkey", body)
            }
        ),
        (
            "POST /api/v1/auth/second-factor/passkey",
            audit(&["auth.second_factor"]),
            async |w: &mut World| {
                let (_, login, mut passkey, _) = with_passkey(w).await;
                let owing = w.server.login(&login, common::USER_PASSWORD).await;
                let body = assertion(&owing, &mut passkey).await;
                Call::post(&owing, "/api/v1/auth/second-factor/passkey", body)
            }
        ),
        (
            "POST /api/v1/orgs",
            audit(&["org.create"]),
            async |w: &mut World| {
                let slug = w.fresh("clinic");
                Call::post(
                    &w.admin,
                    "/api/v1/orgs",
                    json!({"name": "Usa Clinic", "slug": slug}),
                )
            }
        ),
        (
            "PATCH /api/v1/orgs/{id}",
            audit(&["org.update"]),
            async |w: &mut World| {
                let (id, _) = w.hospital().await;
                let current = w.admin.get(&format!("/api/v1/orgs/{id}")).await.1;
                Call::patch(
                    &w.admin,
                    format!("/api/v1/orgs/{id}"),
                    json!({"name": "Renamed Hospital"}),
                    &current["version"],
                )
            }
        ),
        (
            "POST /api/v1/orgs/{id}/departments",
            audit(&["department.create"]),
            async |w: &mut World| {
                let name = w.fresh("外来");
                Call::post(
                    &w.admin,
                    format!("/api/v1/orgs/{}/departments", w.org),
                    json!({"name": name}),
                )
            }
        ),
        (
            "PATCH /api/v1/departments/{id}",
            audit(&["department.update"]),
            async |w: &mut World| {
                let dept = w.department().await;
                let name = w.fresh("病棟");
                Call::patch(
                    &w.admin,
                    format!("/api/v1/departments/{}", dept["id"].as_str().unwrap()),
                    json!({"name": name}),
                    &dept["version"],
                )
            }
        ),
        (
            "POST /api/v1/orgs/{id}/invite",
            audit(&["org.invite_rotated"]),
            async |w: &mut World| {
                Call::post(
                    &w.admin,
                    format!("/api/v1/orgs/{}/invite", w.org),
                    json!({}),
                )
            }
        ),
        (
            "DELETE /api/v1/orgs/{id}/invite",
            audit(&["org.invite_revoked"]),
            async |w: &mut World| {
                w.invite().await;
                Call::delete(&w.admin, format!("/api/v1/orgs/{}/invite", w.org))
            }
        ),
        (
            "POST /api/v1/orgs/{id}/scim/token",
            audit(&["scim.token_rotated"]),
            async |w: &mut World| {
                Call::post(
                    &w.admin,
                    format!("/api/v1/orgs/{}/scim/token", w.org),
                    json!({}),
                )
            }
        ),
        (
            "DELETE /api/v1/orgs/{id}/scim/token",
            audit(&["scim.token_revoked"]),
            async |w: &mut World| {
                let path = format!("/api/v1/orgs/{}/scim/token", w.org);
                must(Call::post(&w.admin, &path, json!({})).send().await);
                Call::delete(&w.admin, path)
            }
        ),
        (
            "POST /api/v1/signup/{token}",
            audit(&["user.apply"]),
            async |w: &mut World| {
                let token = w.invite().await;
                let login = w.fresh("applicant");
                Call::post(
                    &w.server.client(),
                    format!("/api/v1/signup/{token}"),
                    application(&login),
                )
            }
        ),
        (
            "POST /api/v1/users/{id}/approve",
            audit(&["user.status"]),
            async |w: &mut World| {
                let id = w.applicant().await;
                Call::post(&w.admin, format!("/api/v1/users/{id}/approve"), json!({}))
            }
        ),
        (
            "POST /api/v1/users/{id}/reject",
            audit(&["user.status"]),
            async |w: &mut World| {
                let id = w.applicant().await;
                Call::post(&w.admin, format!("/api/v1/users/{id}/reject"), json!({}))
            }
        ),
        (
            "POST /api/v1/orgs/{id}/users",
            audit(&["user.create"]),
            async |w: &mut World| {
                let login = w.fresh("new");
                let body = json!({"login": login, "display_name": "New User", "profession": "nurse",
                              "password": "one-time password"});
                Call::post(&w.admin, format!("/api/v1/orgs/{}/users", w.org), body)
            }
        ),
        (
            "POST /api/v1/orgs/{id}/users/import",
            audit(&["user.create"]),
            async |w: &mut World| {
                let csv = format!(
                    "login,display_name,profession\n{},Imported User,nurse\n",
                    w.fresh("imported")
                );
                Call {
                    body: Body::Raw("text/csv", csv.into_bytes()),
                    ..Call::post(
                        &w.admin,
                        format!("/api/v1/orgs/{}/users/import?dry_run=false", w.org),
                        Value::Null,
                    )
                }
            }
        ),
        (
            "PATCH /api/v1/users/{id}",
            audit(&["user.update"]),
            async |w: &mut World| {
                let (_, id) = w.user().await;
                let record = w.record(&id).await;
                Call::patch(
                    &w.admin,
                    format!("/api/v1/users/{id}"),
                    json!({"email": "x@example.org"}),
                    &record["version"],
                )
            }
        ),
        (
            "POST /api/v1/users/{id}/password-reset",
            audit(&["user.password_reset"]),
            async |w: &mut World| {
                let (_, id) = w.user().await;
                Call::post(
                    &w.admin,
                    format!("/api/v1/users/{id}/password-reset"),
                    json!({}),
                )
            }
        ),
        (
            "DELETE /api/v1/users/{id}/passcode",
            audit(&["user.passcode_reset"]),
            async |w: &mut World| {
                let (api, id) = w.user().await;
                must(
                    Call::put(&api, "/api/v1/me/passcode", json!({"passcode": "2468"}))
                        .send()
                        .await,
                );
                Call::delete(&w.admin, format!("/api/v1/users/{id}/passcode"))
            }
        ),
        (
            "DELETE /api/v1/users/{id}/second-factor",
            audit(&["user.second_factor_reset"]),
            async |w: &mut World| {
                let (_, id, _) = enrolled(w).await;
                Call::delete(&w.admin, format!("/api/v1/users/{id}/second-factor"))
            }
        ),
        (
            "POST /api/v1/users/{id}/sign-in-release",
            audit(&["user.sign_in_released"]),
            async |w: &mut World| {
                let (api, id) = w.user().await;
                let login = api.get("/api/v1/me").await.1["user"]["login"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let wrong = json!({"login": login, "password": "not the password"});
                let (status, _) = w.server.client().post("/api/v1/auth/login", wrong).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                Call::post(
                    &w.admin,
                    format!("/api/v1/users/{id}/sign-in-release"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/conversations",
            both(
                &["conversation.create"],
                &["member.added", "member.added", "member.added"],
            ),
            async |w: &mut World| {
                let body =
                    json!({"kind": "group", "title": "夜勤", "member_ids": [w.sato.1, w.suzuki]});
                Call::post(&w.admin, "/api/v1/conversations", body)
            }
        ),
        (
            "PATCH /api/v1/conversations/{id}",
            both(&["conversation.renamed"], &["conversation.updated"]),
            async |w: &mut World| {
                let conv = w.group().await;
                Call::new(
                    &w.admin,
                    Method::PATCH,
                    format!("/api/v1/conversations/{conv}"),
                    json!({"title": "日勤"}),
                )
            }
        ),
        (
            "POST /api/v1/conversations/{id}/members",
            both(&["conversation.member_added"], &["member.added"]),
            async |w: &mut World| {
                let conv = w.group().await;
                let (_, id) = w.user().await;
                Call::post(
                    &w.admin,
                    format!("/api/v1/conversations/{conv}/members"),
                    json!({"user_id": id}),
                )
            }
        ),
        (
            "DELETE /api/v1/conversations/{id}/members/{user_id}",
            both(&["conversation.member_removed"], &["member.removed"]),
            async |w: &mut World| {
                let conv = w.group().await;
                Call::delete(
                    &w.admin,
                    format!("/api/v1/conversations/{conv}/members/{}", w.suzuki),
                )
            }
        ),
        (
            "PUT /api/v1/conversations/{id}/members/{user_id}",
            both(
                &["conversation.member_role_changed"],
                &["conversation.updated"]
            ),
            async |w: &mut World| {
                let conv = w.group().await;
                Call::put(
                    &w.admin,
                    format!("/api/v1/conversations/{conv}/members/{}", w.suzuki),
                    json!({"role": "admin"}),
                )
            }
        ),
        (
            "PUT /api/v1/conversations/{id}/notifications",
            Expect::Exempt("a member's own notification setting, seen by no one else"),
            async |w: &mut World| {
                let conv = w.group().await;
                Call::put(
                    &w.sato.0,
                    format!("/api/v1/conversations/{conv}/notifications"),
                    json!({"level": "mentions"}),
                )
            }
        ),
        (
            "POST /api/v1/push/subscriptions",
            audit(&["push.subscribe"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                Call::post(&api, "/api/v1/push/subscriptions", push_subscription(w))
            }
        ),
        (
            "DELETE /api/v1/push/subscriptions/{id}",
            audit(&["push.unsubscribe"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                let body = push_subscription(w);
                let made = api.post("/api/v1/push/subscriptions", body).await;
                let id = made.1["id"].as_str().unwrap().to_owned();
                Call::delete(&api, format!("/api/v1/push/subscriptions/{id}"))
            }
        ),
        (
            "PUT /api/v1/me/notifications",
            audit(&["user.notifications_update"]),
            async |w: &mut World| {
                let (api, _) = w.user().await;
                let body = json!({"dnd_start": "22:00", "dnd_end": "07:00", "utc_offset_minutes": 540, "covering_user_id": null});
                Call::put(&api, "/api/v1/me/notifications", body)
            }
        ),
        (
            "POST /api/v1/conversations/{id}/messages",
            events(&["message.created"]),
            async |w: &mut World| {
                let conv = w.group().await;
                let body = json!({"client_msg_id": w.fresh("m"), "body": "了解しました"});
                Call::post(
                    &w.sato.0,
                    format!("/api/v1/conversations/{conv}/messages"),
                    body,
                )
            }
        ),
        (
            "PATCH /api/v1/conversations/{id}/messages/{seq}",
            both(&["message.edit"], &["message.edited"]),
            async |w: &mut World| {
                let (conv, seq) = w.message().await;
                Call::new(
                    &w.admin,
                    Method::PATCH,
                    format!("/api/v1/conversations/{conv}/messages/{seq}"),
                    json!({"body": "訂正"}),
                )
            }
        ),
        (
            "DELETE /api/v1/conversations/{id}/messages/{seq}",
            both(&["message.delete"], &["message.deleted"]),
            async |w: &mut World| {
                let (conv, seq) = w.message().await;
                Call::delete(
                    &w.admin,
                    format!("/api/v1/conversations/{conv}/messages/{seq}"),
                )
            }
        ),
        (
            "POST /api/v1/conversations/{id}/read",
            Expect::Exempt("a member's read position: a receipt, not a change to the conversation"),
            async |w: &mut World| {
                let (conv, seq) = w.message().await;
                Call::post(
                    &w.sato.0,
                    format!("/api/v1/conversations/{conv}/read"),
                    json!({"seq": seq}),
                )
            }
        ),
        (
            "POST /api/v1/conversations/{id}/messages/{seq}/ack",
            audit(&["urgent.acknowledge"]),
            async |w: &mut World| {
                let conv = w.group().await;
                let body =
                    json!({"client_msg_id": w.fresh("u"), "body": "至急", "priority": "urgent"});
                let path = format!("/api/v1/conversations/{conv}/messages");
                let ack = must(Call::post(&w.admin, path, body).send().await);
                let seq = ack["seq"].as_i64().unwrap();
                Call::post(
                    &w.sato.0,
                    format!("/api/v1/conversations/{conv}/messages/{seq}/ack"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/push/receipts",
            Expect::Exempt(
                "a member's delivered position: a receipt, not a change to the conversation"
            ),
            async |w: &mut World| {
                let (conv, seq) = w.message().await;
                Call::post(
                    &w.sato.0,
                    "/api/v1/push/receipts",
                    json!({"conversation_id": conv, "seq": seq}),
                )
            }
        ),
        (
            "POST /api/v1/conversations/{id}/typing",
            Expect::Exempt("a live hint to the other members; nothing is stored"),
            async |w: &mut World| {
                let conv = w.group().await;
                Call::post(
                    &w.sato.0,
                    format!("/api/v1/conversations/{conv}/typing"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/media",
            audit(&["media.upload"]),
            async |w: &mut World| Call {
                body: Body::Raw("text/plain", b"ward round notes".to_vec()),
                ..Call::post(&w.sato.0, "/api/v1/media?name=notes.txt", Value::Null)
            }
        ),
        (
            "POST /api/v1/studies/{id}/confirm-clean",
            audit(&["study.confirmed_clean"]),
            async |w: &mut World| {
                let (id, _) = w.study().await;
                Call::post(
                    &w.admin,
                    format!("/api/v1/studies/{id}/confirm-clean"),
                    json!({}),
                )
            }
        ),
        (
            "PUT /api/v1/orgs/{id}/sso",
            audit(&["org.sso_updated"]),
            async |w: &mut World| {
                Call::put(
                    &w.admin,
                    format!("/api/v1/orgs/{}/sso", w.org),
                    json!({"settings": {"issuer": "https://idp.example", "client_id": "renkei"},
                           "client_secret": "secret"}),
                )
            }
        ),
        (
            "DELETE /api/v1/orgs/{id}/sso",
            audit(&["org.sso_removed"]),
            async |w: &mut World| {
                let path = format!("/api/v1/orgs/{}/sso", w.org);
                let (status, _) = w.admin.get(&path).await;
                if status == StatusCode::NOT_FOUND {
                    must(
                        Call::put(
                            &w.admin,
                            &path,
                            json!({"settings": {"issuer": "https://idp.example",
                                                "client_id": "renkei"},
                                   "client_secret": "secret"}),
                        )
                        .send()
                        .await,
                    );
                }
                Call::delete(&w.admin, path)
            }
        ),
        (
            "POST /api/v1/auth/sso/{id}/backchannel-logout",
            audit(&["auth.sso_logout"]),
            async |w: &mut World| {
                // A person signed in through the provider, who then signs out there: the
                // provider's logout token, delivered to renkei, ends that session.
                let path = format!("/api/v1/orgs/{}/sso", w.org);
                if w.admin.get(&path).await.0 == StatusCode::OK {
                    must(Call::delete(&w.admin, &path).send().await);
                }
                let login = w.fresh("sso-user");
                active_user(&w.server, &w.admin, &w.org, &login).await;
                let mut catcher = common::oidc::LogoutCatcher::start().await;
                let provider = common::oidc::Provider::start(&w.server, &catcher.uri, 0);
                must(
                    Call::put(
                        &w.admin,
                        &path,
                        json!({"settings": {"issuer": provider.issuer, "client_id": "renkei",
                                            "link_claim": "preferred_username"},
                               "client_secret": common::oidc::SECRET}),
                    )
                    .send()
                    .await,
                );
                let mut browser = common::oidc::Browser::new();
                let callback = browser.through_provider(&w.server, &w.org, &login).await;
                assert_eq!(browser.callback(&callback).await, "/");
                common::oidc::sign_out_at_provider(&mut browser, &provider).await;
                let body = catcher.next().await;
                Call {
                    body: Body::Raw("application/x-www-form-urlencoded", body),
                    ..Call::post(
                        &w.server.client(),
                        format!("/api/v1/auth/sso/{}/backchannel-logout", w.org),
                        Value::Null,
                    )
                }
            }
        ),
        (
            "POST /api/v1/orgs/{id}/redaction-rules",
            audit(&["redaction_rule.create"]),
            async |w: &mut World| {
                let mut rule = common::dicom::acme_rule();
                rule["model"] = json!(w.fresh("model"));
                Call::post(
                    &w.admin,
                    format!("/api/v1/orgs/{}/redaction-rules", w.org),
                    rule,
                )
            }
        ),
        (
            "PUT /api/v1/orgs/{id}/redaction-rules/{rule_id}",
            audit(&["redaction_rule.update"]),
            async |w: &mut World| {
                let path = w.redaction_rule().await;
                let mut rule = common::dicom::acme_rule();
                rule["model"] = json!(w.fresh("model"));
                Call {
                    if_match: Some(1),
                    ..Call::put(&w.admin, path, rule)
                }
            }
        ),
        (
            "DELETE /api/v1/orgs/{id}/redaction-rules/{rule_id}",
            audit(&["redaction_rule.delete"]),
            async |w: &mut World| {
                let path = w.redaction_rule().await;
                Call::delete(&w.admin, path)
            }
        ),
        (
            "POST /api/v1/studies/{id}/instances/{sop_uid}/redaction-rule",
            audit(&["redaction_rule.create"]),
            async |w: &mut World| {
                let (id, sop) = w.study().await;
                Call::post(
                    &w.admin,
                    format!("/api/v1/studies/{id}/instances/{sop}/redaction-rule"),
                    json!({"rectangles": [{"x": 0, "y": 0, "width": 8, "height": 8}]}),
                )
            }
        ),
        (
            "POST /api/v1/studies/{id}/instances/{sop_uid}/redactions",
            audit(&["dicom_instance.redact"]),
            async |w: &mut World| {
                let (id, sop) = w.study().await;
                Call::post(
                    &w.admin,
                    format!("/api/v1/studies/{id}/instances/{sop}/redactions"),
                    json!({"rectangles": [{"x": 0, "y": 0, "width": 8, "height": 8}]}),
                )
            }
        ),
        (
            "POST /api/v1/studies/{id}/annotations",
            audit(&["study.annotate"]),
            async |w: &mut World| {
                let (id, sop) = w.study().await;
                let shapes = json!([{"kind": "arrow", "from": [1.0, 1.0], "to": [50.0, 50.0]}]);
                Call::post(
                    &w.admin,
                    format!("/api/v1/studies/{id}/annotations"),
                    json!({"sop_uid": sop, "shapes": shapes}),
                )
            }
        ),
        (
            "POST /api/v1/orgs/{id}/dicom-peers",
            audit(&["dicom_peer.add"]),
            async |w: &mut World| {
                let ae = w.fresh("MR").to_uppercase().replace('-', "");
                let body = json!({"ae_title": ae, "allow": ["127.0.0.1"]});
                Call::post(
                    &w.admin,
                    format!("/api/v1/orgs/{}/dicom-peers", w.org),
                    body,
                )
            }
        ),
        (
            "PUT /api/v1/orgs/{id}/dicom-peers/{ae_title}",
            audit(&["dicom_peer.update"]),
            async |w: &mut World| {
                let ae = w.peer().await;
                Call::put(
                    &w.admin,
                    format!("/api/v1/orgs/{}/dicom-peers/{ae}", w.org),
                    json!({"allow": ["10.0.0.0/8"]}),
                )
            }
        ),
        (
            "DELETE /api/v1/orgs/{id}/dicom-peers/{ae_title}",
            audit(&["dicom_peer.remove"]),
            async |w: &mut World| {
                let ae = w.peer().await;
                Call::delete(&w.admin, format!("/api/v1/orgs/{}/dicom-peers/{ae}", w.org))
            }
        ),
        (
            "POST /api/v1/orgs/{id}/gateways",
            audit(&["gateway.add"]),
            async |w: &mut World| {
                let name = w.fresh("ward");
                Call::post(
                    &w.admin,
                    format!("/api/v1/orgs/{}/gateways", w.org),
                    json!({"name": name}),
                )
            }
        ),
        (
            "DELETE /api/v1/orgs/{id}/gateways/{name}",
            audit(&["gateway.remove"]),
            async |w: &mut World| {
                let name = w.fresh("ward");
                let path = format!("/api/v1/orgs/{}/gateways", w.org);
                must(
                    Call::post(&w.admin, &path, json!({"name": name}))
                        .send()
                        .await,
                );
                Call::delete(&w.admin, format!("{path}/{name}"))
            }
        ),
        (
            "POST /api/v1/agreements",
            audit(&["agreement.propose"]),
            async |w: &mut World| {
                let (partner, _) = w.hospital().await;
                Call::post(
                    &w.admin,
                    "/api/v1/agreements",
                    json!({"partner_org_id": partner, "scopes": ["directory"]}),
                )
            }
        ),
        (
            "POST /api/v1/agreements/{id}/accept",
            audit(&["agreement.accept"]),
            async |w: &mut World| {
                let (id, partner_admin) = w.proposal().await;
                Call::post(
                    &partner_admin,
                    format!("/api/v1/agreements/{id}/accept"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/agreements/{id}/revoke",
            audit(&["agreement.revoke"]),
            async |w: &mut World| {
                let (id, partner_admin) = w.proposal().await;
                must(
                    Call::post(
                        &partner_admin,
                        format!("/api/v1/agreements/{id}/accept"),
                        json!({}),
                    )
                    .send()
                    .await,
                );
                Call::post(
                    &w.admin,
                    format!("/api/v1/agreements/{id}/revoke"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/councils/{id}/members",
            audit(&["council.invite"]),
            async |w: &mut World| {
                let (council, council_admin) = w.council().await;
                let (hospital, _) = w.hospital().await;
                Call::post(
                    &council_admin,
                    format!("/api/v1/councils/{council}/members"),
                    json!({"org_id": hospital}),
                )
            }
        ),
        (
            "DELETE /api/v1/councils/{id}/members/{org_id}",
            audit(&["council.remove"]),
            async |w: &mut World| {
                let (council, council_admin, hospital, _) = w.council_hospital(true).await;
                Call::delete(
                    &council_admin,
                    format!("/api/v1/councils/{council}/members/{hospital}"),
                )
            }
        ),
        (
            "POST /api/v1/councils/{id}/opt-in",
            audit(&["council.opt_in"]),
            async |w: &mut World| {
                let (council, _, _, admin) = w.council_hospital(false).await;
                Call::post(
                    &admin,
                    format!("/api/v1/councils/{council}/opt-in"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/councils/{id}/opt-out",
            audit(&["council.opt_out"]),
            async |w: &mut World| {
                let (council, _, _, admin) = w.council_hospital(true).await;
                Call::post(
                    &admin,
                    format!("/api/v1/councils/{council}/opt-out"),
                    json!({}),
                )
            }
        ),
        (
            "POST /api/v1/councils/{id}/agreements",
            audit(&["council.create_agreements"]),
            async |w: &mut World| {
                w.council_hospital(true).await;
                let (council, council_admin, _, _) = w.council_hospital(true).await;
                Call::post(
                    &council_admin,
                    format!("/api/v1/councils/{council}/agreements"),
                    json!({"scopes": ["directory"]}),
                )
            }
        ),
    ]
}

/// The document's mutating operations, as `METHOD /path/{template}`.
async fn mutating_routes(server: &Server) -> BTreeSet<String> {
    let (status, spec) = server.client().get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{spec}");
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

async fn every_mutating_route_leaves_its_record(storage: Storage) {
    let server =
        Server::start_at_localhost(&storage, &[("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "100000")]);
    let documented = mutating_routes(&server).await;
    assert!(documented.len() > 40, "{documented:?}");
    let scenarios = api_scenarios();
    let names: Vec<&str> = scenarios.iter().map(|s| s.route).collect();
    let wrong = coverage("route", &documented, &names);

    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let sato = active_user(&server, &admin, &org, "sato").await;
    let (_, suzuki) = active_user(&server, &admin, &org, "suzuki").await;
    let mut world = World {
        sato: (sato.0, sato.1["id"].as_str().unwrap().to_owned()),
        suzuki: suzuki["id"].as_str().unwrap().to_owned(),
        server,
        admin,
        org,
        council: None,
        made: 0,
    };
    let mut ledger = Ledger::open(&storage).await;
    let mut outcomes = Vec::new();
    for scenario in scenarios.iter().filter(|s| documented.contains(s.route)) {
        let call = (scenario.prepare)(&mut world).await;
        let (method, template) = scenario.route.split_once(' ').unwrap();
        assert!(
            call.method.as_str() == method && instance_of(template, &call.path),
            "{}: the scenario calls {} {}",
            scenario.route,
            call.method,
            call.path
        );
        let mark = ledger.mark().await;
        let (status, body) = call.send().await;
        assert!(status.is_success(), "{}: {status} {body}", scenario.route);
        outcomes.push(Outcome {
            name: scenario.route.to_owned(),
            expect: scenario.expect,
            written: ledger.since(&mark).await,
        });
    }
    judge(&outcomes, wrong);
}

// ---------------------------------------------------------------------------------------------
// The command line.

/// A file the import commands read.
const IMPORT_CSV: &str = "login,display_name,profession\nimported,Imported User,nurse\n";

/// Every `renkei admin` command (named by its first argument) and what it must write. They
/// run in this order on one database, each on what the ones before made.
const COMMANDS: &[(Expect, &[&str])] = &[
    (
        audit(&["org.create"]),
        &["create-org", "--name", "Oita Hospital", "--slug", "oita"],
    ),
    (
        audit(&["department.create"]),
        &["create-department", "--org", "oita", "--name", "外来"],
    ),
    (
        audit(&["user.create"]),
        &[
            "create-user",
            "--org",
            "oita",
            "--login",
            "tanaka",
            "--name",
            "田中 一郎",
            "--profession",
            "doctor",
        ],
    ),
    (
        audit(&["user.status"]),
        &["suspend-user", "--login", "tanaka"],
    ),
    (
        audit(&["user.status"]),
        &["activate-user", "--login", "tanaka"],
    ),
    (
        audit(&["user.second_factor_reset"]),
        &["reset-second-factor", "--login", "tanaka"],
    ),
    (
        audit(&["user.sign_in_released"]),
        &["release-sign-in", "--login", "tanaka"],
    ),
    (
        audit(&["user.status"]),
        &["retire-user", "--login", "tanaka"],
    ),
    (
        audit(&["user.create"]),
        &["import-users", "--org", "oita", "--file", "users.csv"],
    ),
    (
        audit(&["dicom_peer.add"]),
        &[
            "add-dicom-peer",
            "--org",
            "oita",
            "--ae-title",
            "CT1",
            "--allow",
            "127.0.0.1",
        ],
    ),
    (
        audit(&["dicom_peer.remove"]),
        &["remove-dicom-peer", "--org", "oita", "--ae-title", "CT1"],
    ),
    (
        audit(&["gateway.add"]),
        &["create-gateway", "--org", "oita", "--name", "main-building"],
    ),
    (
        audit(&["gateway.remove"]),
        &["remove-gateway", "--org", "oita", "--name", "main-building"],
    ),
    // Gap, reported: `--as-of` (an early purge an administrator decides) writes no entry.
    (
        Expect::Exempt("carries out the organizations' retention policy; nothing is due here"),
        &["expire-media"],
    ),
    (
        Expect::Exempt("reads only"),
        &["list-users", "--org", "oita"],
    ),
    (
        Expect::Exempt("reads only"),
        &["export-users", "--org", "oita", "--to", "export.csv"],
    ),
    (
        Expect::Exempt("reads only"),
        &["list-dicom-peers", "--org", "oita"],
    ),
    (
        Expect::Exempt("reads only"),
        &["list-gateways", "--org", "oita"],
    ),
    (Expect::Exempt("reads only"), &["verify-audit"]),
    (
        Expect::Exempt("copies the database; changes nothing in it"),
        &["backup", "--to", "backup"],
    ),
    (
        Expect::Exempt("fills a new data folder; changes nothing in this one"),
        &["restore", "--from", "backup", "--data-dir", "restored"],
    ),
];

/// Commands PostgreSQL refuses (it is backed up with `pg_dump`): covered, and run on SQLite.
const SQLITE_ONLY: &[&str] = &["backup", "restore"];

/// The subcommands `renkei admin --help` lists.
fn admin_commands(storage: &Storage) -> BTreeSet<String> {
    let help = storage.admin(&["--help"], "");
    let text = String::from_utf8_lossy(&help.stdout);
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

fn succeeded(storage: &Storage, args: &[&str]) {
    let out = storage.admin(args, "");
    assert!(
        out.status.success(),
        "renkei admin {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn every_admin_command_leaves_its_record(storage: Storage) {
    let existing = admin_commands(&storage);
    assert!(existing.len() > 10, "{existing:?}");
    let names: Vec<&str> = COMMANDS.iter().map(|(_, args)| args[0]).collect();
    let wrong = coverage("command", &existing, &names);
    std::fs::write(storage.dir.path().join("users.csv"), IMPORT_CSV).unwrap();
    // Opening the store creates the database.
    succeeded(&storage, &["verify-audit"]);
    let mut ledger = Ledger::open(&storage).await;
    let mut outcomes = Vec::new();
    let on_postgres = storage.database_url.is_some();
    for (expect, args) in COMMANDS {
        if on_postgres && SQLITE_ONLY.contains(&args[0]) {
            continue;
        }
        let mark = ledger.mark().await;
        succeeded(&storage, args);
        outcomes.push(Outcome {
            name: format!("renkei admin {}", args[0]),
            expect: *expect,
            written: ledger.since(&mark).await,
        });
    }
    judge(&outcomes, wrong);
}
