//! Organizations and their departments.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::access::{can_administer, can_read, is_server_admin};
use renkei_core::org::{
    Department, DepartmentInput, NewOrganization, Organization, OrganizationPatch,
};
use renkei_core::user::User;

use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::{ApiJson, IdPath, IfMatch, expected_version};
use crate::{AppState, accounts};

/// The organization `id` if `actor` may read it; 404 otherwise (existence is not revealed).
pub(crate) async fn readable_org(
    state: &AppState,
    actor: &User,
    id: renkei_core::Uuid,
) -> ApiResult<Organization> {
    if !can_read(actor, id) {
        return Err(ApiError::not_found("organization_not_found"));
    }
    state.store.org(id).await.or_api("organization_not_found")
}

/// The organization `id` if `actor` may administer it.
pub(crate) async fn administered_org(
    state: &AppState,
    actor: &User,
    id: renkei_core::Uuid,
) -> ApiResult<Organization> {
    let org = readable_org(state, actor, id).await?;
    if !can_administer(actor, id) {
        return Err(ApiError::forbidden(
            "only this organization's administrators may do this",
        ));
    }
    Ok(org)
}

/// Organizations the caller can see: all for a server administrator, else their own.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = [Organization])))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<Vec<Organization>>> {
    if is_server_admin(&me.user) {
        return Ok(Json(
            state
                .store
                .list_orgs()
                .await
                .or_api("organization_not_found")?,
        ));
    }
    Ok(Json(vec![me.org]))
}

/// Create an organization (server administrators).
#[utoipa::path(post, path = "/api/v1/orgs", tag = "organizations", request_body = NewOrganization, security(("bearer" = [])),
    responses((status = 201, body = Organization), (status = 409, body = ErrorBody, description = "slug_taken"),
        (status = 422, body = ErrorBody, description = "invalid_name, invalid_slug, slug_required")))]
pub async fn create_org(
    State(state): State<AppState>,
    Member(me): Member,
    ApiJson(input): ApiJson<NewOrganization>,
) -> ApiResult<(StatusCode, Json<Organization>)> {
    if !is_server_admin(&me.user) {
        return Err(ApiError::forbidden(
            "only server administrators create organizations",
        ));
    }
    let org = accounts::create_org(&state.store, Some(me.user.id), input).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Organization), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Organization>> {
    Ok(Json(readable_org(&state, &me.user, id).await?))
}

/// Edit an organization's name, slug or policy (its administrators).
#[utoipa::path(patch, path = "/api/v1/orgs/{id}", tag = "organizations", request_body = OrganizationPatch, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Organization),
        (status = 409, body = ErrorBody, description = "version_conflict, with `current`"),
        (status = 428, body = ErrorBody, description = "version_required")))]
pub async fn update_org(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(patch): ApiJson<OrganizationPatch>,
) -> ApiResult<Json<Organization>> {
    let org = administered_org(&state, &me.user, id).await?;
    let version = expected_version(if_match, patch.version)?;
    Ok(Json(
        accounts::update_org(&state.store, Some(me.user.id), &org, patch, version).await?,
    ))
}

/// An organization's departments.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/departments", tag = "organizations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [Department])))]
pub async fn list_departments(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<Department>>> {
    let org = readable_org(&state, &me.user, id).await?;
    Ok(Json(
        state
            .store
            .list_departments(org.id)
            .await
            .or_api("organization_not_found")?,
    ))
}

/// Add a department (the organization's administrators).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/departments", tag = "organizations", request_body = DepartmentInput, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = Department), (status = 409, body = ErrorBody, description = "department_exists")))]
pub async fn create_department(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<DepartmentInput>,
) -> ApiResult<(StatusCode, Json<Department>)> {
    let org = administered_org(&state, &me.user, id).await?;
    let dept =
        accounts::create_department(&state.store, Some(me.user.id), &org, &input.name).await?;
    Ok((StatusCode::CREATED, Json(dept)))
}

/// Rename a department.
#[utoipa::path(patch, path = "/api/v1/departments/{id}", tag = "organizations", request_body = DepartmentInput, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Department), (status = 409, body = ErrorBody, description = "version_conflict")))]
pub async fn update_department(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(input): ApiJson<DepartmentInput>,
) -> ApiResult<Json<Department>> {
    let dept = state
        .store
        .department(id)
        .await
        .or_api("department_not_found")?;
    administered_org(&state, &me.user, dept.org_id).await?;
    let version = expected_version(if_match, input.version)?;
    Ok(Json(
        accounts::rename_department(&state.store, Some(me.user.id), &dept, &input.name, version)
            .await?,
    ))
}
