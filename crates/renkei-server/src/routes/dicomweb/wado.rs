//! WADO-RS retrieval: a study, a series or an instance as `multipart/related;
//! type="application/dicom"` (the de-identified files), and their metadata as DICOM JSON
//! (`renkei_service::dicomweb::wado`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use renkei_service::dicomweb::wado::{self, Target};
use serde_json::Value;

use super::{Part, dicom_json, multipart, require_accept};
use crate::AppState;
use crate::auth::session::{Authed, Member};
use crate::error::ApiResult;

/// The files `target` names as a multipart response, streamed.
async fn retrieve(
    state: AppState,
    me: Authed,
    headers: HeaderMap,
    study_uid: String,
    target: Target<'_>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/dicom"])?;
    let files = wado::retrieve(&state, &me, &study_uid, target).await?;
    Ok(multipart(
        "application/dicom",
        "application/dicom",
        files.map(|file| -> Part { file.map(|r| r.map_err(std::io::Error::other)).boxed() }),
    ))
}

/// WADO-RS: every instance of a study.
pub async fn retrieve_study(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
) -> ApiResult<Response> {
    retrieve(state, me, headers, study_uid, Target::Study).await
}

/// WADO-RS: every instance of a series.
pub async fn retrieve_series(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    retrieve(state, me, headers, study_uid, Target::Series(&series_uid)).await
}

/// WADO-RS: one instance.
pub async fn retrieve_instance(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid, sop_uid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let target = Target::Instance {
        series: &series_uid,
        sop: &sop_uid,
    };
    retrieve(state, me, headers, study_uid, target).await
}

/// The metadata of every instance `target` names, as DICOM JSON.
async fn metadata_of(
    state: AppState,
    me: Authed,
    headers: HeaderMap,
    study_uid: String,
    target: Target<'_>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/dicom+json", "application/json"])?;
    let out = wado::metadata(&state, &me, &study_uid, target).await?;
    Ok(dicom_json(Value::Array(out), StatusCode::OK))
}

/// WADO-RS: the metadata of every instance of a study.
pub async fn study_metadata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
) -> ApiResult<Response> {
    metadata_of(state, me, headers, study_uid, Target::Study).await
}

/// WADO-RS: the metadata of every instance of a series.
pub async fn series_metadata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    metadata_of(state, me, headers, study_uid, Target::Series(&series_uid)).await
}

/// WADO-RS: the metadata of one instance (an array of one).
pub async fn instance_metadata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid, sop_uid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let target = Target::Instance {
        series: &series_uid,
        sop: &sop_uid,
    };
    metadata_of(state, me, headers, study_uid, target).await
}
