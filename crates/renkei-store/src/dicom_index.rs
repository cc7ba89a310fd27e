//! Indexing received DICOM instances in batches: a few statements per study and series in the
//! batch, and one for all its instances, so a batch costs the same round trips as one instance.
//! On an SQLite file a batch runs on a connection of the calling thread ([`SqliteIndexer`]),
//! elsewhere on a pooled connection; the statements are the same.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{IndexedInstance, TextRegion};
use renkei_core::stats::Metric;

use crate::blobs::WrappedKey;
use crate::dicom::wrapped_key;
use crate::statements::{Kind, Statements, Value, run_ready};
use crate::{Store, StoreError};

/// One instance to index: its facts and its encrypted object.
#[derive(Debug, Clone)]
pub struct IndexRequest {
    pub org_id: Uuid,
    pub entry: IndexedInstance,
    pub object_id: String,
    pub key: WrappedKey,
    pub expires_at: Timestamp,
}

/// How an instance was indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indexed {
    /// New: its object is now the one of record.
    New { study: Uuid },
    /// Already there (a resend, or the same instance received by another node): the existing
    /// object (`object_id`) stays, the new one must be discarded — unless the existing one is
    /// missing (see [`Store::repoint_instance`]).
    Existing {
        study: Uuid,
        object_id: String,
        /// The existing object's sealed data key (none once the study expired).
        key: Option<WrappedKey>,
        /// When the existing entry was indexed (its object may still be being written then).
        indexed_at: Timestamp,
    },
}

/// Columns of one `instances` row, in insert order.
const INSTANCE_COLUMNS: usize = 14;

/// Times a batch is run when PostgreSQL breaks a deadlock by failing it.
const DEADLOCK_ATTEMPTS: u32 = 3;

/// A study the batch touches, and what the batch adds to it.
struct StudyChange {
    id: Uuid,
    modalities: Vec<String>,
    instances: i64,
    series: i64,
    burned_in_risk: bool,
}

impl Store {
    /// Indexes instances in one transaction (one disk flush for all): each is new, or already
    /// there (a resend, also within the batch, or the same instance indexed at the same time
    /// by another node). All or none: on error nothing is indexed.
    pub async fn index_instances(
        &self,
        requests: &[IndexRequest],
    ) -> Result<Vec<Indexed>, StoreError> {
        let mut attempt = 1;
        loop {
            let mut tx = self.write_tx().await?;
            let indexed = match index_batch(&mut *tx, requests).await {
                Ok(indexed) => tx
                    .commit()
                    .await
                    .map(|()| indexed)
                    .map_err(StoreError::from),
                Err(e) => Err(e),
            };
            match indexed {
                // Batches of two nodes take their rows in the same order, so a deadlock is
                // unlikely; should PostgreSQL still pick this one to break one, run it again.
                Err(e) if attempt < DEADLOCK_ATTEMPTS && e.is_deadlock() => attempt += 1,
                done => return done,
            }
        }
    }

    /// An indexer of its own thread for this store's SQLite database file; none for
    /// PostgreSQL or a database in memory (index with [`Store::index_instances`] there).
    pub fn sqlite_indexer(&self) -> Option<Result<SqliteIndexer, StoreError>> {
        self.file.as_deref().map(|file| SqliteIndexer::open(file))
    }
}

/// Indexes batches on an SQLite connection owned by the calling (blocking) thread: the
/// statements of a batch run without a round trip to another thread, and its commit is
/// flushed to disk before [`SqliteIndexer::index`] returns.
pub struct SqliteIndexer {
    conn: rusqlite::Connection,
}

impl SqliteIndexer {
    /// A connection to the (migrated) database file at `path`, set as the pool's are.
    fn open(path: &Path) -> Result<SqliteIndexer, StoreError> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 10000;",
        )?;
        Ok(SqliteIndexer { conn })
    }

    /// Indexes instances as [`Store::index_instances`] does, on this thread; durable when
    /// this returns Ok. All or none: on error nothing is indexed.
    pub fn index(&mut self, requests: &[IndexRequest]) -> Result<Vec<Indexed>, StoreError> {
        let mut tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let indexed = run_ready(index_batch(&mut tx, requests))?;
        tx.commit()?;
        Ok(indexed)
    }
}

