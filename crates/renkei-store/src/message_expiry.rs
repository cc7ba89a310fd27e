//! Message retention: a conversation's messages of the days its organization no longer keeps
//! are destroyed with their day keys (their bodies, edits and audit copies can never be
//! opened again), their rows and message events go, and the timeline gets a
//! `messages.expired` marker; the audit log keeps who, when and which numbers, no content.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::EventKind;
use serde_json::json;
use sqlx::Row;

use crate::rows::uuid;
use crate::{Backend, Store, StoreError};

/// The messages of one conversation that expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredMessages {
    pub conversation_id: Uuid,
    /// The numbers destroyed: every message from `from_seq` to `up_to_seq`.
    pub from_seq: i64,
    pub up_to_seq: i64,
    pub messages: i64,
    /// The marker's number in the timeline.
    pub event_seq: i64,
}

impl Store {
    /// Conversations of `org` holding keys of days before `first_kept_epoch`, at most `limit`.
    pub async fn conversations_with_keys_before(
        &self,
        org: Uuid,
        first_kept_epoch: i64,
        limit: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT k.conversation_id FROM message_keys k
             JOIN conversations c ON c.id = k.conversation_id
             WHERE c.org_id = $1 AND k.epoch < $2 ORDER BY k.conversation_id LIMIT $3",
        )
        .bind(org.to_string())
        .bind(first_kept_epoch)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| uuid(r, "conversation_id")).collect()
    }

    /// Destroys the keys of `conversation` of days before `first_kept_epoch` and the messages
    /// they sealed, in one commit with the timeline's marker and the audit entry (`org`'s,
    /// `retention_days` the policy that ran out). `None` when the keys sealed no message.
    pub async fn expire_messages(
        &self,
        org: Uuid,
        conversation: Uuid,
        first_kept_epoch: i64,
        retention_days: i64,
        now: Timestamp,
    ) -> Result<Option<ExpiredMessages>, StoreError> {
        let mut tx = self.write_tx().await?;
        let range = sqlx::query(
            "SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM messages
             WHERE conversation_id = $1 AND key_epoch < $2",
        )
        .bind(conversation.to_string())
        .bind(first_kept_epoch)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM message_keys WHERE conversation_id = $1 AND epoch < $2")
            .bind(conversation.to_string())
            .bind(first_kept_epoch)
            .execute(&mut *tx)
            .await?;
        let (Some(lo), Some(hi)) = (
            range.try_get::<Option<i64>, _>("lo")?,
            range.try_get::<Option<i64>, _>("hi")?,
        ) else {
            tx.commit().await?;
            self.forget_keys_before(conversation, first_kept_epoch);
            return Ok(None);
        };
        let messages: i64 = range.try_get("n")?;
        sqlx::query("DELETE FROM messages WHERE conversation_id = $1 AND key_epoch < $2")
            .bind(conversation.to_string())
            .bind(first_kept_epoch)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM conversation_events WHERE conversation_id = $1 AND seq <= $2
               AND kind IN ($3, $4, $5)",
        )
        .bind(conversation.to_string())
        .bind(hi)
        .bind(EventKind::MessageCreated.as_str())
        .bind(EventKind::MessageEdited.as_str())
        .bind(EventKind::MessageDeleted.as_str())
        .execute(&mut *tx)
        .await?;
        let data = json!({"up_to_seq": hi, "retention_days": retention_days});
        let event_seq = Self::append_event(
            &mut tx,
            conversation,
            EventKind::MessagesExpired,
            None,
            &data,
            now,
        )
        .await?;
        let audit = AuditEvent::new(
            "messages.expired",
            Some(org),
            None,
            "conversation",
            Some(conversation),
        )
        .with_details(json!({
            "from_seq": lo,
            "up_to_seq": hi,
            "messages": messages,
            "retention_days": retention_days,
            "by": "message_retention_days",
        }));
        self.append_audit_in(&mut tx, &audit).await?;
        tx.commit().await?;
        self.forget_keys_before(conversation, first_kept_epoch);
        Ok(Some(ExpiredMessages {
            conversation_id: conversation,
            from_seq: lo,
            up_to_seq: hi,
            messages,
            event_seq,
        }))
    }

    /// Empties the SQLite write-ahead log into the database and truncates it, so destroyed
    /// keys' pages are not left in old frames; nothing on PostgreSQL.
    pub async fn truncate_wal(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}
