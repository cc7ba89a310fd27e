//! QIDO-RS: search the studies a caller may see, a study's series and instances, with the
//! standard query keys; results in the DICOM JSON model.

use std::collections::HashMap;

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use renkei_core::Uuid;
use renkei_core::dicom::{Instance, Series, Study};
use renkei_dicom::json::tag_key;
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

/// A candidate result: a study, one of its series, or one of its instances.
enum Entity {
    Study,
    Series(Series),
    Instance(Instance),
}

/// The row from the index alone.
fn indexed_row(study: &Study, entity: &Entity) -> Map<String, Value> {
    match entity {
        Entity::Study => study_row(study, None),
        Entity::Series(series) => series_row(study, series, None),
        Entity::Instance(instance) => instance_row(study, instance, None),
    }
}

/// The row with the attributes of the entity's (first) instance.
async fn full_row(
    state: &AppState,
    study: &Study,
    entity: &Entity,
) -> ApiResult<Map<String, Value>> {
    let sop = match entity {
        Entity::Instance(instance) => Some(instance.sop_uid.clone()),
        Entity::Study => state
            .store
            .first_instance_uid(study.id, None)
            .await
            .or_api("study_not_found")?,
        Entity::Series(series) => state
            .store
            .first_instance_uid(study.id, Some(&series.series_uid))
            .await
            .or_api("study_not_found")?,
    };
    let header = match sop {
        Some(sop) => Some(metadata(state, study, &sop).await?),
        None => None,
    };
    let header = header.as_deref();
    Ok(match entity {
        Entity::Study => study_row(study, header),
        Entity::Series(series) => series_row(study, series, header),
        Entity::Instance(instance) => instance_row(study, instance, header),
    })
}

/// The page of matching results, projected. Candidates are first judged on the index; files
/// are read only for keys the index lacks and for the rows returned.
async fn select(
    state: &AppState,
    level: Level,
    query: &Query,
    candidates: Vec<(Study, Entity)>,
) -> ApiResult<Response> {
    let mut found = Vec::new();
    let mut skipped = 0;
    for (study, entity) in &candidates {
        if found.len() >= query.limit {
            break;
        }
        let indexed = indexed_row(study, entity);
        let needs_file = query
            .filters
            .iter()
            .any(|f| !indexed.contains_key(&tag_key(f.tag)));
        if !query.matches_present(&Value::Object(indexed)) {
            continue;
        }
        let mut row = None;
        if needs_file {
            let full = full_row(state, study, entity).await?;
            if !query.matches(&Value::Object(full.clone())) {
                continue;
            }
            row = Some(full);
        }
        if skipped < query.offset {
            skipped += 1;
            continue;
        }
        let row = match row {
            Some(row) => row,
            None => full_row(state, study, entity).await?,
        };
        found.push(project(level, query, &row));
    }
    Ok(dicom_json(Value::Array(found), StatusCode::OK))
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
    // Another organization's shared study is listed only while the two organizations'
    // agreement holds the images scope (the same rule as opening it).
    let mut partners: HashMap<Uuid, bool> = HashMap::new();
    let mut candidates = Vec::with_capacity(studies.len());
    for study in studies {
        if study.org_id != me.user.org_id {
            let open = match partners.get(&study.org_id) {
                Some(open) => *open,
                None => {
                    let open = crate::cooperation::cooperates_for_images(
                        state.store.clone(),
                        me.user.org_id,
                        study.org_id,
                    )
                    .await?;
                    partners.insert(study.org_id, open);
                    open
                }
            };
            if !open {
                continue;
            }
        }
        candidates.push((study, Entity::Study));
    }
    select(&state, Level::Study, &query, candidates).await
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
    let candidates = state
        .store
        .series_of(study.id)
        .await
        .or_api("study_not_found")?
        .into_iter()
        .map(|s| (study.clone(), Entity::Series(s)))
        .collect();
    select(&state, Level::Series, &query, candidates).await
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
    let candidates = state
        .store
        .instances_of(study.id, series_uid)
        .await
        .or_api("study_not_found")?
        .into_iter()
        .map(|i| (study.clone(), Entity::Instance(i)))
        .collect();
    select(state, Level::Instance, &query, candidates).await
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
