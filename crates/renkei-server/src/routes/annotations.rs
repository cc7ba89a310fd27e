//! Annotations on a study's frames, stored in the study as presentation states (GSPS).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_service::annotations::{self, FrameAnnotations, NewAnnotations};

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, IdPath};

/// Every annotation stored in a study (its presentation states), oldest first.
#[utoipa::path(get, path = "/api/v1/studies/{id}/annotations", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = [FrameAnnotations]), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "study_expired")))]
pub async fn list(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<FrameAnnotations>>> {
    Ok(Json(annotations::list(&state, &me, id).await?))
}

/// Stores what was drawn on a frame as a Grayscale Softcopy Presentation State in the study
/// (retrievable through DICOMweb, expiring with the study). Audited as `study.annotate`.
#[utoipa::path(post, path = "/api/v1/studies/{id}/annotations", tag = "imaging", request_body = NewAnnotations, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = FrameAnnotations), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "annotation_outside_image, annotation_bad_text, …")))]
pub async fn save(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<NewAnnotations>,
) -> ApiResult<(StatusCode, Json<FrameAnnotations>)> {
    let saved = annotations::save(&state, &me, id, input).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}
