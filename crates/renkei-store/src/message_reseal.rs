//! The one-time sealing, at start-up, of what was stored before messages were sealed: bodies,
//! edit events and the audit copies of edited or deleted messages. SQL migrations cannot do
//! it (the master key never reaches the database), so the first start with the keys does,
//! and `sealing_state` records that it is done.
//!
//! The audit copies are part of the hash chain: sealing them rewrites the chain from the
//! first one on, and an `audit.resealed` entry records the head it replaced.

use renkei_core::Uuid;
use renkei_core::audit::{AuditEvent, AuditRecord};
use renkei_core::clock::Timestamp;
use serde_json::{Value, json};
use sqlx::Row;

use crate::audit::{AUDIT_COLUMNS, record_from_row};
use crate::message_keys::{MessageKeys, TxKeys, epoch_of, sealed_epoch};
use crate::rows::uuid;
use crate::{Backend, Store, StoreError, Tx};

/// Rows sealed per transaction.
const BATCH: i64 = 500;
/// The audit actions whose `before` holds a message's text.
pub(crate) const COPY_ACTIONS: [&str; 2] = ["message.edit", "message.delete"];

/// The message text `details` (an audit entry's) holds unsealed, if any.
fn unsealed_copy(details: &Value) -> Option<&str> {
    details
        .get("before")
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty() && sealed_epoch(text).is_none())
}

