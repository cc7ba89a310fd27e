//! Cooperation agreements between hospitals: list, propose, accept, revoke (at once).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::access::can_administer;
use renkei_core::agreement::{Agreement, AgreementStatus, Scope, check_parties, validate_scopes};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::OrgKind;
use renkei_core::user::User;
use renkei_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member;
use crate::cooperation::announce_removals;
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::{ApiJson, IdPath};

/// An agreement as one of its parties sees it.
#[derive(Serialize, ToSchema)]
pub struct AgreementView {
    #[serde(flatten)]
    agreement: Agreement,
    /// The other organization, seen from the caller's.
    other_org_id: Uuid,
    other_org_name: String,
    /// Whether the caller's organization proposed it.
    proposed_by_us: bool,
}

/// An organization another may propose an agreement to.
#[derive(Serialize, ToSchema)]
pub struct OrgSummary {
    id: Uuid,
    name: String,
    slug: String,
    kind: OrgKind,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    /// The hospital asked to accept.
    partner_org_id: Uuid,
    /// What the two may do together.
    scopes: Vec<Scope>,
}

async fn view(state: &AppState, me: &User, agreement: Agreement) -> ApiResult<AgreementView> {
    let other = agreement.other_than(me.org_id);
    let other_org = state
        .store
        .org(other)
        .await
        .or_api("organization_not_found")?;
    Ok(AgreementView {
        proposed_by_us: agreement.proposer_org_id == me.org_id,
        other_org_id: other,
        other_org_name: other_org.name,
        agreement,
    })
}

fn require_admin(me: &User) -> ApiResult<()> {
    if can_administer(me, me.org_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only an organization administrator manages cooperation agreements",
        ))
    }
}

/// Agreement `id` if it involves the caller's organization; 404 otherwise.
async fn own_agreement(state: &AppState, me: &User, id: Uuid) -> ApiResult<Agreement> {
    let agreement = state
        .store
        .agreement(id)
        .await
        .or_api("agreement_not_found")?;
    if !agreement.involves(me.org_id) {
        return Err(ApiError::not_found("agreement_not_found"));
    }
    Ok(agreement)
}

fn audit(action: &'static str, me: &User, agreement: &Agreement) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(me.org_id),
        Some(me.id),
        "agreement",
        Some(agreement.id),
    )
    .with_details(json!({
        "proposer_org_id": agreement.proposer_org_id,
        "partner_org_id": agreement.partner_org_id,
        "scopes": agreement.scopes,
    }))
}

/// The agreements of my organization (in force, proposed, and revoked), newest first.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "cooperation", security(("bearer" = [])),
    responses((status = 200, body = [AgreementView])))]
pub async fn list_agreements(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<Vec<AgreementView>>> {
    let list = state
        .store
        .agreements_of(me.user.org_id)
        .await
        .or_api("agreement_not_found")?;
    let mut out = Vec::with_capacity(list.len());
    for agreement in list {
        out.push(view(&state, &me.user, agreement).await?);
    }
    Ok(Json(out))
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
    let me_user = &me.user;
    require_admin(me_user)?;
    let scopes = validate_scopes(&req.scopes)?;
    let partner = state
        .store
        .org(req.partner_org_id)
        .await
        .or_api("organization_not_found")?;
    check_parties(&me.org, &partner)?;
    let agreement = Agreement {
        id: renkei_core::new_id(),
        proposer_org_id: me.org.id,
        partner_org_id: partner.id,
        scopes,
        status: AgreementStatus::Proposed,
        council_id: None,
        proposed_by: Some(me_user.id),
        proposed_at: Timestamp::now(),
        accepted_by: None,
        accepted_at: None,
        revoked_by: None,
        revoked_at: None,
    };
    let stored = state
        .store
        .propose_agreement(&agreement, &audit("agreement.propose", me_user, &agreement))
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ApiError::new(
                StatusCode::CONFLICT,
                "agreement_exists",
                "these organizations already have an agreement proposed or in force; revoke it first",
            ),
            e => ApiError::from_store(e, "organization_not_found"),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state, me_user, stored).await?),
    ))
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
    let me = &me.user;
    let agreement = own_agreement(&state, me, id).await?;
    require_admin(me)?;
    if agreement.partner_org_id != me.org_id {
        return Err(ApiError::forbidden(
            "the organization an agreement was proposed to accepts it",
        ));
    }
    let accepted = state
        .store
        .accept_agreement(id, me.id, &audit("agreement.accept", me, &agreement))
        .await
        .map_err(|e| match e {
            StoreError::Stale => ApiError::new(
                StatusCode::CONFLICT,
                "agreement_not_proposed",
                "this agreement is no longer waiting for acceptance",
            ),
            e => ApiError::from_store(e, "agreement_not_found"),
        })?;
    Ok(Json(view(&state, me, accepted).await?))
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
    let me = &me.user;
    let agreement = own_agreement(&state, me, id).await?;
    require_admin(me)?;
    let (revoked, removals) = state
        .store
        .revoke_agreement(id, me.id, &audit("agreement.revoke", me, &agreement))
        .await
        .map_err(|e| match e {
            StoreError::Stale => ApiError::new(
                StatusCode::CONFLICT,
                "agreement_revoked",
                "this agreement was already revoked",
            ),
            e => ApiError::from_store(e, "agreement_not_found"),
        })?;
    announce_removals(&state, &removals);
    Ok(Json(view(&state, me, revoked).await?))
}

/// Every organization on this server, to choose a partner or see a council's members.
#[utoipa::path(get, path = "/api/v1/cooperation/orgs", tag = "cooperation", security(("bearer" = [])),
    responses((status = 200, body = [OrgSummary])))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Member(_me): Member,
) -> ApiResult<Json<Vec<OrgSummary>>> {
    let orgs = state
        .store
        .list_orgs()
        .await
        .or_api("organization_not_found")?;
    Ok(Json(
        orgs.into_iter()
            .map(|o| OrgSummary {
                id: o.id,
                name: o.name,
                slug: o.slug,
                kind: o.kind,
            })
            .collect(),
    ))
}
