//! DICOMweb's view of the imaging service: studies found by UID with the same access rule as
//! `/api/v1/studies`, instance metadata in the DICOM JSON model (cached), QIDO-RS result rows,
//! and the audit of views; `qido` searches, `wado` retrieves files and metadata, `pixels`
//! serves frames, bulk data and renderings, `stow` stores uploads.

pub mod pixels;
pub mod qido;
pub mod stow;
pub mod wado;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dicom_core::Tag;
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::dicom::{Instance, Series, Study};
use renkei_dicom::json::{tag_key, to_json};
use renkei_dicom::qido::{Include, Query};
use serde_json::{Map, Value, json};

use crate::Services;
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Instance metadata kept in memory (entries); the cache is emptied when full.
const METADATA_CAPACITY: usize = 1024;
/// Frame and rendered-frame requests of one user on one study are audited once per this period.
const PIXEL_AUDIT_PERIOD: Duration = Duration::from_secs(600);

/// Instance metadata by (study, SOP Instance UID).
type MetadataCache = HashMap<(Uuid, String), Arc<Value>>;

/// In-memory state of the DICOMweb service.
#[derive(Default, Clone)]
pub struct DicomWebCache {
    metadata: Arc<Mutex<MetadataCache>>,
    pixel_views: Arc<Mutex<HashMap<(Uuid, Uuid), Instant>>>,
}

impl DicomWebCache {
    /// Forgets what is kept of an instance that was destroyed.
    pub fn forget(&self, study: Uuid, sop_uid: &str) {
        if let Ok(mut metadata) = self.metadata.lock() {
            metadata.remove(&(study, sop_uid.to_owned()));
        }
    }
}

/// The path of DICOMweb's resources for a study, series and instance.
pub fn instance_url(study: &str, series: &str, sop: &str) -> String {
    format!("/dicomweb/studies/{study}/series/{series}/instances/{sop}")
}

/// The study with this UID if the caller may see it: their organization's, or shared into one
/// of their conversations; 404 otherwise, 410 once expired.
pub async fn study_by_uid(state: &Services, me: &Authed, study_uid: &str) -> ServiceResult<Study> {
    let study = state
        .store
        .visible_study_by_uid(me.user.org_id, me.user.id, study_uid)
        .await
        .or_service("study_not_found")?;
    state
        .dicom
        .visible_study(study.id, me.user.id, me.user.org_id)
        .await
}

/// Writes a `study.view` audit entry naming the DICOMweb service used.
pub async fn audit_view(
    state: &Services,
    me: &Authed,
    study: &Study,
    service: &'static str,
) -> ServiceResult<()> {
    record_view(
        &state.store,
        me,
        study,
        json!({"via": "dicomweb", "service": service}),
    )
    .await
}

/// Records that `me` viewed `study`: in the log of the viewer's organization, and, for another
/// organization's study, in the owner's log too (naming the viewer's organization), so the
/// owning hospital sees who opened its study elsewhere. Both entries commit together.
pub async fn record_view(
    store: &renkei_store::Store,
    me: &Authed,
    study: &Study,
    details: Value,
) -> ServiceResult<()> {
    let viewer = AuditEvent::new(
        "study.view",
        Some(me.user.org_id),
        Some(me.user.id),
        "study",
        Some(study.id),
    );
    let mut events = vec![viewer.clone().with_details(details.clone())];
    if study.org_id != me.user.org_id {
        let mut owner_details = details;
        if let Value::Object(map) = &mut owner_details {
            map.insert("viewer_org_id".into(), json!(me.user.org_id));
        }
        events.push(AuditEvent {
            org_id: Some(study.org_id),
            ..viewer.with_details(owner_details)
        });
    }
    store
        .append_audits(&events)
        .await
        .or_service("study_not_found")
}

/// Audits a pixel request (frames, rendered, bulk data) unless this user's previous one on the
/// study was audited less than [`PIXEL_AUDIT_PERIOD`] ago: a viewer scrolling a stack asks for
/// hundreds of frames.
pub async fn audit_pixels(state: &Services, me: &Authed, study: &Study) -> ServiceResult<()> {
    let key = (me.user.id, study.id);
    let due = state.dicomweb.pixel_views.lock().map_or(true, |mut seen| {
        let now = Instant::now();
        let due = seen
            .get(&key)
            .is_none_or(|at| now.duration_since(*at) >= PIXEL_AUDIT_PERIOD);
        if due {
            seen.retain(|_, at| now.duration_since(*at) < PIXEL_AUDIT_PERIOD);
            seen.insert(key, now);
        }
        due
    });
    if due {
        audit_view(state, me, study, "frames").await?;
    }
    Ok(())
}

