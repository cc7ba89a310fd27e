//! Two hospitals and their agreements, as the cooperation tests set them up.

use reqwest::StatusCode;
use serde_json::json;

use super::{Api, Server, active_user_with};

/// Creates an organization (as the server admin) and returns its id.
pub async fn org(admin: &Api, name: &str, slug: &str, kind: &str) -> String {
    let (status, body) = admin
        .post(
            "/api/v1/orgs",
            json!({"name": name, "slug": slug, "kind": kind}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// An active administrator of `org`.
pub async fn org_admin(server: &Server, admin: &Api, org: &str, login: &str) -> Api {
    let extra = json!({"roles": ["org_admin"], "profession": "clerk", "display_name": "Admin"});
    active_user_with(server, admin, org, login, extra).await.0
}

/// Proposes (from `from`) and accepts (by `to`) an agreement; returns its id.
pub async fn agree(from: &Api, to: &Api, partner: &str, scopes: &[&str]) -> String {
    let (status, proposed) = from
        .post(
            "/api/v1/agreements",
            json!({"partner_org_id": partner, "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{proposed}");
    let id = proposed["id"].as_str().unwrap().to_owned();
    let (status, accepted) = to
        .post(&format!("/api/v1/agreements/{id}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "active");
    id
}
