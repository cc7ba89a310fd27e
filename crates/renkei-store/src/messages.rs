//! Messages: what a post is and how it is answered (posting is in `posting`), history,
//! edits, deletions, replay of timeline events, and search.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Event, EventKind, Message, NewMessage, Priority};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audited::one_row;
use crate::rows::{like_escape, named, opt_uuid, uuid};
use crate::{Backend, Store, StoreError};

pub(crate) const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.body, m.reply_to,
    m.priority, m.mentions, m.attachments, m.created_at, m.edited_at, m.deleted_at";

/// One message to post, as part of a batch.
#[derive(Debug, Clone)]
pub struct Post {
    pub conversation_id: Uuid,
    pub sender_id: Uuid,
    pub message: NewMessage,
}

/// Why a post was refused; nothing of it was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostRefusal {
    /// The sender is not a member (or the conversation does not exist).
    NotMember,
    /// `reply_to` names no message of this conversation.
    ReplyNotFound,
    /// A mentioned user is not a member.
    MentionNotMember,
    /// The sender used this client id for a message in another conversation.
    ClientIdReused,
    /// An attached medium does not exist, is not the sender's, or has expired.
    AttachmentNotFound,
    /// An attached study is held: it may show patient information until it is redacted or
    /// confirmed clean.
    AttachmentHeld,
}

/// A stored post: the message, and whether it was stored earlier (a resend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub message: Message,
    pub duplicate: bool,
}

fn json_list<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> Result<Vec<T>, StoreError> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn message_from_row(row: &AnyRow) -> Result<Message, StoreError> {
    message_from_columns(row, "")
}

/// A message from its columns, each named with `prefix` before it (`lm_id`, `lm_seq`, …).
pub(crate) fn message_from_columns(row: &AnyRow, prefix: &str) -> Result<Message, StoreError> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(Message {
        id: uuid(row, &col("id"))?,
        conversation_id: uuid(row, &col("conversation_id"))?,
        seq: row.try_get(&*col("seq"))?,
        sender_id: uuid(row, &col("sender_id"))?,
        client_msg_id: row.try_get(&*col("client_msg_id"))?,
        body: row.try_get(&*col("body"))?,
        reply_to: row.try_get(&*col("reply_to"))?,
        priority: named(row, &col("priority"), Priority::parse)?,
        mentions: json_list(row, &col("mentions"))?,
        attachments: json_list(row, &col("attachments"))?,
        created_at: Timestamp(row.try_get(&*col("created_at"))?),
        edited_at: row
            .try_get::<Option<i64>, _>(&*col("edited_at"))?
            .map(Timestamp),
        deleted_at: row
            .try_get::<Option<i64>, _>(&*col("deleted_at"))?
            .map(Timestamp),
    })
}

