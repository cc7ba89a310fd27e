//! Media records, their objects' sealed keys, where they were posted, and their expiry.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::media::{Media, MediaKind};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::blobs::WrappedKey;
use crate::rows::{named, uuid};
use crate::{Store, StoreError, Tx};

const MEDIA_COLUMNS: &str =
    "SELECT id, org_id, uploader_id, kind, mime, name, size, width, height, has_thumbnail,
    created_at, expires_at, expired_at FROM media";

fn media_from_row(row: &AnyRow) -> Result<Media, StoreError> {
    Ok(Media {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        uploader_id: uuid(row, "uploader_id")?,
        kind: named(row, "kind", MediaKind::parse)?,
        mime: row.try_get("mime")?,
        name: row.try_get("name")?,
        size: row.try_get("size")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        has_thumbnail: row.try_get::<i64, _>("has_thumbnail")? != 0,
        created_at: Timestamp(row.try_get("created_at")?),
        expires_at: Timestamp(row.try_get("expires_at")?),
        expired: row.try_get::<Option<i64>, _>("expired_at")?.is_some(),
    })
}

impl Store {
    /// Records a stored medium with the sealed keys of its objects and its audit entry, in
    /// one transaction.
    pub async fn insert_media(
        &self,
        media: &Media,
        keys: &[(String, WrappedKey)],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "INSERT INTO media (id, org_id, uploader_id, kind, mime, name, size, width, height, has_thumbnail,
                     created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(media.id.to_string())
            .bind(media.org_id.to_string())
            .bind(media.uploader_id.to_string())
            .bind(media.kind.as_str())
            .bind(&media.mime)
            .bind(&media.name)
            .bind(media.size)
            .bind(media.width)
            .bind(media.height)
            .bind(i64::from(media.has_thumbnail))
            .bind(media.created_at.millis())
            .bind(media.expires_at.millis())
            .execute(&mut *tx)
            .await?;
            for (object, key) in keys {
                sqlx::query("INSERT INTO media_keys (object_id, media_id, key_version, sealed) VALUES ($1, $2, $3, $4)")
                    .bind(object)
                    .bind(media.id.to_string())
                    .bind(i64::from(key.version))
                    .bind(&key.sealed)
                    .execute(&mut *tx)
                    .await?;
            }
            if media.kind == MediaKind::Photo {
                Self::count_in(
                    &mut tx,
                    media.org_id,
                    renkei_core::stats::Metric::Photos,
                    None,
                    1,
                )
                .await?;
            }
            Ok((tx, ()))
        })
        .await
    }

    /// One medium's record.
    pub async fn media(&self, id: Uuid) -> Result<Media, StoreError> {
        let sql = format!("{MEDIA_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(media_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The sealed key of an object, if it still exists.
    pub async fn object_key(&self, object: &str) -> Result<WrappedKey, StoreError> {
        let row = sqlx::query("SELECT key_version, sealed FROM media_keys WHERE object_id = $1")
            .bind(object)
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

    /// Whether `sender` may attach a medium: they uploaded it and it has not expired.
    pub(crate) async fn media_attachable(
        tx: &mut Tx,
        media: Uuid,
        sender: Uuid,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM media WHERE id = $1 AND uploader_id = $2 AND expired_at IS NULL",
        )
        .bind(media.to_string())
        .bind(sender.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.is_some())
    }
}
