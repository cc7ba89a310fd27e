//! Edge gateways: organization admins add and remove them; a gateway fetches its configuration.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::dicom::{Gateway, GatewayConfig, NewGateway};
use renkei_service::gateway;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::gateway_token::GatewayAuth;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, IdPath};

/// A new gateway with its token, shown only in this answer.
#[derive(Serialize, ToSchema)]
pub struct CreatedGateway {
    #[serde(flatten)]
    gateway: Gateway,
    /// Give it to `renkei gateway --token`; the server keeps only its hash.
    token: String,
}

/// An organization's edge gateways (organization admins).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/gateways", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [Gateway])))]
pub async fn list_gateways(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<Gateway>>> {
    Ok(Json(gateway::list_gateways(&state, &me, id).await?))
}

/// Add an edge gateway; the answer holds its token, shown once.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/gateways", tag = "imaging", request_body = NewGateway, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = CreatedGateway), (status = 409, body = ErrorBody, description = "gateway_name_taken")))]
pub async fn add_gateway(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<NewGateway>,
) -> ApiResult<(StatusCode, Json<CreatedGateway>)> {
    let (gateway, token) = gateway::add_gateway(&state, &me, id, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedGateway { gateway, token })))
}

/// Remove a gateway: its token stops working at once.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/gateways/{name}", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("name" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_gateway(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, name)): ApiPath<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    gateway::delete_gateway(&state, &me, id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the calling gateway needs: the organization's de-identification key and rules, the
/// largest instance taken, and the DICOM peers allowed to send (gateway token only).
#[utoipa::path(get, path = "/api/v1/gateway/config", tag = "imaging", security(("bearer" = [])),
    responses((status = 200, body = GatewayConfig), (status = 401, body = ErrorBody, description = "invalid_gateway_token")))]
pub async fn gateway_config(
    State(state): State<AppState>,
    GatewayAuth(caller): GatewayAuth,
) -> ApiResult<Json<GatewayConfig>> {
    Ok(Json(caller.config(&state).await?))
}
