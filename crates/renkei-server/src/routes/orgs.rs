//! Organizations and their departments.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::org::{
    Department, DepartmentInput, DepartmentPatch, NewOrganization, Organization, OrganizationPatch,
};

use crate::AppState;
use crate::accounts::orgs;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, IdPath, IfMatch, expected_version};

/// Organizations the caller can see: all for a server administrator, else their own.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = [Organization])))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<Vec<Organization>>> {
    Ok(Json(orgs::visible_orgs(&state, &me.user, &me.org).await?))
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
    let org = orgs::create_org_as(&state, &me.user, input).await?;
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
    Ok(Json(orgs::readable_org(&state, &me.user, id).await?))
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
    let version = expected_version(if_match, patch.version)?;
    Ok(Json(
        orgs::update_org_as(&state, &me.user, id, patch, version).await?,
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
    Ok(Json(orgs::departments(&state, &me.user, id).await?))
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
    let dept = orgs::add_department(&state, &me.user, id, &input.name).await?;
    Ok((StatusCode::CREATED, Json(dept)))
}

/// Edit a department: rename it, or set its on-call user (`on_call_user_id`, `null` clears),
/// who gets its members' unacknowledged urgent messages when they name no covering colleague.
#[utoipa::path(patch, path = "/api/v1/departments/{id}", tag = "organizations", request_body = DepartmentPatch, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Department), (status = 409, body = ErrorBody, description = "version_conflict"),
        (status = 422, body = ErrorBody, description = "invalid_on_call_user"),
        (status = 428, body = ErrorBody, description = "version_required")))]
pub async fn update_department(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(input): ApiJson<DepartmentPatch>,
) -> ApiResult<Json<Department>> {
    let version = expected_version(if_match, input.version)?;
    Ok(Json(
        orgs::update_department_as(&state, &me.user, id, input, version).await?,
    ))
}