impl Store {
    /// One message by its number.
    pub async fn message(&self, conversation: Uuid, seq: i64) -> Result<Message, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1 AND m.seq = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(message_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// A page of messages in their current state: the newest `limit` before `before_seq`, or
    /// the oldest `limit` after `after_seq`; always returned oldest first.
    pub async fn messages_page(
        &self,
        conversation: Uuid,
        before_seq: Option<i64>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let newest_first = after_seq.is_none();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1
               AND ($2 IS NULL OR m.seq < $2) AND ($3 IS NULL OR m.seq > $3)
             ORDER BY m.seq {} LIMIT $4",
            if newest_first { "DESC" } else { "ASC" }
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(before_seq)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut page: Vec<Message> = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?;
        if newest_first {
            page.reverse();
        }
        Ok(page)
    }

    /// Timeline events after `after_seq`, oldest first; message events carry the message in
    /// its current state (a deleted message has lost its body).
    pub async fn events_after(
        &self,
        conversation: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let sql = format!(
            "SELECT e.seq AS event_seq, e.kind, e.actor_id, e.data, e.created_at AS event_at, {MESSAGE_COLUMNS}
             FROM conversation_events e
             LEFT JOIN messages m ON m.conversation_id = e.conversation_id AND m.seq = e.seq
             WHERE e.conversation_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let data: String = row.try_get("data")?;
                let has_message = row.try_get::<Option<String>, _>("id")?.is_some();
                Ok(Event {
                    conversation_id: conversation,
                    seq: row.try_get("event_seq")?,
                    kind: named(row, "kind", EventKind::parse)?,
                    actor_id: opt_uuid(row, "actor_id")?,
                    at: Timestamp(row.try_get("event_at")?),
                    message: if has_message {
                        Some(message_from_row(row)?)
                    } else {
                        None
                    },
                    data: serde_json::from_str(&data)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Replaces a message's body (an event) with its audit entry, in one commit. `NotFound` when
    /// there is no such live message.
    pub async fn edit_message(
        &self,
        conversation: Uuid,
        seq: i64,
        body: &str,
        actor: Uuid,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        self.audited([audit], |mut tx| async move {
            let now = Timestamp::now();
            let done = sqlx::query(
                "UPDATE messages SET body = $1, edited_at = $2 WHERE conversation_id = $3 AND seq = $4 AND deleted_at IS NULL",
            )
            .bind(body)
            .bind(now.millis())
            .bind(conversation.to_string())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            one_row(done, StoreError::NotFound)?;
            let data = json!({"target_seq": seq, "body": body});
            let event = Self::append_event(
                &mut tx,
                conversation,
                EventKind::MessageEdited,
                Some(actor),
                &data,
                now,
            )
            .await?;
            Ok((tx, event))
        })
        .await
    }

    /// Deletes a message's content (an event) with its audit entry, in one commit; the row stays
    /// as "deleted".
    pub async fn delete_message(
        &self,
        conversation: Uuid,
        seq: i64,
        actor: Uuid,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        self.audited([audit], |mut tx| async move {
            let now = Timestamp::now();
            let done = sqlx::query(
                "UPDATE messages SET body = '', attachments = '[]', mentions = '[]', deleted_at = $1
                 WHERE conversation_id = $2 AND seq = $3 AND deleted_at IS NULL",
            )
            .bind(now.millis())
            .bind(conversation.to_string())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            one_row(done, StoreError::NotFound)?;
            let data = json!({"target_seq": seq});
            let event = Self::append_event(
                &mut tx,
                conversation,
                EventKind::MessageDeleted,
                Some(actor),
                &data,
                now,
            )
            .await?;
            Ok((tx, event))
        })
        .await
    }

    /// Messages containing `query` in conversations `user` belongs to, newest first.
    pub async fn search_messages(
        &self,
        user: Uuid,
        query: &str,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        self.search_messages_in(user, &[query.to_owned()], None, limit)
            .await
    }

    /// Messages containing any of `variants` (forms of one query), in conversations `user`
    /// belongs to (only `conversation`, when given), newest first.
    pub async fn search_messages_in(
        &self,
        user: Uuid,
        variants: &[String],
        conversation: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        if variants.is_empty() {
            return Ok(Vec::new());
        }
        // FTS5 trigrams need three characters; shorter forms go through LIKE.
        let use_fts =
            self.backend == Backend::Sqlite && variants.iter().all(|v| v.chars().count() >= 3);
        let scope = "cm.conversation_id = m.conversation_id AND cm.user_id = $1
                 AND ($2 IS NULL OR m.conversation_id = $2)";
        let sql = if use_fts {
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
                 JOIN conversation_members cm ON {scope}
                 WHERE messages_fts MATCH $4 AND m.deleted_at IS NULL
                 ORDER BY m.created_at DESC LIMIT $3"
            )
        } else {
            let like = if self.backend == Backend::Postgres {
                "ILIKE"
            } else {
                "LIKE"
            };
            let any = (0..variants.len())
                .map(|i| format!("m.body {like} ${} ESCAPE '\\'", i + 4))
                .collect::<Vec<_>>()
                .join(" OR ");
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m
                 JOIN conversation_members cm ON {scope}
                 WHERE ({any}) AND m.deleted_at IS NULL
                 ORDER BY m.created_at DESC LIMIT $3"
            )
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.to_string())
            .bind(conversation.map(|c| c.to_string()))
            .bind(limit);
        if use_fts {
            let any = variants
                .iter()
                .map(|v| format!("\"{}\"", v.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" OR ");
            q = q.bind(any);
        } else {
            for v in variants {
                q = q.bind(format!("%{}%", like_escape(v)));
            }
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(message_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape(r"100%_a\b"), r"100\%\_a\\b");
    }
}
