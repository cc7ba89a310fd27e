//! Indexing received DICOM instances in batches: a few statements per study and series in the
//! batch, and one for all its instances, so a batch costs the same round trips as one instance.

use std::collections::{HashMap, HashSet};

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::IndexedInstance;
use renkei_core::stats::Metric;
use sqlx::{AnyConnection, Connection, Row};

use crate::blobs::WrappedKey;
use crate::dicom::sealed_key;
use crate::rows::uuid;
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
    /// Already there (a resend): the existing object (`object_id`) stays, the new one must be
    /// discarded — unless the existing one is missing (see [`Store::repoint_instance`]).
    Existing {
        study: Uuid,
        object_id: String,
        /// The existing object's sealed data key (none once the study expired).
        key: Option<WrappedKey>,
    },
}

/// Columns of one `instances` row, in insert order.
const INSTANCE_COLUMNS: usize = 12;

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
    /// there (a resend, also within the batch). All or none: on error nothing is indexed.
    pub async fn index_instances(
        &self,
        requests: &[IndexRequest],
    ) -> Result<Vec<Indexed>, StoreError> {
        let mut tx = self.write_tx().await?;
        let indexed = index_batch(&mut tx, requests).await?;
        tx.commit().await?;
        Ok(indexed)
    }

    /// Indexes instances as [`Store::index_instances`] does, but on an SQLite file leaves the
    /// commit in the write-ahead log without flushing it: durable only after a following
    /// [`Store::flush_log`]. So the next batch can be indexed while this one is flushed, and
    /// one flush serves every batch committed before it.
    pub async fn index_instances_unflushed(
        &self,
        requests: &[IndexRequest],
    ) -> Result<Vec<Indexed>, StoreError> {
        if self.log.is_none() {
            return self.index_instances(requests).await;
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await?;
        let indexed = async {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let indexed = index_batch(&mut tx, requests).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(indexed)
        }
        .await;
        // Every other writer on this connection flushes its commits again; a connection that
        // cannot be put back so is closed, not reused.
        let restored = sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await;
        if restored.is_err() {
            conn.close_on_drop();
        }
        indexed
    }

    /// Flushes the SQLite write-ahead log to disk, making every commit before this call
    /// durable (those of [`Store::index_instances_unflushed`] too); nothing to do on PostgreSQL
    /// or in memory.
    pub async fn flush_log(&self) -> Result<(), StoreError> {
        let Some(log) = self.log.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || match std::fs::File::open(log.as_path()) {
            Ok(file) => file.sync_data(),
            // No log: every commit is in the database file, flushed by its checkpoint.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|flushed| flushed)
        .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))
    }
}

/// Indexes `requests` inside `tx`; one answer per request, in order.
async fn index_batch(
    conn: &mut AnyConnection,
    requests: &[IndexRequest],
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

/// The study of `request`, made (and counted) if it is new.
async fn study_for(
    conn: &mut AnyConnection,
    request: &IndexRequest,
    now: Timestamp,
) -> Result<StudyChange, StoreError> {
    let entry = &request.entry;
    let existing =
        sqlx::query("SELECT id, modalities FROM studies WHERE org_id = $1 AND study_uid = $2")
            .bind(request.org_id.to_string())
            .bind(&entry.study_uid)
            .fetch_optional(&mut *conn)
            .await?;
    let change = |id, modalities: &str| StudyChange {
        id,
        modalities: modalities
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        instances: 0,
        series: 0,
        burned_in_risk: false,
    };
    if let Some(row) = existing {
        return Ok(change(uuid(&row, "id")?, row.try_get("modalities")?));
    }
    let id = renkei_core::new_id();
    sqlx::query(
        "INSERT INTO studies (id, org_id, study_uid, patient_tail, study_date, modalities, body_part, description,
             burned_in_risk, series_count, instance_count, created_at, updated_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, '', $6, $7, 0, 0, 0, $8, $8, $9)",
    )
    .bind(id.to_string())
    .bind(request.org_id.to_string())
    .bind(&entry.study_uid)
    .bind(&entry.patient_tail)
    .bind(&entry.study_date)
    .bind(&entry.body_part)
    .bind(&entry.study_description)
    .bind(now.millis())
    .bind(request.expires_at.millis())
    .execute(&mut *conn)
    .await?;
    Store::count_in(conn, request.org_id, Metric::Studies, None, 1).await?;
    Ok(change(id, ""))
}

