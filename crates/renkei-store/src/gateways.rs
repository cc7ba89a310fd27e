//! Edge gateways of organizations and the hashes of their tokens.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::Gateway;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::uuid;
use crate::{Store, StoreError};

const COLUMNS: &str = "id, org_id, name, created_at, last_seen_at";

fn gateway_from_row(row: &AnyRow) -> Result<Gateway, StoreError> {
    Ok(Gateway {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        name: row.try_get("name")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen_at: row
            .try_get::<Option<i64>, _>("last_seen_at")?
            .map(Timestamp),
    })
}

impl Store {
    /// Adds a gateway with the hash of its token and its audit entry, in one commit; a taken
    /// name is `Duplicate("gateway_name_taken")`.
    pub async fn insert_gateway(
        &self,
        gateway: &Gateway,
        token_hash: &str,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "INSERT INTO gateways (id, org_id, name, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(gateway.id.to_string())
            .bind(gateway.org_id.to_string())
            .bind(&gateway.name)
            .bind(token_hash)
            .bind(gateway.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "gateway_name_taken", "organization_not_found"))?;
            Ok((tx, ()))
        })
        .await
    }

    /// The gateway whose token hashes to `token_hash`.
    pub async fn gateway_by_token(&self, token_hash: &str) -> Result<Gateway, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM gateways WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(gateway_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// An organization's gateways, by name.
    pub async fn gateways(&self, org_id: Uuid) -> Result<Vec<Gateway>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM gateways WHERE org_id = $1 ORDER BY name"
        )))
        .bind(org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(gateway_from_row).collect()
    }

    /// Records that a gateway called at `now`.
    pub async fn touch_gateway(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE gateways SET last_seen_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes a gateway by name (its token stops working at once) with the audit entry
    /// `audit` makes of it, in one commit; `NotFound` when there is none.
    pub async fn delete_gateway(
        &self,
        org_id: Uuid,
        name: &str,
        audit: impl FnOnce(&Gateway) -> AuditEvent,
    ) -> Result<Gateway, StoreError> {
        self.audited_as(
            |mut tx| async move {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM gateways WHERE org_id = $1 AND name = $2 RETURNING {COLUMNS}"
                )))
                .bind(org_id.to_string())
                .bind(name.trim())
                .fetch_optional(&mut *tx)
                .await?;
                let gateway = row
                    .as_ref()
                    .map(gateway_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound)?;
                Ok((tx, gateway))
            },
            |gateway| [audit(gateway)],
        )
        .await
    }
}
