//! The audit chain's storage: append inside the caller's transaction, page, verify.

use renkei_core::Uuid;
use renkei_core::audit::{AuditEvent, AuditRecord, ChainBreak, ChainVerifier};
use renkei_core::clock::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::message_reseal::COPY_ACTIONS;
use crate::rows::{id_text, opt_uuid};
use crate::{Store, StoreError, Tx};

/// Which audit entries to list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

pub(crate) const AUDIT_COLUMNS: &str = "SELECT seq, at, org_id, actor_id, action, target_kind, target_id, details, prev_hash, hash FROM audit_log";

pub(crate) fn record_from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: Timestamp(row.try_get("at")?),
        org_id: opt_uuid(row, "org_id")?,
        actor_id: opt_uuid(row, "actor_id")?,
        action: row.try_get("action")?,
        target_kind: row.try_get("target_kind")?,
        target_id: opt_uuid(row, "target_id")?,
        details: row.try_get("details")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl Store {
    /// Appends an event to the chain as part of `tx`, so the change and its record commit
    /// together. Locking the head row serializes appends on both backends.
    pub(crate) async fn append_audit_in(
        &self,
        tx: &mut Tx,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let head =
            sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut **tx)
                .await?;
        let seq: i64 = head.try_get("seq")?;
        let prev_hash: String = head.try_get("hash")?;
        let record = AuditRecord::chain(event, Timestamp::now(), seq - 1, &prev_hash);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, org_id, actor_id, action, target_kind, target_id,
                 details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(record.seq)
        .bind(record.at.millis())
        .bind(id_text(record.org_id))
        .bind(id_text(record.actor_id))
        .bind(&record.action)
        .bind(&record.target_kind)
        .bind(id_text(record.target_id))
        .bind(&record.details)
        .bind(&record.prev_hash)
        .bind(&record.hash)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&record.hash)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Appends one event on its own (e.g. a failed login).
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        self.append_audit_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends several events in one commit (all or none), in order.
    pub async fn append_audits(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for event in events {
            self.append_audit_in(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Entries matching `filter`, newest first, with `seq` below `before_seq` when given.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "{AUDIT_COLUMNS} WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR actor_id = $2)
               AND ($3 IS NULL OR target_id = $3) AND ($4 IS NULL OR action = $4)
               AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6)
               AND ($7 IS NULL OR seq < $7)
             ORDER BY seq DESC LIMIT $8"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_text(filter.org_id))
            .bind(id_text(filter.actor_id))
            .bind(id_text(filter.target_id))
            .bind(filter.action.as_deref())
            .bind(filter.since.map(Timestamp::millis))
            .bind(filter.until.map(Timestamp::millis))
            .bind(before_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut records = rows
            .iter()
            .map(record_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        for record in &mut records {
            self.open_audit_copy(record).await?;
        }
        Ok(records)
    }

    /// The message text an edit's or deletion's entry keeps (`before`) opened for its reader,
    /// or `null` once the message's retention destroyed its key. The entry as stored, and
    /// hashed, holds it sealed: its `hash` is of that.
    async fn open_audit_copy(&self, record: &mut AuditRecord) -> Result<(), StoreError> {
        let Some(conversation) = record.target_id else {
            return Ok(());
        };
        if !COPY_ACTIONS.contains(&record.action.as_str()) {
            return Ok(());
        }
        let Ok(mut details) = serde_json::from_str::<serde_json::Value>(&record.details) else {
            return Ok(());
        };
        let Some(text) = details
            .get("before")
            .and_then(|b| b.as_str())
            .map(str::to_owned)
        else {
            return Ok(());
        };
        details["before"] = self
            .open_text(conversation, &text)
            .await?
            .map_or(serde_json::Value::Null, Into::into);
        record.details = details.to_string();
        Ok(())
    }

    /// How many audit entries belong to `org_id`.
    pub async fn count_audit(&self, org_id: Uuid) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE org_id = $1")
            .bind(org_id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Walks the whole chain in order; returns how many entries are intact, or the first break.
    pub async fn verify_audit(&self) -> Result<Result<i64, ChainBreak>, StoreError> {
        const PAGE: i64 = 1000;
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let sql = format!("{AUDIT_COLUMNS} WHERE seq > $1 ORDER BY seq LIMIT $2");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                let record = record_from_row(row)?;
                if let Err(broken) = verifier.check(&record) {
                    return Ok(Err(broken));
                }
                after = record.seq;
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        Ok(verifier.finish(head_seq, &head_hash))
    }
}
