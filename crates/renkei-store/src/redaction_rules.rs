//! Per-device redaction rules of an organization: created, replaced at a version, removed,
//! each with its audit entry in the same commit.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::redaction::{Area, RedactionRule};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audited::one_row;
use crate::rows::uuid;
use crate::{Store, StoreError};

const COLUMNS: &str = "SELECT id, org_id, manufacturer, model, rows_count, columns_count, modality,
    rectangles, version, created_at, updated_at FROM redaction_rules";

fn rule_from_row(row: &AnyRow) -> Result<RedactionRule, StoreError> {
    let rectangles: String = row.try_get("rectangles")?;
    let rectangles: Vec<Area> = serde_json::from_str(&rectangles)
        .map_err(|e| StoreError::Corrupt(format!("redaction rule rectangles: {e}")))?;
    let size = |name: &str| -> Result<u32, StoreError> {
        u32::try_from(row.try_get::<i64, _>(name)?)
            .map_err(|_| StoreError::Corrupt(format!("redaction rule {name}")))
    };
    Ok(RedactionRule {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        manufacturer: row.try_get("manufacturer")?,
        model: row.try_get("model")?,
        rows: size("rows_count")?,
        columns: size("columns_count")?,
        modality: row.try_get("modality")?,
        rectangles,
        version: row.try_get("version")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn rectangles_json(rule: &RedactionRule) -> String {
    serde_json::to_string(&rule.rectangles).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// An organization's rules, oldest first (the first that matches applies).
    pub async fn redaction_rules(&self, org_id: Uuid) -> Result<Vec<RedactionRule>, StoreError> {
        let sql = format!("{COLUMNS} WHERE org_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// One rule of an organization.
    pub async fn redaction_rule(
        &self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<RedactionRule, StoreError> {
        let sql = format!("{COLUMNS} WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(rule_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Stores a new rule with its audit entry.
    pub async fn insert_redaction_rule(
        &self,
        rule: &RedactionRule,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "INSERT INTO redaction_rules (id, org_id, manufacturer, model, rows_count,
                     columns_count, modality, rectangles, version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(rule.id.to_string())
            .bind(rule.org_id.to_string())
            .bind(&rule.manufacturer)
            .bind(&rule.model)
            .bind(i64::from(rule.rows))
            .bind(i64::from(rule.columns))
            .bind(rule.modality.as_deref())
            .bind(rectangles_json(rule))
            .bind(rule.version)
            .bind(rule.created_at.millis())
            .bind(rule.updated_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "redaction_rule_exists", "organization"))?;
            Ok((tx, ()))
        })
        .await
    }

    /// Replaces a rule's fields if it is still at `expected_version` (then one more); `Stale`
    /// otherwise, `NotFound` when there is no such rule.
    pub async fn update_redaction_rule(
        &self,
        next: &RedactionRule,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<RedactionRule, StoreError> {
        self.redaction_rule(next.org_id, next.id).await?;
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query(
                "UPDATE redaction_rules SET manufacturer = $1, model = $2, rows_count = $3,
                     columns_count = $4, modality = $5, rectangles = $6, version = version + 1,
                     updated_at = $7
                 WHERE org_id = $8 AND id = $9 AND version = $10",
            )
            .bind(&next.manufacturer)
            .bind(&next.model)
            .bind(i64::from(next.rows))
            .bind(i64::from(next.columns))
            .bind(next.modality.as_deref())
            .bind(rectangles_json(next))
            .bind(next.updated_at.millis())
            .bind(next.org_id.to_string())
            .bind(next.id.to_string())
            .bind(expected_version)
            .execute(&mut *tx)
            .await?;
            one_row(done, StoreError::Stale)?;
            Ok((tx, ()))
        })
        .await?;
        self.redaction_rule(next.org_id, next.id).await
    }

    /// Removes a rule with its audit entry; `NotFound` when there is none.
    pub async fn delete_redaction_rule(
        &self,
        org_id: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query("DELETE FROM redaction_rules WHERE org_id = $1 AND id = $2")
                .bind(org_id.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            one_row(done, StoreError::NotFound)?;
            Ok((tx, ()))
        })
        .await
    }
}
