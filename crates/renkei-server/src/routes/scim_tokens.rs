//! Provisioning set-up for organization administrators: the tenant URL and the SCIM token
//! (created or rotated, shown once; revoked).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_service::scim::{self, ScimSetup};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::IdPath;

/// The set-up with the new token, shown only in this answer.
#[derive(Serialize, ToSchema)]
pub struct CreatedScimToken {
    #[serde(flatten)]
    setup: ScimSetup,
    /// Give it to the identity provider as the secret (bearer) token; the server keeps only
    /// its hash.
    token: String,
}

/// The organization's provisioning (SCIM) set-up: tenant URL path, token state, last use.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/scim", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ScimSetup)))]
pub async fn get_scim(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<ScimSetup>> {
    Ok(Json(scim::status(&state, &me.user, id).await?))
}

/// Create the SCIM token, or replace it: the previous token stops working at once. The
/// answer holds the token, shown once.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/scim/token", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 201, body = CreatedScimToken)))]
pub async fn rotate_scim_token(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<(StatusCode, Json<CreatedScimToken>)> {
    let (setup, token) = scim::rotate(&state, &me.user, id).await?;
    Ok((StatusCode::CREATED, Json(CreatedScimToken { setup, token })))
}

/// Revoke the SCIM token: provisioning stops at once.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/scim/token", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody, description = "scim_token_not_found")))]
pub async fn revoke_scim_token(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    scim::revoke(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
