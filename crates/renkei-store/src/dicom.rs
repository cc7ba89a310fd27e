//! DICOM peers, per-organization secrets, and the study/series/instance index with the sealed
//! key of each stored instance.

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{DicomPeer, Instance, Series, Study, TextRegion};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::attachments::LIVE_LINK;
use crate::audited::one_row;
use crate::blobs::WrappedKey;
use crate::rows::uuid;
use crate::{Store, StoreError, Tx};

fn peer_from_row(row: &AnyRow) -> Result<DicomPeer, StoreError> {
    let allow: String = row.try_get("allow")?;
    Ok(DicomPeer {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        ae_title: row.try_get("ae_title")?,
        allow: allow
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

pub(crate) const STUDY_COLUMNS: &str =
    "SELECT id, org_id, study_uid, patient_tail, study_date, modalities, body_part, description,
    burned_in_risk, series_count, instance_count, created_at, expires_at, expired_at,
    (SELECT CAST(COALESCE(SUM(CASE WHEN frames > 1 THEN frames ELSE 1 END), 0) AS BIGINT)
     FROM instances WHERE instances.study_id = studies.id) AS frame_count,
    (SELECT COUNT(*) FROM instances WHERE instances.study_id = studies.id AND held = 1)
     AS held_instances FROM studies";

pub(crate) fn study_from_row(row: &AnyRow) -> Result<Study, StoreError> {
    let modalities: String = row.try_get("modalities")?;
    Ok(Study {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        study_uid: row.try_get("study_uid")?,
        patient_tail: row.try_get("patient_tail")?,
        study_date: row.try_get("study_date")?,
        modalities: modalities
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        body_part: row.try_get("body_part")?,
        description: row.try_get("description")?,
        burned_in_risk: row.try_get::<i64, _>("burned_in_risk")? != 0,
        series_count: row.try_get("series_count")?,
        instance_count: row.try_get("instance_count")?,
        created_at: Timestamp(row.try_get("created_at")?),
        expires_at: Timestamp(row.try_get("expires_at")?),
        expired: row.try_get::<Option<i64>, _>("expired_at")?.is_some(),
        frame_count: row.try_get("frame_count")?,
        held_instances: row.try_get("held_instances")?,
    })
}

impl Store {
    /// Adds a DICOM peer with its audit entry, in one commit; a taken AE title is
    /// `Duplicate("ae_title_taken")`.
    pub async fn insert_dicom_peer(
        &self,
        peer: &DicomPeer,
        audit: &renkei_core::audit::AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query("INSERT INTO dicom_peers (id, org_id, ae_title, allow, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(peer.id.to_string())
                .bind(peer.org_id.to_string())
                .bind(&peer.ae_title)
                .bind(peer.allow.join(","))
                .bind(peer.created_at.millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::classify(e, "ae_title_taken", "organization_not_found"))?;
            Ok((tx, ()))
        })
        .await
    }

    /// The peer calling as `ae_title`.
    pub async fn dicom_peer(&self, ae_title: &str) -> Result<DicomPeer, StoreError> {
        let row = sqlx::query(
            "SELECT id, org_id, ae_title, allow, created_at FROM dicom_peers WHERE ae_title = $1",
        )
        .bind(ae_title.trim())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(peer_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// An organization's peers, by AE title.
    pub async fn dicom_peers(&self, org_id: Uuid) -> Result<Vec<DicomPeer>, StoreError> {
        let rows = sqlx::query("SELECT id, org_id, ae_title, allow, created_at FROM dicom_peers WHERE org_id = $1 ORDER BY ae_title")
            .bind(org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(peer_from_row).collect()
    }

    /// Removes a peer by AE title with its audit entry, in one commit; `NotFound` when there
    /// is none.
    pub async fn delete_dicom_peer(
        &self,
        org_id: Uuid,
        ae_title: &str,
        audit: &renkei_core::audit::AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query("DELETE FROM dicom_peers WHERE org_id = $1 AND ae_title = $2")
                .bind(org_id.to_string())
                .bind(ae_title.trim())
                .execute(&mut *tx)
                .await?;
            one_row(done, StoreError::NotFound)?;
            Ok((tx, ()))
        })
        .await
    }

    /// Replaces the addresses a peer may call from, with its audit entry in the same
    /// transaction; `NotFound` when the organization has no such peer.
    pub async fn update_dicom_peer_allow(
        &self,
        org_id: Uuid,
        ae_title: &str,
        allow: &[String],
        audit: &renkei_core::audit::AuditEvent,
    ) -> Result<DicomPeer, StoreError> {
        self.audited([audit], |mut tx| async move {
            let row = sqlx::query(
                "UPDATE dicom_peers SET allow = $3 WHERE org_id = $1 AND ae_title = $2
                 RETURNING id, org_id, ae_title, allow, created_at",
            )
            .bind(org_id.to_string())
            .bind(ae_title.trim())
            .bind(allow.join(","))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let peer = peer_from_row(&row)?;
            Ok((tx, peer))
        })
        .await
    }

    /// An organization's sealed secret for `purpose`, if one was made.
    pub async fn org_secret(&self, org_id: Uuid, purpose: &str) -> Result<WrappedKey, StoreError> {
        let row = sqlx::query(
            "SELECT key_version, sealed FROM org_secrets WHERE org_id = $1 AND purpose = $2",
        )
        .bind(org_id.to_string())
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let version: i64 = row.try_get("key_version")?;
        Ok(WrappedKey {
            version: u32::try_from(version)
                .map_err(|_| StoreError::Corrupt("key version".into()))?,
            sealed: row.try_get("sealed")?,
        })
    }

    /// Keeps a new sealed secret unless one exists already (then that one wins); returns the one kept.
    pub async fn keep_org_secret(
        &self,
        org_id: Uuid,
        purpose: &str,
        key: &WrappedKey,
    ) -> Result<WrappedKey, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO org_secrets (org_id, purpose, key_version, sealed) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, purpose) DO NOTHING",
        )
        .bind(org_id.to_string())
        .bind(purpose)
        .bind(i64::from(key.version))
        .bind(&key.sealed)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(key.clone());
        }
        self.org_secret(org_id, purpose).await
    }

    /// Takes back an instance indexed with object `object_id` whose bytes could not be
    /// stored: the instance goes, its series and study counts drop, and a series or study
    /// left without instances goes too. Nothing happens if the instance has another object.
    pub async fn unindex_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
        object_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        remove_instance_in(&mut tx, study, sop_uid, Some(object_id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Destroys an instance (a redaction replaced it): its sealed key goes with its index
    /// entry, so its bytes are unreadable from this commit on; counts drop as for
    /// [`Store::unindex_instance`]; `audit` is written in the same commit. Returns the object
    /// to delete; `NotFound` when the study has no such instance.
    pub async fn destroy_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
        audit: &renkei_core::audit::AuditEvent,
    ) -> Result<String, StoreError> {
        self.audited([audit], |mut tx| async move {
            let object = remove_instance_in(&mut tx, study, sop_uid, None)
                .await?
                .ok_or(StoreError::NotFound)?;
            Ok((tx, object))
        })
        .await
    }

    /// Points an indexed instance whose object `missing` is gone (its bytes never reached the
    /// disk before a crash) at a freshly stored copy.
    pub async fn repoint_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
        missing: &str,
        object_id: &str,
        key: &WrappedKey,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE instances SET object_id = $1, key_version = $2, sealed_key = $3
             WHERE study_id = $4 AND sop_uid = $5 AND object_id = $6",
        )
        .bind(object_id)
        .bind(i64::from(key.version))
        .bind(&key.sealed)
        .bind(study.to_string())
        .bind(sop_uid)
        .bind(missing)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One study.
    pub async fn study(&self, id: Uuid) -> Result<Study, StoreError> {
        let sql = format!("{STUDY_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(study_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// One study of an organization by its (de-identified) Study Instance UID.
    pub async fn study_by_uid(&self, org_id: Uuid, study_uid: &str) -> Result<Study, StoreError> {
        let sql = format!("{STUDY_COLUMNS} WHERE org_id = $1 AND study_uid = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(study_uid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(study_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// An organization's studies that have not expired, newest first.
    pub async fn studies(
        &self,
        org_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Study>, StoreError> {
        let sql = format!(
            "{STUDY_COLUMNS} WHERE org_id = $1 AND expired_at IS NULL ORDER BY created_at DESC LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(study_from_row).collect()
    }

    /// A study's series, by number.
    pub async fn series_of(&self, study: Uuid) -> Result<Vec<Series>, StoreError> {
        let rows = sqlx::query(
            "SELECT series_uid, modality, series_number, description, body_part, instance_count FROM series
             WHERE study_id = $1 ORDER BY series_number, series_uid",
        )
        .bind(study.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Series {
                    series_uid: r.try_get("series_uid")?,
                    modality: r.try_get("modality")?,
                    series_number: r.try_get("series_number")?,
                    description: r.try_get("description")?,
                    body_part: r.try_get("body_part")?,
                    instance_count: r.try_get("instance_count")?,
                })
            })
            .collect()
    }

    /// A study's instances (of one series when given), by instance number.
    pub async fn instances_of(
        &self,
        study: Uuid,
        series_uid: Option<&str>,
    ) -> Result<Vec<Instance>, StoreError> {
        let rows = sqlx::query(
            "SELECT series_uid, sop_uid, sop_class, instance_number, frames, transfer_syntax, size,
                    held, text_regions FROM instances
             WHERE study_id = $1 AND ($2 IS NULL OR series_uid = $2) ORDER BY series_uid, instance_number, sop_uid",
        )
        .bind(study.to_string())
        .bind(series_uid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Instance {
                    series_uid: r.try_get("series_uid")?,
                    sop_uid: r.try_get("sop_uid")?,
                    sop_class: r.try_get("sop_class")?,
                    instance_number: r.try_get("instance_number")?,
                    frames: r.try_get("frames")?,
                    transfer_syntax: r.try_get("transfer_syntax")?,
                    size: r.try_get("size")?,
                    held: r.try_get::<i64, _>("held")? != 0,
                    text_regions: text_regions(r.try_get("text_regions")?)?,
                })
            })
            .collect()
    }

    /// An instance's object id and its sealed key; `NotFound` once destroyed.
    pub async fn instance_object(
        &self,
        study: Uuid,
        sop_uid: &str,
    ) -> Result<(String, WrappedKey), StoreError> {
        let row = sqlx::query(
            "SELECT object_id, key_version, sealed_key FROM instances WHERE study_id = $1 AND sop_uid = $2 AND sealed_key IS NOT NULL",
        )
            .bind(study.to_string())
            .bind(sop_uid)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let key = sealed_key(&row)?.ok_or(StoreError::NotFound)?;
        Ok((row.try_get("object_id")?, key))
    }

    /// Releases a study's held instances (a user of its organization confirmed them clean),
    /// with the audit entry, in one commit; returns how many were held. `NotFound` when the
    /// study is not the organization's or has expired.
    pub async fn confirm_study_clean(
        &self,
        study: Uuid,
        org_id: Uuid,
        audit: &renkei_core::audit::AuditEvent,
    ) -> Result<u64, StoreError> {
        self.audited([audit], |mut tx| async move {
            let owned = sqlx::query(
                "SELECT 1 AS one FROM studies WHERE id = $1 AND org_id = $2 AND expired_at IS NULL",
            )
            .bind(study.to_string())
            .bind(org_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if owned.is_none() {
                return Err(StoreError::NotFound);
            }
            let released =
                sqlx::query("UPDATE instances SET held = 0 WHERE study_id = $1 AND held = 1")
                    .bind(study.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            Ok((tx, released))
        })
        .await
    }

    /// Whether `sender` may share a study: it is live, and theirs to see (their organization's,
    /// or shared with them in a conversation where it has not expired), and none of its
    /// instances is held.
    pub(crate) async fn study_attachable(
        tx: &mut Tx,
        study: Uuid,
        sender: Uuid,
    ) -> Result<Attachable, StoreError> {
        let live = LIVE_LINK.replace("$NOW", "$3");
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM instances i WHERE i.study_id = s.id AND i.held = 1)
                 AS held FROM studies s WHERE s.id = $1 AND s.expired_at IS NULL AND (
                 s.org_id = (SELECT org_id FROM users WHERE id = $2)
                 OR EXISTS (SELECT 1 FROM study_links l JOIN conversation_members m
                            ON m.conversation_id = l.conversation_id AND m.user_id = $2
                            WHERE l.study_id = s.id AND {live}))"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(study.to_string())
            .bind(sender.to_string())
            .bind(Timestamp::now().millis())
            .fetch_optional(&mut **tx)
            .await?;
        Ok(match row {
            None => Attachable::NotFound,
            Some(row) if held_flag(&row)? => Attachable::Held,
            Some(_) => Attachable::Yes,
        })
    }
}

/// Whether an attachment may be shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attachable {
    Yes,
    /// Not there, or not the sender's to share.
    NotFound,
    /// A study that may show patient information (held).
    Held,
}

impl Attachable {
    /// `Yes` when found, else `NotFound`.
    pub(crate) fn found(found: bool) -> Attachable {
        if found {
            Attachable::Yes
        } else {
            Attachable::NotFound
        }
    }
}

/// `EXISTS (…)` as read from either backend (a boolean on PostgreSQL, a number on SQLite).
fn held_flag(row: &AnyRow) -> Result<bool, StoreError> {
    Ok(match row.try_get::<bool, _>("held") {
        Ok(held) => held,
        Err(_) => row.try_get::<i64, _>("held")? != 0,
    })
}

/// Stored text regions (a JSON array, or NULL).
fn text_regions(stored: Option<String>) -> Result<Vec<TextRegion>, StoreError> {
    stored.map_or(Ok(Vec::new()), |json| {
        serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("text regions".into()))
    })
}

