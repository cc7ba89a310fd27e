//! WADO-RS retrieval: a study, a series or an instance as `multipart/related;
//! type="application/dicom"` (the de-identified files), and their metadata as DICOM JSON.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use futures_util::stream;
use renkei_core::dicom::Study;
use renkei_store::blobs::BlobError;
use serde_json::Value;

use super::{Part, dicom_json, multipart, require_accept};
use crate::AppState;
use crate::auth::session::{Authed, Member};
use crate::dicomweb::{audit_view, instance_in, metadata, study_by_uid};
use crate::error::{ApiResult, OrApi};

/// The SOP Instance UIDs of a study (of one series when given); 404 when there are none.
async fn sops(state: &AppState, study: &Study, series: Option<&str>) -> ApiResult<Vec<String>> {
    let sops: Vec<String> = state
        .store
        .instances_of(study.id, series)
        .await
        .or_api("study_not_found")?
        .into_iter()
        .map(|i| i.sop_uid)
        .collect();
    if sops.is_empty() {
        return Err(crate::error::ApiError::not_found("series_not_found"));
    }
    Ok(sops)
}

/// The files streamed one after the other, each opened when its turn comes — the first before
/// answering, so an unreadable instance gives an error status rather than a cut-off body when
/// it is the only one (or the first).
async fn files(state: AppState, study: Study, sops: Vec<String>) -> ApiResult<Response> {
    let mut sops = sops.into_iter();
    let first = match sops.next() {
        Some(sop) => Some(state.dicom.open_instance(study.id, &sop).await?),
        None => None,
    };
    let rest = stream::iter(sops).then(move |sop| {
        let state = state.clone();
        let study = study.id;
        async move {
            match state.dicom.open_instance(study, &sop).await {
                Ok(s) => s.boxed(),
                Err(e) => stream::iter([Err(BlobError::Io(e.message))]).boxed(),
            }
        }
    });
    let parts = stream::iter(first).chain(rest);
    Ok(multipart(
        "application/dicom",
        "application/dicom",
        parts.map(|part| -> Part { part.map(|r| r.map_err(std::io::Error::other)).boxed() }),
    ))
}

async fn retrieve(
    state: AppState,
    me: Authed,
    headers: HeaderMap,
    study_uid: String,
    series: Option<String>,
    service: &'static str,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/dicom"])?;
    let study = study_by_uid(&state, &me, &study_uid).await?;
    let sops = sops(&state, &study, series.as_deref()).await?;
    audit_view(&state, &me, &study, service).await?;
    files(state, study, sops).await
}

/// WADO-RS: every instance of a study.
pub async fn retrieve_study(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
) -> ApiResult<Response> {
    retrieve(state, me, headers, study_uid, None, "retrieve_study").await
}

/// WADO-RS: every instance of a series.
pub async fn retrieve_series(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    retrieve(
        state,
        me,
        headers,
        study_uid,
        Some(series_uid),
        "retrieve_series",
    )
    .await
}

/// WADO-RS: one instance.
pub async fn retrieve_instance(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid, sop_uid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/dicom"])?;
    let study = study_by_uid(&state, &me, &study_uid).await?;
    instance_in(&state, &study, &series_uid, &sop_uid).await?;
    audit_view(&state, &me, &study, "retrieve_instance").await?;
    files(state, study, vec![sop_uid]).await
}

async fn metadata_of(
    state: AppState,
    me: Authed,
    headers: HeaderMap,
    study_uid: String,
    series: Option<String>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/dicom+json", "application/json"])?;
    let study = study_by_uid(&state, &me, &study_uid).await?;
    let mut out = Vec::new();
    for sop in sops(&state, &study, series.as_deref()).await? {
        out.push(metadata(&state, &study, &sop).await?.as_ref().clone());
    }
    audit_view(&state, &me, &study, "metadata").await?;
    Ok(dicom_json(Value::Array(out), StatusCode::OK))
}

/// WADO-RS: the metadata of every instance of a study.
pub async fn study_metadata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
) -> ApiResult<Response> {
    metadata_of(state, me, headers, study_uid, None).await
}

/// WADO-RS: the metadata of every instance of a series.
pub async fn series_metadata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    metadata_of(state, me, headers, study_uid, Some(series_uid)).await
}

/// WADO-RS: the metadata of one instance (an array of one).
pub async fn instance_metadata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid, sop_uid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/dicom+json", "application/json"])?;
    let study = study_by_uid(&state, &me, &study_uid).await?;
    let meta = instance_in(&state, &study, &series_uid, &sop_uid).await?;
    audit_view(&state, &me, &study, "metadata").await?;
    Ok(dicom_json(
        Value::Array(vec![meta.as_ref().clone()]),
        StatusCode::OK,
    ))
}