/// Indexes `requests` inside the transaction of `conn`; one answer per request, in order.
/// Rows are written in the order of (organization, study, series, instance), whatever the
/// order received, so batches of two nodes touching the same study wait for each other
/// instead of deadlocking.
async fn index_batch(
    conn: &mut impl Statements,
    requests: &[IndexRequest],
) -> Result<Vec<Indexed>, StoreError> {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| {
        let (org, entry) = (requests[i].org_id, &requests[i].entry);
        (org, &entry.study_uid, &entry.series_uid, &entry.sop_uid)
    });
    let sorted: Vec<&IndexRequest> = order.iter().map(|&i| &requests[i]).collect();
    let mut answers: Vec<Option<Indexed>> = vec![None; requests.len()];
    for (indexed, i) in index_sorted(conn, &sorted).await?.into_iter().zip(order) {
        answers[i] = Some(indexed);
    }
    answers
        .into_iter()
        .map(|a| a.ok_or_else(|| StoreError::Corrupt("an instance without an answer".into())))
        .collect()
}

/// [`index_batch`] of requests in their writing order.
async fn index_sorted(
    conn: &mut impl Statements,
    requests: &[&IndexRequest],
) -> Result<Vec<Indexed>, StoreError> {
    let now = Timestamp::now();
    let mut studies: Vec<StudyChange> = Vec::new();
    let mut study_keys: HashMap<(Uuid, &str), usize> = HashMap::new();
    let mut study_of = Vec::with_capacity(requests.len());
    for request in requests {
        let key = (request.org_id, request.entry.study_uid.as_str());
        let at = match study_keys.get(&key) {
            Some(&at) => at,
            None => {
                studies.push(study_for(conn, request, now).await?);
                study_keys.insert(key, studies.len() - 1);
                studies.len() - 1
            }
        };
        study_of.push(at);
    }

    let mut inserted = insert_instances(conn, requests, &study_of, &studies, now).await?;
    let mut indexed = Vec::with_capacity(requests.len());
    let mut new_in_series: Vec<((usize, &str), &IndexedInstance, i64)> = Vec::new();
    for (request, &at) in requests.iter().zip(&study_of) {
        let study = &mut studies[at];
        let entry = &request.entry;
        if !inserted.remove(&(study.id.to_string(), entry.sop_uid.clone())) {
            indexed.push(existing_instance(conn, study.id, &entry.sop_uid).await?);
            continue;
        }
        study.instances += 1;
        study.burned_in_risk |= entry.burned_in_risk;
        if let Some(m) = &entry.modality
            && !study.modalities.contains(m)
        {
            study.modalities.push(m.clone());
        }
        let series = (at, entry.series_uid.as_str());
        match new_in_series.iter_mut().find(|(key, ..)| *key == series) {
            Some((.., count)) => *count += 1,
            None => new_in_series.push((series, entry, 1)),
        }
        indexed.push(Indexed::New { study: study.id });
    }
    for ((at, _), first, count) in new_in_series {
        if add_to_series(conn, studies[at].id, first, count).await? {
            studies[at].series += 1;
        }
    }
    for study in studies.iter().filter(|s| s.instances > 0) {
        update_study(conn, study, now).await?;
    }
    Ok(indexed)
}

fn parse_uuid(value: Value, what: &str) -> Result<Uuid, StoreError> {
    value
        .text(what)?
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not a UUID")))
}

/// The study of `request`, made (and counted) if it is new. On PostgreSQL its row stays
/// locked until the batch commits, so batches of two nodes adding to one study take turns
/// (neither loses the other's modalities or counts).
async fn study_for(
    conn: &mut impl Statements,
    request: &IndexRequest,
    now: Timestamp,
) -> Result<StudyChange, StoreError> {
    if let Some(found) = find_study(conn, request).await? {
        return Ok(found);
    }
    let entry = &request.entry;
    let id = renkei_core::new_id();
    // Another node may be making the same study now: then this waits for its transaction and,
    // once that commits, inserts nothing and reads (and locks) its study instead.
    let inserted = conn
        .rows(
            "INSERT INTO studies (id, org_id, study_uid, patient_tail, study_date, modalities, body_part, description,
                 burned_in_risk, series_count, instance_count, created_at, updated_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, '', $6, $7, 0, 0, 0, $8, $8, $9)
             ON CONFLICT (org_id, study_uid) DO NOTHING
             RETURNING id",
            &[
                id.to_string().into(),
                request.org_id.to_string().into(),
                entry.study_uid.as_str().into(),
                entry.patient_tail.as_str().into(),
                entry.study_date.clone().into(),
                entry.body_part.clone().into(),
                entry.study_description.clone().into(),
                now.millis().into(),
                request.expires_at.millis().into(),
            ],
            &[Kind::Text],
        )
        .await?;
    if inserted.is_empty() {
        return find_study(conn, request)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a study neither new nor found".into()));
    }
    let (sql, params) = Store::count_statement(request.org_id, Metric::Studies, None, 1);
    conn.rows(&sql, &params, &[]).await?;
    Ok(study_change(id, ""))
}