/// Inserts every instance not indexed yet in one statement; returns the (study, SOP Instance
/// UID) pairs inserted. A resend is the primary key already taken: it is left as it is.
async fn insert_instances(
    conn: &mut AnyConnection,
    requests: &[IndexRequest],
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
             object_id, key_version, sealed_key, created_at)
         VALUES {}
         ON CONFLICT (study_id, sop_uid) DO NOTHING
         RETURNING study_id, sop_uid",
        rows.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (request, &at) in requests.iter().zip(study_of) {
        let entry = &request.entry;
        query = query
            .bind(studies[at].id.to_string())
            .bind(&entry.series_uid)
            .bind(&entry.sop_uid)
            .bind(&entry.sop_class)
            .bind(entry.instance_number)
            .bind(entry.frames)
            .bind(&entry.transfer_syntax)
            .bind(entry.size)
            .bind(&request.object_id)
            .bind(i64::from(request.key.version))
            .bind(&request.key.sealed)
            .bind(now.millis());
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("study_id")?, row.try_get("sop_uid")?)))
        .collect()
}

/// An instance already indexed: its object of record and sealed key.
async fn existing_instance(
    conn: &mut AnyConnection,
    study: Uuid,
    sop_uid: &str,
) -> Result<Indexed, StoreError> {
    let row = sqlx::query(
        "SELECT object_id, key_version, sealed_key FROM instances WHERE study_id = $1 AND sop_uid = $2",
    )
    .bind(study.to_string())
    .bind(sop_uid)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Indexed::Existing {
        study,
        object_id: row.try_get("object_id")?,
        key: sealed_key(&row)?,
    })
}

/// Adds `count` new instances to the series of `first` (made from `first` if new); true if
/// the series is new.
async fn add_to_series(
    conn: &mut AnyConnection,
    study: Uuid,
    first: &IndexedInstance,
    count: i64,
) -> Result<bool, StoreError> {
    let total: i64 = sqlx::query(
        "INSERT INTO series (study_id, series_uid, modality, series_number, description, body_part, instance_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (study_id, series_uid) DO UPDATE SET instance_count = series.instance_count + $7
         RETURNING instance_count",
    )
    .bind(study.to_string())
    .bind(&first.series_uid)
    .bind(&first.modality)
    .bind(first.series_number)
    .bind(&first.series_description)
    .bind(&first.body_part)
    .bind(count)
    .fetch_one(&mut *conn)
    .await?
    .try_get("instance_count")?;
    Ok(total == count)
}

/// Adds what the batch brought to a study's counts, modalities and burned-in flag.
async fn update_study(
    conn: &mut AnyConnection,
    study: &StudyChange,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE studies SET instance_count = instance_count + $1, series_count = series_count + $2, modalities = $3,
             burned_in_risk = CASE WHEN $4 = 1 THEN 1 ELSE burned_in_risk END, updated_at = $5
         WHERE id = $6",
    )
    .bind(study.instances)
    .bind(study.series)
    .bind(study.modalities.join(","))
    .bind(i64::from(study.burned_in_risk))
    .bind(now.millis())
    .bind(study.id.to_string())
    .execute(&mut *conn)
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
    async fn unflushed_batches_leave_every_connection_flushing_and_are_there_after_the_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open_sqlite(&path).await.unwrap();
        assert!(store.log.is_some(), "the log of a database file is found");
        let org = NewOrganization {
            name: "Hospital".into(),
            slug: Some("imaging".into()),
            kind: None,
        }
        .build(Timestamp::now())
        .unwrap();
        let event = AuditEvent::new("org.create", None, None, "test", None);
        store.insert_org(&org, &event).await.unwrap();

        let batch = [request(org.id, "1.2.3.1.1"), request(org.id, "1.2.3.1.2")];
        let indexed = store.index_instances_unflushed(&batch).await.unwrap();
        let Indexed::New { study } = indexed[0] else {
            panic!("{indexed:?}")
        };
        store.flush_log().await.unwrap();
        let again = store.index_instances_unflushed(&batch[..1]).await.unwrap();
        assert!(matches!(again[0], Indexed::Existing { .. }), "{again:?}");

        // The connection the batches ran on went back to flushing every commit.
        let idle = store.pool.num_idle();
        assert!(idle >= 1);
        let mut connections = Vec::new();
        for _ in 0..idle {
            connections.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut connections {
            let level: i64 = sqlx::query("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            assert_eq!(level, 2, "FULL");
        }
        drop(connections);

        // Another process opening the database sees what was flushed.
        let other = Store::open_sqlite(&path).await.unwrap();
        let found = other.study(study).await.unwrap();
        assert_eq!((found.series_count, found.instance_count), (1, 2));
    }

    #[test]
    fn only_an_sqlite_file_has_a_log() {
        assert_eq!(
            crate::sqlite_log("sqlite:///var/renkei/renkei.db?mode=rwc"),
            Some("/var/renkei/renkei.db-wal".into())
        );
        assert_eq!(crate::sqlite_log("sqlite::memory:"), None);
        assert_eq!(crate::sqlite_log("postgres://h/db"), None);
    }
}
