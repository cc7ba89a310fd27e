//! Expiry of what an organization's retention destroys (media, studies), one routine for
//! every kind: due links are hidden, due records lose their keys (their bytes are unreadable
//! from that commit on), and their objects are listed until marked purged, so a sweep that
//! stops halfway is finished by the next one.

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::media::THUMBNAIL_SUFFIX;
use sqlx::Row;

use crate::rows::uuid;
use crate::{Attached, Store, StoreError};

/// One step of expiry: links hidden in their conversations, records whose keys were destroyed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    /// Links past their conversation's retention, hidden there (the objects stay).
    pub links: u64,
    /// Records past their organization's retention, keys destroyed and marked expired.
    pub records: Vec<Uuid>,
}

/// An expired record whose objects are still to be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpurged {
    pub id: Uuid,
    pub objects: Vec<String>,
}

/// Where a kind's records, keys and objects lie: the only difference between kinds.
struct Retained {
    /// The table of the records (`id`, `expires_at`, `expired_at`, `purged_at`).
    records: &'static str,
    /// Destroys the data keys of record `$1`.
    destroy_keys: &'static str,
    /// The object ids of record `$1` (column `object_id`).
    objects: String,
}

impl Attached {
    fn retained(self) -> Retained {
        match self {
            Attached::Media => Retained {
                records: "media",
                destroy_keys: "DELETE FROM media_keys WHERE media_id = $1",
                objects: format!(
                    "SELECT id AS object_id FROM media WHERE id = $1
                     UNION ALL SELECT id || '{THUMBNAIL_SUFFIX}' AS object_id FROM media
                     WHERE id = $1 AND has_thumbnail <> 0"
                ),
            },
            Attached::Study => Retained {
                records: "studies",
                destroy_keys: "UPDATE instances SET key_version = NULL, sealed_key = NULL WHERE study_id = $1",
                objects: "SELECT object_id FROM instances WHERE study_id = $1".into(),
            },
        }
    }
}

impl Store {
    /// One step of expiring `kind` at `now`, in one transaction: hides the links due (the
    /// objects stay), then destroys the keys of at most `limit` records due and marks them
    /// expired. Call again while it returns `limit` records.
    pub async fn expire_due(
        &self,
        kind: Attached,
        now: Timestamp,
        limit: i64,
    ) -> Result<Expired, StoreError> {
        let retained = kind.retained();
        let mut tx = self.write_tx().await?;
        let hide = format!(
            "UPDATE {} SET expired_at = $1 WHERE expired_at IS NULL AND expires_at <= $1",
            kind.table()
        );
        let links = sqlx::query(sqlx::AssertSqlSafe(hide))
            .bind(now.millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let due = format!(
            "SELECT id FROM {} WHERE expired_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
            retained.records
        );
        let records = sqlx::query(sqlx::AssertSqlSafe(due))
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| uuid(r, "id"))
            .collect::<Result<Vec<_>, _>>()?;
        let mark = format!(
            "UPDATE {} SET expired_at = $1 WHERE id = $2",
            retained.records
        );
        for id in &records {
            sqlx::query(retained.destroy_keys)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(mark.clone()))
                .bind(now.millis())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Expired { links, records })
    }

    /// Expired records of `kind` whose objects are not deleted yet (at most `limit`), oldest
    /// expiry first, with their object ids.
    pub async fn unpurged(&self, kind: Attached, limit: i64) -> Result<Vec<Unpurged>, StoreError> {
        let retained = kind.retained();
        let sql = format!(
            "SELECT id FROM {} WHERE expired_at IS NOT NULL AND purged_at IS NULL ORDER BY expired_at LIMIT $1",
            retained.records
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = uuid(row, "id")?;
            let objects = sqlx::query(sqlx::AssertSqlSafe(retained.objects.clone()))
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("object_id"))
                .collect::<Result<Vec<String>, _>>()?;
            out.push(Unpurged { id, objects });
        }
        Ok(out)
    }

    /// Records that the objects of an expired record of `kind` are deleted.
    pub async fn mark_purged(
        &self,
        kind: Attached,
        id: Uuid,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {} SET purged_at = $1 WHERE id = $2",
            kind.retained().records
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.millis())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