/// An instance's metadata in the DICOM JSON model: every top-level attribute, binary values
/// over 1 KiB and pixel data as BulkDataURIs under the instance's `bulkdata/`.
pub async fn metadata(state: &Services, study: &Study, sop_uid: &str) -> ServiceResult<Arc<Value>> {
    let key = (study.id, sop_uid.to_owned());
    if let Some(found) = state
        .dicomweb
        .metadata
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        return Ok(found);
    }
    let obj = state.dicom.parsed_instance(study.id, sop_uid).await?;
    let study_uid = study.study_uid.clone();
    let sop = sop_uid.to_owned();
    let json = tokio::task::spawn_blocking(move || {
        let series = obj
            .element(dicom_dictionary_std::tags::SERIES_INSTANCE_UID)
            .ok()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
            .unwrap_or_default();
        let base = instance_url(&study_uid, &series, &sop);
        to_json(&obj, &|tag: Tag| {
            Some(format!("{base}/bulkdata/{}", tag_key(tag)))
        })
    })
    .await
    .map_err(|e| ServiceError::internal(&e))?;
    let json = Arc::new(json);
    if let Ok(mut cache) = state.dicomweb.metadata.lock() {
        if cache.len() >= METADATA_CAPACITY {
            cache.clear();
        }
        cache.insert(key, json.clone());
    }
    Ok(json)
}

/// The instance `sop_uid` of a study if it belongs to `series_uid`, with its metadata.
pub async fn instance_in(
    state: &Services,
    study: &Study,
    series_uid: &str,
    sop_uid: &str,
) -> ServiceResult<Arc<Value>> {
    let meta = metadata(state, study, sop_uid).await?;
    if renkei_dicom::json::texts(&meta, "0020000E")
        .first()
        .map(String::as_str)
        != Some(series_uid)
    {
        return Err(ServiceError::not_found("instance_not_found"));
    }
    Ok(meta)
}

/// The level of a QIDO-RS search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Study,
    Series,
    Instance,
}

/// Attributes every result of a level carries (PS3.18 Table 10.6.3-3, -4, -5), besides the
/// ones computed from the index.
const STUDY_REQUIRED: &[&str] = &[
    "00080020", "00080030", "00080050", "00080056", "00080061", "00080090", "00080201", "00081190",
    "00100010", "00100020", "00100030", "00100040", "0020000D", "00200010", "00201206", "00201208",
    "00081030",
];
const SERIES_REQUIRED: &[&str] = &[
    "00080060", "00080201", "0008103E", "00081190", "0020000D", "0020000E", "00200011", "00201209",
    "00400244", "00400245", "00400275",
];
const INSTANCE_REQUIRED: &[&str] = &[
    "00080016", "00080018", "00080056", "00080201", "00081190", "0020000D", "0020000E", "00200013",
    "00280010", "00280011", "00280100", "00280008",
];
/// Study-level attributes `includefield=all` adds (the groups 0010 and 0012 too: patient and
/// de-identification attributes).
const STUDY_ALL: &[&str] = &[
    "00080020", "00080030", "00080050", "00080090", "00081030", "00081032", "00081060", "00081080",
    "00200010", "00080201",
];
/// Series-level attributes `includefield=all` adds.
const SERIES_ALL: &[&str] = &[
    "00080021", "00080031", "00080060", "00080070", "0008103E", "00081090", "00180015", "00181030",
    "00200011", "00200060", "00400244", "00400245", "00400275",
];

fn level_allows(level: Level, key: &str) -> bool {
    match level {
        Level::Study => {
            key.starts_with("0010") || key.starts_with("0012") || STUDY_ALL.contains(&key)
        }
        Level::Series => SERIES_ALL.contains(&key),
        Level::Instance => true,
    }
}

fn required(level: Level) -> &'static [&'static str] {
    match level {
        Level::Study => STUDY_REQUIRED,
        Level::Series => SERIES_REQUIRED,
        Level::Instance => INSTANCE_REQUIRED,
    }
}

fn put(row: &mut Map<String, Value>, key: &str, vr: &str, value: Option<Value>) {
    let attr = match value {
        Some(Value::Array(values)) if !values.is_empty() => json!({"vr": vr, "Value": values}),
        Some(Value::Array(_)) | None | Some(Value::Null) => json!({"vr": vr}),
        Some(v) => json!({"vr": vr, "Value": [v]}),
    };
    row.insert(key.to_owned(), attr);
}

