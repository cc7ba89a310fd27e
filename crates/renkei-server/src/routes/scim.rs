//! SCIM 2.0 (RFC 7644) for identity providers (Entra ID, Okta): Users and Groups under each
//! organization's tenant URL `/scim/v2/{org}`, with its SCIM token. Answers and errors are
//! `application/scim+json`; these routes are outside the OpenAPI document (SCIM's own
//! discovery endpoints describe them).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use renkei_core::scim::{Fault, discovery};
use renkei_service::scim::{fault, groups, users};
use serde_json::Value;

use crate::AppState;
use crate::auth::scim_token::Scim;
use crate::error::{ScimError, ScimResult};

/// The SCIM routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/{org}/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/{org}/ResourceTypes", get(resource_types))
        .route("/scim/v2/{org}/Schemas", get(schemas))
        .route("/scim/v2/{org}/Users", get(list_users).post(create_user))
        .route(
            "/scim/v2/{org}/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/scim/v2/{org}/Groups", get(list_groups).post(create_group))
        .route(
            "/scim/v2/{org}/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
}

/// A SCIM answer: a status and a resource as `application/scim+json`.
fn scim(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    response
}

fn ok(body: Value) -> ScimResult<Response> {
    Ok(scim(StatusCode::OK, body))
}

/// A request body as JSON, or `invalidSyntax`.
fn json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|_| ScimError(fault(Fault::syntax("the body is not JSON"))))
}

/// A list request's `filter`, `startIndex` and `count`, and whether `excludedAttributes`
/// leaves out a group's `members` (Entra ID asks so).
struct ListQuery {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    without_members: bool,
}

impl ListQuery {
    fn of(query: HashMap<String, String>) -> ListQuery {
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        ListQuery {
            filter: get("filter"),
            start_index: get("startIndex").and_then(|v| v.parse().ok()),
            count: get("count").and_then(|v| v.parse().ok()),
            without_members: get("excludedAttributes").is_some_and(|v| {
                v.split(',')
                    .any(|a| a.trim().eq_ignore_ascii_case("members"))
            }),
        }
    }

    /// `body` (a group or a list of groups) as asked: without members when excluded.
    fn shape(&self, mut body: Value) -> Value {
        if self.without_members {
            if let Some(list) = body.get_mut("Resources").and_then(Value::as_array_mut) {
                list.iter_mut().for_each(drop_members);
            } else {
                drop_members(&mut body);
            }
        }
        body
    }
}

fn drop_members(group: &mut Value) {
    if let Some(object) = group.as_object_mut() {
        object.remove("members");
    }
}

async fn service_provider_config(Scim(_): Scim) -> ScimResult<Response> {
    ok(discovery::service_provider_config())
}

async fn resource_types(Scim(caller): Scim) -> ScimResult<Response> {
    ok(discovery::resource_types(&caller.base()))
}

async fn schemas(Scim(_): Scim) -> ScimResult<Response> {
    ok(discovery::schemas())
}

async fn list_users(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Query(query): Query<HashMap<String, String>>,
) -> ScimResult<Response> {
    let q = ListQuery::of(query);
    ok(users::list(&state, &caller, q.filter.as_deref(), q.start_index, q.count).await?)
}

async fn create_user(
    State(state): State<AppState>,
    Scim(caller): Scim,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json(&body)?;
    Ok(scim(
        StatusCode::CREATED,
        users::create(&state, &caller, &body).await?,
    ))
}

async fn get_user(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
) -> ScimResult<Response> {
    ok(users::get(&state, &caller, &id).await?)
}

async fn replace_user(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json(&body)?;
    ok(users::replace(&state, &caller, &id, &body).await?)
}

async fn patch_user(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json(&body)?;
    ok(users::patch(&state, &caller, &id, &body).await?)
}

/// Deactivation: the user is retired, never deleted.
async fn delete_user(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
) -> ScimResult<StatusCode> {
    users::retire(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_groups(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Query(query): Query<HashMap<String, String>>,
) -> ScimResult<Response> {
    let q = ListQuery::of(query);
    let list = groups::list(&state, &caller, q.filter.as_deref(), q.start_index, q.count).await?;
    ok(q.shape(list))
}

async fn create_group(
    State(state): State<AppState>,
    Scim(caller): Scim,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json(&body)?;
    Ok(scim(
        StatusCode::CREATED,
        groups::create(&state, &caller, &body).await?,
    ))
}

async fn get_group(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ScimResult<Response> {
    ok(ListQuery::of(query).shape(groups::get(&state, &caller, &id).await?))
}

async fn replace_group(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json(&body)?;
    ok(groups::replace(&state, &caller, &id, &body).await?)
}

async fn patch_group(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json(&body)?;
    ok(groups::patch(&state, &caller, &id, &body).await?)
}

/// The group is emptied; the department stays.
async fn delete_group(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path((_, id)): Path<(String, String)>,
) -> ScimResult<StatusCode> {
    groups::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
