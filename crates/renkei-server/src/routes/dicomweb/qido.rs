//! QIDO-RS: search the studies a caller may see, a study's series and instances, with the
//! standard query keys; results in the DICOM JSON model.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use renkei_core::dicom::Study;
use renkei_dicom::qido::{Query, QueryError};
use serde_json::{Map, Value};

use super::{dicom_json, require_accept};
use crate::AppState;
use crate::auth::session::Member;
use crate::dicomweb::{
    Level, audit_view, instance_row, metadata, project, series_row, study_by_uid, study_row,
};
use crate::error::{ApiError, ApiResult, OrApi};

/// Studies considered per search (the newest); QIDO-RS pages within them.
const MAX_STUDIES: i64 = 10_000;

type Pairs = UrlQuery<Vec<(String, String)>>;

fn parse(headers: &HeaderMap, pairs: &[(String, String)]) -> ApiResult<Query> {
    require_accept(headers, &["application/dicom+json", "application/json"])?;
    Query::parse(pairs).map_err(|QueryError { code, message }| ApiError::bad_request(code, message))
}

/// The page of matching rows, projected.
fn page(level: Level, query: &Query, rows: Vec<Map<String, Value>>) -> Response {
    let found: Vec<Value> = rows
        .iter()
        .filter(|row| query.matches(&Value::Object((*row).clone())))
        .skip(query.offset)
        .take(query.limit)
        .map(|row| project(level, query, row))
        .collect();
    dicom_json(Value::Array(found), StatusCode::OK)
}

/// The metadata of a study's first instance (of one series when given), if any.
async fn header_of(
    state: &AppState,
    study: &Study,
    series: Option<&str>,
) -> ApiResult<Option<Value>> {
    let Some(sop) = state
        .store
        .first_instance_uid(study.id, series)
        .await
        .or_api("study_not_found")?
    else {
        return Ok(None);
    };
    Ok(Some(metadata(state, study, &sop).await?.as_ref().clone()))
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
    let studies = state
        .store
        .visible_studies(me.user.org_id, me.user.id, MAX_STUDIES)
        .await
        .or_api("study_not_found")?;
    let mut rows = Vec::new();
    for study in &studies {
        // Only the index is needed to reject on the indexed keys; read the file for the rest.
        let indexed = study_row(study, None);
        if !query.matches_present(&Value::Object(indexed)) {
            continue;
        }
        let header = header_of(&state, study, None).await?;
        rows.push(study_row(study, header.as_ref()));
    }
    Ok(page(Level::Study, &query, rows))
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
    let study = study_by_uid(&state, &me, &study_uid).await?;
    audit_view(&state, &me, &study, "qido_series").await?;
    let mut rows = Vec::new();
    for series in state
        .store
        .series_of(study.id)
        .await
        .or_api("study_not_found")?
    {
        let header = header_of(&state, &study, Some(&series.series_uid)).await?;
        rows.push(series_row(&study, &series, header.as_ref()));
    }
    Ok(page(Level::Series, &query, rows))
}

async fn instances(
    state: &AppState,
    me: &crate::auth::session::Authed,
    headers: &HeaderMap,
    study_uid: &str,
    series_uid: Option<&str>,
    pairs: &[(String, String)],
) -> ApiResult<Response> {
    let query = parse(headers, pairs)?;
    let study = study_by_uid(state, me, study_uid).await?;
    audit_view(state, me, &study, "qido_instances").await?;
    let mut rows = Vec::new();
    for instance in state
        .store
        .instances_of(study.id, series_uid)
        .await
        .or_api("study_not_found")?
    {
        let header = metadata(state, &study, &instance.sop_uid).await?;
        rows.push(instance_row(&study, &instance, Some(&header)));
    }
    Ok(page(Level::Instance, &query, rows))
}

/// QIDO-RS `GET /dicomweb/studies/{study}/series/{series}/instances`.
pub async fn search_instances(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study_uid, series_uid)): Path<(String, String)>,
    UrlQuery(pairs): Pairs,
) -> ApiResult<Response> {
    instances(&state, &me, &headers, &study_uid, Some(&series_uid), &pairs).await
}

/// QIDO-RS `GET /dicomweb/studies/{study}/instances`.
pub async fn search_study_instances(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
    UrlQuery(pairs): Pairs,
) -> ApiResult<Response> {
    instances(&state, &me, &headers, &study_uid, None, &pairs).await
}
