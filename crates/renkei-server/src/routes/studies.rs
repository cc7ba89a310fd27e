//! The image inbox: an organization's received studies, their series and instances, the
//! de-identified files, and the DICOM peers allowed to send them.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::Uuid;
use renkei_core::dicom::{DicomPeer, Instance, NewDicomPeer, Study};
pub use renkei_service::studies::StudyDetail;
use renkei_service::text::ConfirmedClean;
use renkei_service::{dicom_peers, studies, text};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, IdPath};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    offset: Option<i64>,
    /// 1–200 (default 50).
    limit: Option<i64>,
}

/// The organization's image inbox: received studies, newest first.
#[utoipa::path(get, path = "/api/v1/studies", tag = "imaging", security(("bearer" = [])), params(InboxQuery),
    responses((status = 200, body = [Study])))]
pub async fn inbox(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<Vec<Study>>> {
    Ok(Json(studies::inbox(&state, &me, q.offset, q.limit).await?))
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
    Ok(Json(studies::detail(&state, &me, id).await?))
}

/// Confirms that a held study shows no patient information in its images (a user of the
/// hospital that owns it, after looking at it): its held instances are released and it can be
/// shared. Audited with the user's name.
#[utoipa::path(post, path = "/api/v1/studies/{id}/confirm-clean", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConfirmedClean), (status = 403, body = ErrorBody, description = "study_not_owned"), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "study_expired")))]
pub async fn confirm_clean(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<ConfirmedClean>> {
    Ok(Json(text::confirm_clean(&state, &me, id).await?))
}

/// A study's card as a conversation shows it: modality, body part, date, counts, patient-ID
/// tail and the burned-in flag. Not audited as a view (no image is shown); 410 once expired.
#[utoipa::path(get, path = "/api/v1/studies/{id}/card", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Study), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "study_expired")))]
pub async fn card(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Study>> {
    Ok(Json(studies::card(&state, &me, id).await?))
}

/// The instances of one series of a study.
#[utoipa::path(get, path = "/api/v1/studies/{id}/series/{series_uid}/instances", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("series_uid" = String, Path)), responses((status = 200, body = [Instance])))]
pub async fn instances(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, series_uid)): ApiPath<(Uuid, String)>,
) -> ApiResult<Json<Vec<Instance>>> {
    Ok(Json(
        studies::instances(&state, &me, id, &series_uid).await?,
    ))
}

/// The de-identified DICOM file of an instance.
#[utoipa::path(get, path = "/api/v1/studies/{id}/instances/{sop_uid}", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path)),
    responses((status = 200, description = "application/dicom"), (status = 404, body = ErrorBody)))]
pub async fn instance_file(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, sop_uid)): ApiPath<(Uuid, String)>,
) -> ApiResult<Response> {
    let stream = studies::instance_file(&state, &me, id, &sop_uid).await?;
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
    Ok(Json(dicom_peers::list(&state, &me, id).await?))
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
    let peer = dicom_peers::add(&state, &me, id, &input).await?;
    Ok((StatusCode::CREATED, Json(peer)))
}

/// Stop accepting a peer.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/dicom-peers/{ae_title}", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("ae_title" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_peer(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, ae_title)): ApiPath<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    dicom_peers::remove(&state, &me, id, &ae_title).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RenderQuery {
    /// `center,width`, e.g. `-600,1500` for lungs (default: the image's own window).
    window: Option<String>,
    /// `width,height` to fit into, keeping the aspect ratio.
    viewport: Option<String>,
    /// `png` (default) or `jpeg`.
    format: Option<String>,
}

pub(super) fn pair<T: std::str::FromStr>(
    field: &str,
    text: Option<&str>,
) -> ApiResult<Option<(T, T)>> {
    let Some(text) = text else { return Ok(None) };
    let bad = || {
        ApiError::bad_request(
            "invalid_query",
            format!("{field} must be two numbers separated by a comma"),
        )
    };
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    Ok(Some((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    )))
}

pub(super) fn image_response(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One frame (from 1) rendered to PNG or JPEG with a window and a viewport.
#[utoipa::path(get, path = "/api/v1/studies/{id}/instances/{sop_uid}/frames/{frame}/rendered", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path), ("frame" = u32, Path), RenderQuery),
    responses((status = 200, description = "image/png or image/jpeg"), (status = 404, body = ErrorBody)))]
pub async fn rendered_frame(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, sop_uid, frame)): ApiPath<(Uuid, String, u32)>,
    ApiQuery(q): ApiQuery<RenderQuery>,
) -> ApiResult<Response> {
    use renkei_dicom::render::{ImageFormat, RenderOptions};
    let (format, content_type) = match q.format.as_deref() {
        None | Some("png") => (ImageFormat::Png, "image/png"),
        Some("jpeg") | Some("jpg") => (ImageFormat::Jpeg { quality: 85 }, "image/jpeg"),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "format must be png or jpeg",
            ));
        }
    };
    let options = RenderOptions {
        window: pair("window", q.window.as_deref())?,
        format,
        viewport: pair("viewport", q.viewport.as_deref())?,
        window_function: None,
    };
    let bytes = studies::rendered_frame(&state, &me, (id, &sop_uid), frame, options).await?;
    Ok(image_response(bytes, content_type))
}

/// One frame's modality values as 16-bit little-endian samples, for windowing on the client;
/// the `X-Frame-Info` header (JSON) gives size, sample type, rescale, presets and spacing.
#[utoipa::path(get, path = "/api/v1/studies/{id}/instances/{sop_uid}/frames/{frame}/raw", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path), ("frame" = u32, Path)),
    responses((status = 200, description = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn raw_frame(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, sop_uid, frame)): ApiPath<(Uuid, String, u32)>,
) -> ApiResult<Response> {
    let raw = studies::raw_frame(&state, &me, (id, &sop_uid), frame).await?;
    let info = serde_json::to_string(&raw.info).map_err(|e| ApiError::internal(&e))?;
    let mut response = image_response(raw.data, "application/octet-stream");
    if let Ok(v) = HeaderValue::from_str(&info) {
        response.headers_mut().insert("x-frame-info", v);
    }
    Ok(response)
}

/// The waveforms of an instance (a 12-lead ECG: leads, sampling rate, samples in µV).
#[utoipa::path(get, path = "/api/v1/studies/{id}/instances/{sop_uid}/waveforms", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path)),
    responses((status = 200, description = "the multiplex groups with their channels"), (status = 404, body = ErrorBody)))]
pub async fn waveforms(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, sop_uid)): ApiPath<(Uuid, String)>,
) -> ApiResult<Response> {
    let groups = studies::waveforms(&state, &me, (id, &sop_uid)).await?;
    let mut response = Json(groups).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A study's thumbnail for its inbox card: the key frame (middle instance of the main series,
/// first frame) as a small JPEG. The same access as the card, not audited as an image view;
/// the browser may keep it a few minutes (private). 404 `thumbnail_unavailable` for a study
/// with nothing to draw (an ECG).
#[utoipa::path(get, path = "/api/v1/studies/{id}/thumbnail", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "image/jpeg, at most 160 px a side"), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "study_expired")))]
pub async fn study_thumbnail(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let jpeg = studies::thumbnail(&state, &me, id).await?;
    let mut response = image_response(jpeg.to_vec(), "image/jpeg");
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