/// A result row: the representative instance's metadata with the index's values over it.
fn candidate(header: Option<&Value>) -> Map<String, Value> {
    header
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter(|(_, v)| v.get("BulkDataURI").is_none() && v.get("InlineBinary").is_none())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A study as a candidate QIDO-RS row.
pub fn study_row(study: &Study, header: Option<&Value>) -> Map<String, Value> {
    let mut row = candidate(header);
    put(&mut row, "0020000D", "UI", Some(json!(study.study_uid)));
    put(
        &mut row,
        "00080020",
        "DA",
        study.study_date.as_ref().map(|d| json!(d)),
    );
    put(&mut row, "00080061", "CS", Some(json!(study.modalities)));
    put(&mut row, "00100020", "LO", Some(json!(study.patient_tail)));
    put(
        &mut row,
        "00081030",
        "LO",
        study.description.as_ref().map(|d| json!(d)),
    );
    put(&mut row, "00080056", "CS", Some(json!("ONLINE")));
    put(&mut row, "00201206", "IS", Some(json!(study.series_count)));
    put(
        &mut row,
        "00201208",
        "IS",
        Some(json!(study.instance_count)),
    );
    put(
        &mut row,
        "00081190",
        "UR",
        Some(json!(format!("/dicomweb/studies/{}", study.study_uid))),
    );
    row
}

/// A series as a candidate QIDO-RS row.
pub fn series_row(study: &Study, series: &Series, header: Option<&Value>) -> Map<String, Value> {
    let mut row = candidate(header);
    put(&mut row, "0020000D", "UI", Some(json!(study.study_uid)));
    put(&mut row, "0020000E", "UI", Some(json!(series.series_uid)));
    put(
        &mut row,
        "00080060",
        "CS",
        series.modality.as_ref().map(|m| json!(m)),
    );
    put(
        &mut row,
        "00200011",
        "IS",
        series.series_number.map(|n| json!(n)),
    );
    put(
        &mut row,
        "0008103E",
        "LO",
        series.description.as_ref().map(|d| json!(d)),
    );
    put(
        &mut row,
        "00201209",
        "IS",
        Some(json!(series.instance_count)),
    );
    put(
        &mut row,
        "00081190",
        "UR",
        Some(json!(format!(
            "/dicomweb/studies/{}/series/{}",
            study.study_uid, series.series_uid
        ))),
    );
    row
}

/// An instance as a candidate QIDO-RS row.
pub fn instance_row(
    study: &Study,
    instance: &Instance,
    header: Option<&Value>,
) -> Map<String, Value> {
    let mut row = candidate(header);
    put(&mut row, "0020000D", "UI", Some(json!(study.study_uid)));
    put(&mut row, "0020000E", "UI", Some(json!(instance.series_uid)));
    put(&mut row, "00080016", "UI", Some(json!(instance.sop_class)));
    put(&mut row, "00080018", "UI", Some(json!(instance.sop_uid)));
    put(
        &mut row,
        "00200013",
        "IS",
        instance.instance_number.map(|n| json!(n)),
    );
    put(&mut row, "00080056", "CS", Some(json!("ONLINE")));
    put(
        &mut row,
        "00081190",
        "UR",
        Some(json!(instance_url(
            &study.study_uid,
            &instance.series_uid,
            &instance.sop_uid
        ))),
    );
    row
}

/// The row as returned: required attributes (absent ones given empty where the standard
/// requires them), query keys, `includefield`s.
pub fn project(level: Level, query: &Query, row: &Map<String, Value>) -> Value {
    let extra: Vec<String> = query.extra_tags().into_iter().map(tag_key).collect();
    let mut out = Map::new();
    for (key, value) in row {
        let wanted = required(level).contains(&key.as_str())
            || extra.contains(key)
            || (query.include == Include::All && level_allows(level, key));
        if wanted {
            out.insert(key.clone(), value.clone());
        }
    }
    // Required and asked-for keys are present, empty when unknown; Timezone Offset and the
    // performed procedure step and request attributes only when known.
    let optional = ["00080201", "00400275", "00400244", "00400245"];
    let keys = required(level)
        .iter()
        .filter(|k| !optional.contains(k))
        .map(|k| (*k).to_owned())
        .chain(extra);
    for key in keys {
        if !out.contains_key(&key)
            && let Some(tag) = renkei_dicom::json::parse_tag(&key)
        {
            let vr = renkei_dicom::json::dictionary_vr(tag);
            out.insert(key, json!({"vr": vr.to_string()}));
        }
    }
    Value::Object(out)
}
