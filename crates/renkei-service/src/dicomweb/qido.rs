//! QIDO-RS searches: the studies a caller may see, a study's series and its instances.
//! Candidates are judged on the index first; files are read only for keys the index lacks
//! and for the rows returned.

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::dicom::{Instance, Series, Study};
use renkei_dicom::json::tag_key;
use renkei_dicom::qido::Query;
use serde_json::{Map, Value};

use super::{
    Level, audit_view, instance_row, metadata, project, series_row, study_by_uid, study_row,
};
use crate::Services;
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceResult};

/// Studies considered per search (the newest); QIDO-RS pages within them.
const MAX_STUDIES: i64 = 10_000;

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
    state: &Services,
    study: &Study,
    entity: &Entity,
) -> ServiceResult<Map<String, Value>> {
    let sop = match entity {
        Entity::Instance(instance) => Some(instance.sop_uid.clone()),
        Entity::Study => state
            .store
            .first_instance_uid(study.id, None)
            .await
            .or_service("study_not_found")?,
        Entity::Series(series) => state
            .store
            .first_instance_uid(study.id, Some(&series.series_uid))
            .await
            .or_service("study_not_found")?,
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

/// The page of matching results, projected.
async fn select(
    state: &Services,
    level: Level,
    query: &Query,
    candidates: Vec<(Study, Entity)>,
) -> ServiceResult<Vec<Value>> {
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
    Ok(found)
}

/// The caller's organization's studies and those shared with them, newest first; another
/// organization's shared study only while the two organizations' agreement holds the images
/// scope (the same rule as opening it).
pub async fn search_studies(
    state: &Services,
    me: &Authed,
    query: &Query,
) -> ServiceResult<Vec<Value>> {
    let studies = state
        .store
        .visible_studies(me.user.org_id, me.user.id, MAX_STUDIES)
        .await
        .or_service("study_not_found")?;
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
    select(state, Level::Study, query, candidates).await
}

/// A study's series (the search is audited as a view).
pub async fn search_series(
    state: &Services,
    me: &Authed,
    study_uid: &str,
    query: &Query,
) -> ServiceResult<Vec<Value>> {
    let study = study_by_uid(state, me, study_uid).await?;
    audit_view(state, me, &study, "qido_series").await?;
    let candidates = state
        .store
        .series_of(study.id)
        .await
        .or_service("study_not_found")?
        .into_iter()
        .map(|s| (study.clone(), Entity::Series(s)))
        .collect();
    select(state, Level::Series, query, candidates).await
}

/// A study's instances, of one series when given (the search is audited as a view).
pub async fn search_instances(
    state: &Services,
    me: &Authed,
    study_uid: &str,
    series_uid: Option<&str>,
    query: &Query,
) -> ServiceResult<Vec<Value>> {
    let study = study_by_uid(state, me, study_uid).await?;
    audit_view(state, me, &study, "qido_instances").await?;
    let candidates = state
        .store
        .instances_of(study.id, series_uid)
        .await
        .or_service("study_not_found")?
        .into_iter()
        .map(|i| (study.clone(), Entity::Instance(i)))
        .collect();
    select(state, Level::Instance, query, candidates).await
}
