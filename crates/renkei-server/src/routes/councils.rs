//! Regional councils: the council admin invites hospitals and creates every pairwise
//! agreement among those that opted in; each hospital's admin opts in or out.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::access::can_administer;
use renkei_core::agreement::{CouncilMember, CouncilMembership, Scope, validate_scopes};
use renkei_core::audit::AuditEvent;
use renkei_core::org::{OrgKind, Organization};
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

/// A council, its hospitals and the scopes of its agreements.
#[derive(Serialize, ToSchema)]
pub struct CouncilView {
    id: Uuid,
    name: String,
    /// Set once the council admin created the agreements; later opt-ins get the same.
    scopes: Option<Vec<Scope>>,
    members: Vec<CouncilMember>,
    /// Whether the caller administers the council.
    i_administer: bool,
}

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

/// What the council action did.
#[derive(Serialize, ToSchema)]
pub struct CouncilAgreementsDone {
    /// Agreements created now (pairs already in force kept theirs).
    created: usize,
    council: CouncilView,
}

/// Council `id` if the caller may see it: its own staff, or a hospital it invited.
async fn visible_council(state: &AppState, me: &User, id: Uuid) -> ApiResult<Organization> {
    let council = state.store.org(id).await.or_api("council_not_found")?;
    if council.kind != OrgKind::Council {
        return Err(ApiError::not_found("council_not_found"));
    }
    if council.id == me.org_id || can_administer(me, council.id) {
        return Ok(council);
    }
    let invited = state
        .store
        .councils_of(me.org_id)
        .await
        .or_api("council_not_found")?
        .iter()
        .any(|m| m.council_id == id);
    if !invited {
        return Err(ApiError::not_found("council_not_found"));
    }
    Ok(council)
}

/// Council `id` if the caller administers it; 403 for its other users.
async fn administered_council(state: &AppState, me: &User, id: Uuid) -> ApiResult<Organization> {
    let council = visible_council(state, me, id).await?;
    if !can_administer(me, council.id) {
        return Err(ApiError::forbidden(
            "only the council's administrators act for the council",
        ));
    }
    Ok(council)
}

fn require_hospital_admin(me: &User) -> ApiResult<()> {
    if can_administer(me, me.org_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only a hospital's administrators opt it in or out of a council",
        ))
    }
}

async fn council_view(
    state: &AppState,
    me: &User,
    council: Organization,
) -> ApiResult<CouncilView> {
    Ok(CouncilView {
        scopes: state
            .store
            .council_scopes(council.id)
            .await
            .or_api("council_not_found")?,
        members: state
            .store
            .council_members(council.id)
            .await
            .or_api("council_not_found")?,
        i_administer: can_administer(me, council.id),
        id: council.id,
        name: council.name,
    })
}

fn event(action: &'static str, me: &User, council: Uuid, org: Uuid) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(me.org_id),
        Some(me.id),
        "council",
        Some(council),
    )
    .with_details(json!({"org_id": org}))
}

/// The councils my hospital was invited to, with its standing in each.
#[utoipa::path(get, path = "/api/v1/councils", tag = "cooperation", security(("bearer" = [])),
    responses((status = 200, body = [CouncilMembership])))]
pub async fn my_councils(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<Vec<CouncilMembership>>> {
    Ok(Json(
        state
            .store
            .councils_of(me.user.org_id)
            .await
            .or_api("council_not_found")?,
    ))
}

/// A council with its hospitals (its staff, and the hospitals it invited).
#[utoipa::path(get, path = "/api/v1/councils/{id}", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = CouncilView), (status = 404, body = ErrorBody)))]
pub async fn get_council(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<CouncilView>> {
    let council = visible_council(&state, &me.user, id).await?;
    Ok(Json(council_view(&state, &me.user, council).await?))
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
    let me = &me.user;
    let council = administered_council(&state, me, id).await?;
    let org = state
        .store
        .org(req.org_id)
        .await
        .or_api("organization_not_found")?;
    if org.kind != OrgKind::Hospital {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_hospital",
            "a council's members are hospitals",
        ));
    }
    state
        .store
        .invite_to_council(id, org.id, me.id, &event("council.invite", me, id, org.id))
        .await
        .or_api("organization_not_found")?;
    Ok((
        StatusCode::CREATED,
        Json(council_view(&state, me, council).await?),
    ))
}

/// Take a hospital out of the council (the council's admins): its council agreements end.
#[utoipa::path(delete, path = "/api/v1/councils/{id}/members/{org_id}", tag = "cooperation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("org_id" = uuid::Uuid, Path)),
    responses((status = 200, body = CouncilView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Member(me): Member,
    Path((id, org)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<CouncilView>> {
    let me = &me.user;
    let council = administered_council(&state, me, id).await?;
    leave(&state, me, id, org, "council.remove").await?;
    Ok(Json(council_view(&state, me, council).await?))
}

async fn leave(
    state: &AppState,
    me: &User,
    council: Uuid,
    org: Uuid,
    action: &'static str,
) -> ApiResult<()> {
    let removals = state
        .store
        .opt_out_council(council, org, me.id, &event(action, me, council, org))
        .await
        .or_api("council_member_not_found")?;
    announce_removals(state, &removals);
    Ok(())
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
    let me = &me.user;
    let council = visible_council(&state, me, id).await?;
    require_hospital_admin(me)?;
    state
        .store
        .opt_in_council(
            id,
            me.org_id,
            me.id,
            &event("council.opt_in", me, id, me.org_id),
        )
        .await
        .map_err(|e| match e {
            StoreError::Stale => ApiError::new(
                StatusCode::CONFLICT,
                "already_opted_in",
                "this hospital has already opted in",
            ),
            e => ApiError::from_store(e, "council_not_found"),
        })?;
    Ok(Json(council_view(&state, me, council).await?))
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
    let me = &me.user;
    let council = visible_council(&state, me, id).await?;
    require_hospital_admin(me)?;
    leave(&state, me, id, me.org_id, "council.opt_out").await?;
    Ok(Json(council_view(&state, me, council).await?))
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
    let me = &me.user;
    let council = administered_council(&state, me, id).await?;
    let scopes = validate_scopes(&req.scopes)?;
    let audit = AuditEvent::new(
        "council.create_agreements",
        Some(me.org_id),
        Some(me.id),
        "council",
        Some(id),
    );
    let created = state
        .store
        .create_council_agreements(id, &scopes, me.id, &audit)
        .await
        .or_api("council_not_found")?;
    Ok(Json(CouncilAgreementsDone {
        created: created.len(),
        council: council_view(&state, me, council).await?,
    }))
}
