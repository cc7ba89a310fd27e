//! Regional councils: the council admin invites hospitals and creates every pairwise
//! agreement among those that opted in; each hospital's admin opts in or out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::agreement::{CouncilMembership, Scope};
use renkei_service::cooperation::councils::{self, CouncilAgreementsDone, CouncilView};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, IdPath};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// The hospital invited.
    org_id: Uuid,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouncilAgreements {
    scopes: Vec<Scope>,
}

/// The councils my hospital was invited to, with its standing in each.
#[utoipa::path(get, path = "/api/v1/councils", tag = "cooperation", security(("bearer" = [])),
    responses((status = 200, body = [CouncilMembership])))]
pub async fn my_councils(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<Vec<CouncilMembership>>> {
    Ok(Json(councils::mine(&state, &me.user).await?))
}

/// A council with its hospitals (its staff, and the hospitals it invited).
#[utoipa::path(get, path = "/api/v1/councils/{id}", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = CouncilView), (status = 404, body = ErrorBody)))]
pub async fn get_council(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<CouncilView>> {
    Ok(Json(councils::get(&state, &me.user, id).await?))
}

/// Invite a hospital (the council's admins).
#[utoipa::path(post, path = "/api/v1/councils/{id}/members", tag = "cooperation", request_body = Invitation, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = CouncilView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "council_not_found, organization_not_found"),
        (status = 409, body = ErrorBody, description = "already_council_member"),
        (status = 422, body = ErrorBody, description = "not_a_hospital")))]
pub async fn invite(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<Invitation>,
) -> ApiResult<(StatusCode, Json<CouncilView>)> {
    let council = councils::invite(&state, &me.user, id, req.org_id).await?;
    Ok((StatusCode::CREATED, Json(council)))
}

/// Take a hospital out of the council (the council's admins): its council agreements end.
#[utoipa::path(delete, path = "/api/v1/councils/{id}/members/{org_id}", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("org_id" = uuid::Uuid, Path)),
    responses((status = 200, body = CouncilView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, org)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<CouncilView>> {
    Ok(Json(councils::remove(&state, &me.user, id, org).await?))
}

/// Opt my hospital in (its admins), once invited. When the council's agreements exist, it
/// gets one with every other opted-in hospital at once.
#[utoipa::path(post, path = "/api/v1/councils/{id}/opt-in", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CouncilView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "council_not_found: not invited"),
        (status = 409, body = ErrorBody, description = "already_opted_in")))]
pub async fn opt_in(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<CouncilView>> {
    Ok(Json(councils::opt_in(&state, &me.user, id).await?))
}

/// Opt my hospital out (its admins): every agreement the council made for it ends at once.
#[utoipa::path(post, path = "/api/v1/councils/{id}/opt-out", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CouncilView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn opt_out(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<CouncilView>> {
    Ok(Json(councils::opt_out(&state, &me.user, id).await?))
}

/// Create every pairwise agreement among the opted-in hospitals, in one transaction (the
/// council's admins); hospitals opting in later get theirs with the same scopes.
#[utoipa::path(post, path = "/api/v1/councils/{id}/agreements", tag = "cooperation", request_body = CouncilAgreements, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CouncilAgreementsDone), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "invalid_scopes")))]
pub async fn create_agreements(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<CouncilAgreements>,
) -> ApiResult<Json<CouncilAgreementsDone>> {
    Ok(Json(
        councils::create_agreements(&state, &me.user, id, &req.scopes).await?,
    ))
}
