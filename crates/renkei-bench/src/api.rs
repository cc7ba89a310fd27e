//! The few REST calls setup needs: sign in, replace a one-time password, list and create
//! users, create groups, register Web Push subscriptions. Every non-success answer becomes an error naming the call.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::BenchResult;

/// An HTTP client for one server, optionally signed in.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// A user as the API shows it (the fields the benchmark reads).
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: String,
    pub login: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub must_change_password: bool,
}

/// A successful sign-in.
#[derive(Debug, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

impl Api {
    pub fn new(http: reqwest::Client, base: &str) -> Api {
        Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: None,
        }
    }

    /// The same client acting with `token`.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// The session token this client acts with, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Sends a request; returns the status and the body (JSON, or the text as a JSON string).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> BenchResult<(StatusCode, Value)> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("{method} {path}: reading the answer: {e}"))?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    /// Like `call`, but anything but `expected` is an error.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> BenchResult<Value> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if status != expected {
            return Err(format!("{method} {path}: {status} {value}").into());
        }
        Ok(value)
    }

    /// Signs in; `Ok(None)` when the credentials are refused.
    pub async fn login(&self, login: &str, password: &str) -> BenchResult<Option<Session>> {
        let body = json!({"login": login, "password": password});
        let (status, value) = self
            .call(Method::POST, "/api/v1/auth/login", Some(body))
            .await?;
        match status {
            StatusCode::OK => Ok(Some(serde_json::from_value(value)?)),
            StatusCode::UNAUTHORIZED => Ok(None),
            _ => Err(format!("sign-in of {login}: {status} {value}").into()),
        }
    }

    /// Replaces the signed-in user's password.
    pub async fn change_password(&self, current: &str, new: &str) -> BenchResult<()> {
        let body = json!({"current_password": current, "new_password": new});
        self.expect(
            Method::PUT,
            "/api/v1/me/password",
            Some(body),
            StatusCode::NO_CONTENT,
        )
        .await?;
        Ok(())
    }

    /// The signed-in user, or `None` when the session is no longer valid.
    pub async fn me(&self) -> BenchResult<Option<User>> {
        let (status, value) = self.call(Method::GET, "/api/v1/me", None).await?;
        match status {
            StatusCode::OK => Ok(Some(serde_json::from_value(value["user"].clone())?)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::LOCKED => Ok(None),
            _ => Err(format!("GET /api/v1/me: {status} {value}").into()),
        }
    }

    /// Every user of the organization.
    pub async fn all_users(&self, org: &str) -> BenchResult<Vec<User>> {
        let mut users = Vec::new();
        loop {
            let path = format!("/api/v1/orgs/{org}/users?limit=500&offset={}", users.len());
            let page: Vec<User> = serde_json::from_value(
                self.expect(Method::GET, &path, None, StatusCode::OK)
                    .await?,
            )?;
            let done = page.len() < 500;
            users.extend(page);
            if done {
                return Ok(users);
            }
        }
    }

    /// Creates a nurse with a one-time password.
    pub async fn create_user(&self, org: &str, login: &str, password: &str) -> BenchResult<User> {
        let body = json!({
            "login": login, "display_name": format!("Bench {login}"), "kana": "べんち",
            "profession": "nurse", "password": password,
        });
        let value = self
            .expect(
                Method::POST,
                &format!("/api/v1/orgs/{org}/users"),
                Some(body),
                StatusCode::CREATED,
            )
            .await?;
        Ok(serde_json::from_value(value)?)
    }

    /// Creates a group of `members` that the caller (an organization admin) is not in;
    /// returns its id.
    pub async fn create_group(&self, title: &str, members: &[String]) -> BenchResult<String> {
        let body =
            json!({"kind": "group", "title": title, "member_ids": members, "include_me": false});
        let value = self
            .expect(
                Method::POST,
                "/api/v1/conversations",
                Some(body),
                StatusCode::CREATED,
            )
            .await?;
        value["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a created group without an id: {value}").into())
    }

    /// Registers a browser's `PushSubscription.toJSON()` for the signed-in user; returns its id.
    pub async fn add_push_subscription(&self, subscription: &Value) -> BenchResult<String> {
        let (status, value) = self
            .call(
                Method::POST,
                "/api/v1/push/subscriptions",
                Some(subscription.clone()),
            )
            .await?;
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(format!("POST /api/v1/push/subscriptions: {status} {value}").into());
        }
        value["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a push subscription without an id: {value}").into())
    }

    /// Removes every push subscription of the signed-in user (an earlier run's).
    pub async fn clear_push_subscriptions(&self) -> BenchResult<usize> {
        let listed = self
            .expect(
                Method::GET,
                "/api/v1/push/subscriptions",
                None,
                StatusCode::OK,
            )
            .await?;
        let ids: Vec<String> = listed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect();
        for id in &ids {
            self.expect(
                Method::DELETE,
                &format!("/api/v1/push/subscriptions/{id}"),
                None,
                StatusCode::NO_CONTENT,
            )
            .await?;
        }
        Ok(ids.len())
    }

    /// The Prometheus text of `/metrics` (with `RENKEI_METRICS_TOKEN` as the bearer token
    /// when set: the server serves them only with its configured token).
    pub async fn metrics(&self) -> BenchResult<String> {
        let mut request = self.http.get(format!("{}/metrics", self.base));
        if let Ok(token) = std::env::var("RENKEI_METRICS_TOKEN") {
            request = request.bearer_auth(token);
        }
        let resp = request
            .send()
            .await
            .map_err(|e| format!("GET /metrics: {e}"))?;
        Ok(resp
            .text()
            .await
            .map_err(|e| format!("GET /metrics: {e}"))?)
    }
}