/// The indexed study of `request`, if there is one, locked on PostgreSQL (see [`study_for`]).
async fn find_study(
    conn: &mut impl Statements,
    request: &IndexRequest,
) -> Result<Option<StudyChange>, StoreError> {
    let sql = format!(
        "SELECT id, modalities FROM studies WHERE org_id = $1 AND study_uid = $2{}",
        conn.row_lock()
    );
    let Some(row) = conn
        .rows(
            &sql,
            &[
                request.org_id.to_string().into(),
                request.entry.study_uid.as_str().into(),
            ],
            &[Kind::Text, Kind::Text],
        )
        .await?
        .pop()
    else {
        return Ok(None);
    };
    let [id, modalities] =
        <[Value; 2]>::try_from(row).map_err(|_| StoreError::Corrupt("study".into()))?;
    let modalities = modalities.optional_text("modalities")?.unwrap_or_default();
    Ok(Some(study_change(parse_uuid(id, "study id")?, &modalities)))
}

/// A study the batch has added nothing to yet.
fn study_change(id: Uuid, modalities: &str) -> StudyChange {
    StudyChange {
        id,
        modalities: modalities
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        instances: 0,
        series: 0,
        burned_in_risk: false,
    }
}

/// Inserts every instance not indexed yet in one statement; returns the (study, SOP Instance
/// UID) pairs inserted. A resend is the primary key already taken: it is left as it is.
async fn insert_instances(
    conn: &mut impl Statements,
    requests: &[&IndexRequest],
    study_of: &[usize],
    studies: &[StudyChange],
    now: Timestamp,
) -> Result<HashSet<(String, String)>, StoreError> {
    let rows: Vec<String> = (0..requests.len())
        .map(|i| {
            let first = i * INSTANCE_COLUMNS + 1;
            let params: Vec<String> = (first..first + INSTANCE_COLUMNS)
                .map(|n| format!("${n}"))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO instances (study_id, series_uid, sop_uid, sop_class, instance_number, frames, transfer_syntax, size,
             object_id, key_version, sealed_key, created_at, held, text_regions)
         VALUES {}
         ON CONFLICT (study_id, sop_uid) DO NOTHING
         RETURNING study_id, sop_uid",
        rows.join(", ")
    );
    let mut params = Vec::with_capacity(requests.len() * INSTANCE_COLUMNS);
    for (request, &at) in requests.iter().zip(study_of) {
        let entry = &request.entry;
        params.extend([
            studies[at].id.to_string().into(),
            entry.series_uid.as_str().into(),
            entry.sop_uid.as_str().into(),
            entry.sop_class.as_str().into(),
            entry.instance_number.into(),
            entry.frames.into(),
            entry.transfer_syntax.as_str().into(),
            entry.size.into(),
            request.object_id.as_str().into(),
            i64::from(request.key.version).into(),
            request.key.sealed.as_str().into(),
            now.millis().into(),
            i64::from(entry.held).into(),
            text_regions_json(&entry.text_regions)?.into(),
        ]);
    }
    conn.rows(&sql, &params, &[Kind::Text, Kind::Text])
        .await?
        .into_iter()
        .map(|row| {
            let [study, sop] = <[Value; 2]>::try_from(row)
                .map_err(|_| StoreError::Corrupt("inserted instance".into()))?;
            Ok((study.text("study id")?, sop.text("SOP Instance UID")?))
        })
        .collect()
}

/// Text regions as stored: a JSON array, or NULL when there are none.
pub(crate) fn text_regions_json(regions: &[TextRegion]) -> Result<Option<String>, StoreError> {
    if regions.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(regions)
        .map(Some)
        .map_err(|_| StoreError::Corrupt("text regions".into()))
}

/// An instance already indexed: its object of record and sealed key.
async fn existing_instance(
    conn: &mut impl Statements,
    study: Uuid,
    sop_uid: &str,
) -> Result<Indexed, StoreError> {
    let row = conn
        .rows(
            "SELECT object_id, key_version, sealed_key, created_at FROM instances WHERE study_id = $1 AND sop_uid = $2",
            &[study.to_string().into(), sop_uid.into()],
            &[Kind::Text, Kind::Int, Kind::Text, Kind::Int],
        )
        .await?
        .pop()
        .ok_or(StoreError::NotFound)?;
    let [object_id, version, sealed, created_at] =
        <[Value; 4]>::try_from(row).map_err(|_| StoreError::Corrupt("instance".into()))?;
    let indexed_at = created_at
        .optional_int("indexed at")?
        .ok_or_else(|| StoreError::Corrupt("an instance without its time".into()))?;
    Ok(Indexed::Existing {
        study,
        object_id: object_id.text("object id")?,
        key: wrapped_key(
            version.optional_int("key version")?,
            sealed.optional_text("sealed key")?,
        )?,
        indexed_at: Timestamp(indexed_at),
    })
}

/// Adds `count` new instances to the series of `first` (made from `first` if new); true if
/// the series is new.
async fn add_to_series(
    conn: &mut impl Statements,
    study: Uuid,
    first: &IndexedInstance,
    count: i64,
) -> Result<bool, StoreError> {
    let total = conn
        .rows(
            "INSERT INTO series (study_id, series_uid, modality, series_number, description, body_part, instance_count)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (study_id, series_uid) DO UPDATE SET instance_count = series.instance_count + $7
             RETURNING instance_count",
            &[
                study.to_string().into(),
                first.series_uid.as_str().into(),
                first.modality.clone().into(),
                first.series_number.into(),
                first.series_description.clone().into(),
                first.body_part.clone().into(),
                count.into(),
            ],
            &[Kind::Int],
        )
        .await?
        .pop()
        .and_then(|row| row.into_iter().next())
        .ok_or(StoreError::Corrupt("series count".into()))?
        .optional_int("series count")?;
    Ok(total == Some(count))
}

/// Adds what the batch brought to a study's counts, modalities and burned-in flag.
async fn update_study(
    conn: &mut impl Statements,
    study: &StudyChange,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.rows(
        "UPDATE studies SET instance_count = instance_count + $1, series_count = series_count + $2, modalities = $3,
             burned_in_risk = CASE WHEN $4 = 1 THEN 1 ELSE burned_in_risk END, updated_at = $5
         WHERE id = $6",
        &[
            study.instances.into(),
            study.series.into(),
            study.modalities.join(",").into(),
            i64::from(study.burned_in_risk).into(),
            now.millis().into(),
            study.id.to_string().into(),
        ],
        &[],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use renkei_core::audit::AuditEvent;
    use renkei_core::org::NewOrganization;

    use super::*;

    fn request(org_id: Uuid, sop: &str) -> IndexRequest {
        IndexRequest {
            org_id,
            entry: IndexedInstance {
                study_uid: "1.2.3".into(),
                series_uid: "1.2.3.1".into(),
                sop_uid: sop.into(),
                sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
                transfer_syntax: "1.2.840.10008.1.2.1".into(),
                patient_tail: "5678".into(),
                study_date: None,
                modality: Some("CT".into()),
                body_part: None,
                study_description: None,
                series_description: None,
                series_number: Some(1),
                instance_number: Some(1),
                frames: 1,
                burned_in_risk: false,
                held: false,
                text_regions: Vec::new(),
                size: 10,
            },
            object_id: format!("dicom-{sop}"),
            key: WrappedKey {
                version: 1,
                sealed: "sealed".into(),
            },
            expires_at: Timestamp::now().plus_secs(3600),
        }
    }

    #[tokio::test]
    async fn the_sqlite_indexer_commits_durably_what_another_connection_then_sees() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open_sqlite(&path).await.unwrap();
        let org = NewOrganization {
            name: "Hospital".into(),
            slug: Some("imaging".into()),
            kind: None,
        }
        .build(Timestamp::now())
        .unwrap();
        let event = AuditEvent::new("org.create", None, None, "test", None);
        store.insert_org(&org, &event).await.unwrap();
        let mut indexer = store
            .sqlite_indexer()
            .expect("a database file has an indexer")
            .unwrap();
        let synchronous: i64 = indexer
            .conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(
            synchronous, 2,
            "FULL: every commit is flushed before it returns"
        );

        let batch = [request(org.id, "1.2.3.1.1"), request(org.id, "1.2.3.1.2")];
        let indexed = indexer.index(&batch).unwrap();
        let Indexed::New { study } = indexed[0] else {
            panic!("{indexed:?}")
        };
        assert_eq!(indexed[1], Indexed::New { study });
        let again = indexer.index(&batch[..1]).unwrap();
        let Indexed::Existing { object_id, key, .. } = &again[0] else {
            panic!("{again:?}")
        };
        assert_eq!(object_id, "dicom-1.2.3.1.1");
        assert_eq!(key.as_ref().map(|k| k.version), Some(1));

        // The pool and another process opening the database see the indexed batch.
        let found = store.study(study).await.unwrap();
        assert_eq!((found.series_count, found.instance_count), (1, 2));
        let other = Store::open_sqlite(&path).await.unwrap();
        let found = other.study(study).await.unwrap();
        assert_eq!((found.series_count, found.instance_count), (1, 2));
    }

    #[test]
    fn only_an_sqlite_database_in_a_file_has_an_indexer_of_its_own() {
        assert_eq!(
            crate::sqlite_file("sqlite:///var/renkei/renkei.db?mode=rwc"),
            Some("/var/renkei/renkei.db".into())
        );
        assert_eq!(crate::sqlite_file("sqlite::memory:"), None);
        assert_eq!(crate::sqlite_file("postgres://h/db"), None);
    }
}