/// An instance row's sealed data key (`key_version`, `sealed_key`); none once destroyed.
pub(crate) fn sealed_key(row: &AnyRow) -> Result<Option<WrappedKey>, StoreError> {
    wrapped_key(row.try_get("key_version")?, row.try_get("sealed_key")?)
}

/// A sealed data key from its stored columns; none when either is empty (destroyed).
pub(crate) fn wrapped_key(
    version: Option<i64>,
    sealed: Option<String>,
) -> Result<Option<WrappedKey>, StoreError> {
    version
        .zip(sealed)
        .map(|(version, sealed)| {
            let version =
                u32::try_from(version).map_err(|_| StoreError::Corrupt("key version".into()))?;
            Ok(WrappedKey { version, sealed })
        })
        .transpose()
}

/// Removes an instance from the index in `tx` (only with object `object_id` when given): its
/// series and study counts drop, and a series or study left without instances goes too. The
/// removed instance's object id, `None` when nothing matched.
async fn remove_instance_in(
    tx: &mut Tx,
    study: Uuid,
    sop_uid: &str,
    object_id: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let study_id = study.to_string();
    let removed = sqlx::query(
        "DELETE FROM instances WHERE study_id = $1 AND sop_uid = $2
         AND ($3 IS NULL OR object_id = $3) RETURNING series_uid, object_id",
    )
    .bind(&study_id)
    .bind(sop_uid)
    .bind(object_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(removed) = removed else {
        return Ok(None);
    };
    let series_uid: String = removed.try_get("series_uid")?;
    let object: String = removed.try_get("object_id")?;
    sqlx::query(
        "UPDATE series SET instance_count = instance_count - 1 WHERE study_id = $1 AND series_uid = $2",
    )
    .bind(&study_id)
    .bind(&series_uid)
    .execute(&mut **tx)
    .await?;
    let series_gone = sqlx::query(
        "DELETE FROM series WHERE study_id = $1 AND series_uid = $2 AND instance_count = 0",
    )
    .bind(&study_id)
    .bind(&series_uid)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE studies SET instance_count = instance_count - 1, series_count = series_count - $1
         WHERE id = $2",
    )
    .bind(series_gone as i64)
    .bind(&study_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM studies WHERE id = $1 AND instance_count = 0
             AND NOT EXISTS (SELECT 1 FROM study_links l WHERE l.study_id = studies.id)",
    )
    .bind(&study_id)
    .execute(&mut **tx)
    .await?;
    Ok(Some(object))
}
