//! QIDO-RS: search the studies a caller may see, a study's series and instances, with the
//! standard query keys; results in the DICOM JSON model (`renkei_service::dicomweb::qido`).

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use renkei_dicom::qido::{Query, QueryError};
use renkei_service::dicomweb::qido;
use serde_json::Value;

use super::{dicom_json, require_accept};
use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult};

type Pairs = UrlQuery<Vec<(String, String)>>;

fn parse(headers: &HeaderMap, pairs: &[(String, String)]) -> ApiResult<Query> {
    require_accept(headers, &["application/dicom+json", "application/json"])?;
    Query::parse(pairs).map_err(|QueryError { code, message }| ApiError::bad_request(code, message))
}

fn found(rows: Vec<Value>) -> Response {
    dicom_json(Value::Array(rows), StatusCode::OK)
}

/// QIDO-RS `GET /dicomweb/studies`: the caller's organization's studies and those shared
/// with them, newest first.
pub async fn search_studies(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    UrlQuery(pairs): Pairs,
) -> ApiResult<Response> {
    let query = parse(&headers, &pairs)?;
    Ok(found(qido::search_studies(&state, &me, &query).await?))
}

/// QIDO-RS `GET /dicomweb/studies/{study}/series`.
pub async fn search_series(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
    UrlQuery(pairs): Pairs,
) -> ApiResult<Response> {
    let query = parse(&headers, &pairs)?;
    Ok(found(
        qido::search_series(&state, &me, &study_uid, &query).await?,
    ))
}

/// QIDO-RS `GET /dicomweb/studies/{study}/series/{series}/instances`.
pub async fn search_instances(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid)): Path<(String, String)>,
    UrlQuery(pairs): Pairs,
) -> ApiResult<Response> {
    let query = parse(&headers, &pairs)?;
    let rows = qido::search_instances(&state, &me, &study_uid, Some(&series_uid), &query).await?;
    Ok(found(rows))
}

/// QIDO-RS `GET /dicomweb/studies/{study}/instances`.
pub async fn search_study_instances(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
    UrlQuery(pairs): Pairs,
) -> ApiResult<Response> {
    let query = parse(&headers, &pairs)?;
    Ok(found(
        qido::search_instances(&state, &me, &study_uid, None, &query).await?,
    ))
}