impl Store {
    /// Seals everything stored before sealing, once.
    pub(crate) async fn reseal_plaintext(&self) -> Result<(), StoreError> {
        let state = sqlx::query("SELECT resealed_at FROM sealing_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = state
            && row.try_get::<Option<i64>, _>("resealed_at")?.is_some()
        {
            return Ok(());
        }
        let mut changed = self.reseal_bodies().await?;
        changed += self.reseal_edits().await?;
        changed += self.reseal_audit_copies().await?;
        sqlx::query("UPDATE sealing_state SET resealed_at = $1 WHERE id = 1")
            .bind(Timestamp::now().millis())
            .execute(&self.pool)
            .await?;
        if changed > 0 {
            tracing::info!(rows = changed, "stored messages sealed");
            if self.backend == Backend::Sqlite {
                // The plaintext pages and write-ahead frames go: the file is rewritten.
                sqlx::query("VACUUM").execute(&self.pool).await?;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Seals bodies without a key epoch, each with its conversation's key of its own day.
    async fn reseal_bodies(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let rows = sqlx::query(
                "SELECT m.conversation_id, m.seq, m.body, m.created_at, c.org_id FROM messages m
                 JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.key_epoch IS NULL LIMIT $1",
            )
            .bind(BATCH)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(total);
            }
            let mut tx = self.write_tx().await?;
            let mut fresh = TxKeys::default();
            for row in &rows {
                let conversation = uuid(row, "conversation_id")?;
                let body: String = row.try_get("body")?;
                let epoch = epoch_of(Timestamp(row.try_get("created_at")?));
                let key = self
                    .body_key_in(&mut tx, &mut fresh, conversation, epoch)
                    .await?;
                let search = self
                    .search_key_in(&mut tx, &mut fresh, uuid(row, "org_id")?)
                    .await?;
                sqlx::query(
                    "UPDATE messages SET body = $1, key_epoch = $2, search_tokens = $3
                     WHERE conversation_id = $4 AND seq = $5",
                )
                .bind(MessageKeys::seal(&key, conversation, epoch, &body)?)
                .bind(epoch)
                .bind(MessageKeys::tokens(&search, &body))
                .bind(conversation.to_string())
                .bind(row.try_get::<i64, _>("seq")?)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            self.remember_keys(fresh);
            total += rows.len();
        }
    }

    /// The key epoch of message `seq` of `conversation` (as sealed), or of `otherwise`.
    async fn message_epoch_in(
        tx: &mut Tx,
        conversation: Uuid,
        seq: Option<i64>,
        otherwise: Timestamp,
    ) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT key_epoch FROM messages WHERE conversation_id = $1 AND seq = $2")
                .bind(conversation.to_string())
                .bind(seq.unwrap_or(-1))
                .fetch_optional(&mut **tx)
                .await?;
        Ok(match row {
            Some(row) => row
                .try_get::<Option<i64>, _>("key_epoch")?
                .unwrap_or_else(|| epoch_of(otherwise)),
            None => epoch_of(otherwise),
        })
    }

    /// Seals the bodies of edit events, with their message's key.
    async fn reseal_edits(&self) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, seq, data, created_at FROM conversation_events
             WHERE kind = 'message.edited'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.write_tx().await?;
        let mut fresh = TxKeys::default();
        let mut total = 0;
        for row in &rows {
            let mut data: Value = serde_json::from_str(&row.try_get::<String, _>("data")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let Some(body) = data
                .get("body")
                .and_then(Value::as_str)
                .filter(|b| sealed_epoch(b).is_none())
                .map(str::to_owned)
            else {
                continue;
            };
            let conversation = uuid(row, "conversation_id")?;
            let at = Timestamp(row.try_get("created_at")?);
            let target = data.get("target_seq").and_then(Value::as_i64);
            let epoch = Self::message_epoch_in(&mut tx, conversation, target, at).await?;
            let key = self
                .body_key_in(&mut tx, &mut fresh, conversation, epoch)
                .await?;
            data["body"] = MessageKeys::seal(&key, conversation, epoch, &body)?.into();
            sqlx::query(
                "UPDATE conversation_events SET data = $1 WHERE conversation_id = $2 AND seq = $3",
            )
            .bind(data.to_string())
            .bind(conversation.to_string())
            .bind(row.try_get::<i64, _>("seq")?)
            .execute(&mut *tx)
            .await?;
            total += 1;
        }
        tx.commit().await?;
        self.remember_keys(fresh);
        Ok(total)
    }

    /// Seals the audit copies of messages and chains the log again from the first one.
    async fn reseal_audit_copies(&self) -> Result<usize, StoreError> {
        let first =
            sqlx::query("SELECT seq, details FROM audit_log WHERE action IN ($1, $2) ORDER BY seq")
                .bind(COPY_ACTIONS[0])
                .bind(COPY_ACTIONS[1])
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|row| {
                    let details: Value =
                        serde_json::from_str(&row.try_get::<String, _>("details")?)
                            .unwrap_or(Value::Null);
                    Ok((
                        row.try_get::<i64, _>("seq")?,
                        unsealed_copy(&details).is_some(),
                    ))
                })
                .collect::<Result<Vec<(i64, bool)>, StoreError>>()?
                .into_iter()
                .find(|(_, unsealed)| *unsealed)
                .map(|(seq, _)| seq);
        let Some(first) = first else { return Ok(0) };
        let mut tx = self.write_tx().await?;
        let mut fresh = TxKeys::default();
        let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *tx)
            .await?;
        let old_head: String = head.try_get("hash")?;
        let mut prev_hash: String = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(first - 1)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("hash"))
            .transpose()?
            .unwrap_or_else(|| renkei_core::audit::GENESIS_HASH.to_owned());
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{AUDIT_COLUMNS} WHERE seq >= $1 ORDER BY seq"
        )))
        .bind(first)
        .fetch_all(&mut *tx)
        .await?;
        let mut sealed = 0;
        for row in &rows {
            // The chain is recomputed from the first row changed: hashes are set below.
            let mut record = AuditRecord {
                prev_hash: prev_hash.clone(),
                hash: String::new(),
                ..record_from_row(row)?
            };
            if let (true, Some(conversation)) = (
                COPY_ACTIONS.contains(&record.action.as_str()),
                record.target_id,
            ) {
                let mut details: Value =
                    serde_json::from_str(&record.details).unwrap_or(Value::Null);
                if let Some(text) = unsealed_copy(&details).map(str::to_owned) {
                    let seq = details.get("seq").and_then(Value::as_i64);
                    let epoch =
                        Self::message_epoch_in(&mut tx, conversation, seq, record.at).await?;
                    let key = self
                        .body_key_in(&mut tx, &mut fresh, conversation, epoch)
                        .await?;
                    details["before"] = MessageKeys::seal(&key, conversation, epoch, &text)?.into();
                    record.details = details.to_string();
                    sealed += 1;
                }
            }
            record.hash = record.compute_hash();
            sqlx::query(
                "UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
            )
            .bind(&record.details)
            .bind(&record.prev_hash)
            .bind(&record.hash)
            .bind(record.seq)
            .execute(&mut *tx)
            .await?;
            prev_hash = record.hash;
        }
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&prev_hash)
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent::new("audit.resealed", None, None, "audit", None).with_details(
            json!({"from_seq": first, "copies_sealed": sealed, "replaced_head_hash": old_head}),
        );
        self.append_audit_in(&mut tx, &event).await?;
        tx.commit().await?;
        self.remember_keys(fresh);
        Ok(sealed)
    }
}
