//! Cooperation agreements between hospitals: list, propose, accept, revoke (at once).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::agreement::Scope;
use renkei_service::cooperation::agreements::{self, AgreementView, OrgSummary};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, IdPath};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    /// The hospital asked to accept.
    partner_org_id: Uuid,
    /// What the two may do together.
    scopes: Vec<Scope>,
}

/// The agreements of my organization (in force, proposed, and revoked), newest first.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "cooperation", security(("bearer" = [])),
    responses((status = 200, body = [AgreementView])))]
pub async fn list_agreements(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<Vec<AgreementView>>> {
    Ok(Json(agreements::list(&state, &me.user).await?))
}

/// Propose an agreement to another hospital (organization admins).
#[utoipa::path(post, path = "/api/v1/agreements", tag = "cooperation", request_body = NewAgreement, security(("bearer" = [])),
    responses((status = 201, body = AgreementView),
        (status = 403, body = ErrorBody, description = "not an organization admin"),
        (status = 404, body = ErrorBody, description = "organization_not_found"),
        (status = 409, body = ErrorBody, description = "agreement_exists: one is already proposed or in force"),
        (status = 422, body = ErrorBody, description = "self_agreement, not_a_hospital, invalid_scopes")))]
pub async fn propose(
    State(state): State<AppState>,
    Member(me): Member,
    ApiJson(req): ApiJson<NewAgreement>,
) -> ApiResult<(StatusCode, Json<AgreementView>)> {
    let proposed = agreements::propose(&state, &me.user, req.partner_org_id, &req.scopes).await?;
    Ok((StatusCode::CREATED, Json(proposed)))
}

/// Accept an agreement proposed to my organization (its admins); it is in force at once.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/accept", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AgreementView),
        (status = 403, body = ErrorBody, description = "not an admin of the organization asked"),
        (status = 404, body = ErrorBody, description = "agreement_not_found"),
        (status = 409, body = ErrorBody, description = "agreement_not_proposed")))]
pub async fn accept(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<AgreementView>> {
    Ok(Json(agreements::accept(&state, &me.user, id).await?))
}

/// Revoke (or decline, or withdraw) an agreement, by either side's admins. Access ends at
/// once: members of the other organization leave shared conversations, live sockets
/// included, and shared studies stop opening.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/revoke", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AgreementView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "agreement_not_found"),
        (status = 409, body = ErrorBody, description = "agreement_revoked: already revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<AgreementView>> {
    Ok(Json(agreements::revoke(&state, &me.user, id).await?))
}

/// Every organization on this server, to choose a partner or see a council's members.
#[utoipa::path(get, path = "/api/v1/cooperation/orgs", tag = "cooperation", security(("bearer" = [])),
    responses((status = 200, body = [OrgSummary])))]
pub async fn list_cooperation_orgs(
    State(state): State<AppState>,
    Member(_me): Member,
) -> ApiResult<Json<Vec<OrgSummary>>> {
    Ok(Json(agreements::organizations(&state).await?))
}
