//! The image inbox: an organization's received studies, their series and instances, the
//! de-identified files, and the DICOM peers allowed to send them.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::Uuid;
use renkei_core::access::can_administer;
use renkei_core::audit::AuditEvent;
use renkei_core::dicom::{DicomPeer, Instance, NewDicomPeer, Series, Study};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::orgs::administered_org;
use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::{ApiJson, ApiQuery, IdPath};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    offset: Option<i64>,
    /// 1–200 (default 50).
    limit: Option<i64>,
}

/// A study with its series, as the viewer opens it.
#[derive(Serialize, ToSchema)]
pub struct StudyDetail {
    #[serde(flatten)]
    study: Study,
    series: Vec<Series>,
}

/// The organization's image inbox: received studies, newest first.
#[utoipa::path(get, path = "/api/v1/studies", tag = "imaging", security(("bearer" = [])), params(InboxQuery),
    responses((status = 200, body = [Study])))]
pub async fn inbox(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<Vec<Study>>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        state
            .store
            .studies(me.user.org_id, q.offset.unwrap_or(0).max(0), limit)
            .await
            .or_api("study_not_found")?,
    ))
}

/// One study and its series (its organization's users, and members of conversations it was
/// shared in). Every view is audited.
#[utoipa::path(get, path = "/api/v1/studies/{id}", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = StudyDetail), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "study_expired")))]
pub async fn study(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<StudyDetail>> {
    let study = state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await?;
    let series = state.store.series_of(id).await.or_api("study_not_found")?;
    let event = AuditEvent::new(
        "study.view",
        Some(me.user.org_id),
        Some(me.user.id),
        "study",
        Some(id),
    );
    state
        .store
        .append_audit(&event)
        .await
        .or_api("study_not_found")?;
    Ok(Json(StudyDetail { study, series }))
}

/// The instances of one series of a study.
#[utoipa::path(get, path = "/api/v1/studies/{id}/series/{series_uid}/instances", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("series_uid" = String, Path)), responses((status = 200, body = [Instance])))]
pub async fn instances(
    State(state): State<AppState>,
    Member(me): Member,
    Path((id, series_uid)): Path<(Uuid, String)>,
) -> ApiResult<Json<Vec<Instance>>> {
    state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await?;
    Ok(Json(
        state
            .store
            .instances_of(id, Some(&series_uid))
            .await
            .or_api("study_not_found")?,
    ))
}

/// The de-identified DICOM file of an instance.
#[utoipa::path(get, path = "/api/v1/studies/{id}/instances/{sop_uid}", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path)),
    responses((status = 200, description = "application/dicom"), (status = 404, body = ErrorBody)))]
pub async fn instance_file(
    State(state): State<AppState>,
    Member(me): Member,
    Path((id, sop_uid)): Path<(Uuid, String)>,
) -> ApiResult<Response> {
    state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await?;
    let stream = state.dicom.open_instance(id, &sop_uid).await?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/dicom"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"instance.dcm\""),
    );
    Ok(response)
}

/// The DICOM peers (AE titles and address ranges) allowed to send to an organization.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/dicom-peers", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [DicomPeer])))]
pub async fn list_peers(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<DicomPeer>>> {
    let org = administered_org(&state, &me.user, id).await?;
    Ok(Json(
        state
            .store
            .dicom_peers(org.id)
            .await
            .or_api("organization_not_found")?,
    ))
}

/// Allow a PACS or modality to send (organization admins).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/dicom-peers", tag = "imaging", request_body = NewDicomPeer, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = DicomPeer), (status = 409, body = ErrorBody, description = "ae_title_taken")))]
pub async fn add_peer(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<NewDicomPeer>,
) -> ApiResult<(StatusCode, Json<DicomPeer>)> {
    let org = administered_org(&state, &me.user, id).await?;
    let peer = crate::dicom::add_peer(&state.store, Some(me.user.id), &org, &input).await?;
    Ok((StatusCode::CREATED, Json(peer)))
}

/// Stop accepting a peer.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/dicom-peers/{ae_title}", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("ae_title" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_peer(
    State(state): State<AppState>,
    Member(me): Member,
    Path((id, ae_title)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    if !can_administer(&me.user, id) {
        return Err(ApiError::not_found("organization_not_found"));
    }
    crate::dicom::remove_peer(&state.store, Some(me.user.id), id, &ae_title).await?;
    Ok(StatusCode::NO_CONTENT)
}
