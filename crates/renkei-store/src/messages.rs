//! Messages: what a post is and how it is answered (posting is in `posting`), history,
//! edits, deletions and replay of timeline events, with bodies opened as they are read.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Event, EventKind, Message, NewMessage, Priority};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audited::one_row;
use crate::message_keys::{KeyMemo, MessageKeys, TxKeys, epoch_of, key_days};
use crate::rows::{named, opt_uuid, uuid};
use crate::{Store, StoreError};

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
        let mut message = row
            .as_ref()
            .map(message_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        self.open_message(&mut message).await?;
        Ok(message)
    }

    /// `message` with its body opened; a body whose key was destroyed reads as empty.
    pub(crate) async fn open_message(&self, message: &mut Message) -> Result<(), StoreError> {
        self.open_message_in(&mut KeyMemo::new(), message).await
    }

    /// [`Store::open_message`] with the keys of one read kept in `memo`.
    pub(crate) async fn open_message_in(
        &self,
        memo: &mut KeyMemo,
        message: &mut Message,
    ) -> Result<(), StoreError> {
        message.body = self
            .open_text_in(memo, message.conversation_id, &message.body)
            .await?
            .unwrap_or_default();
        Ok(())
    }

    /// `messages` with their bodies opened.
    pub(crate) async fn open_messages(&self, messages: &mut [Message]) -> Result<(), StoreError> {
        let mut memo = KeyMemo::new();
        let days = key_days(
            messages
                .iter()
                .map(|m| (m.conversation_id, m.body.as_str())),
        );
        self.prefetch_keys(&mut memo, days).await?;
        for message in messages {
            self.open_message_in(&mut memo, message).await?;
        }
        Ok(())
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
        self.open_messages(&mut page).await?;
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
        let mut events = rows
            .iter()
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
            .collect::<Result<Vec<Event>, StoreError>>()?;
        let mut memo = KeyMemo::new();
        let days = key_days(events.iter().flat_map(|e| {
            let body = e.message.as_ref().map(|m| m.body.as_str());
            let edit = e.data.get("body").and_then(|b| b.as_str());
            [body, edit]
                .into_iter()
                .flatten()
                .map(|t| (conversation, t))
        }));
        self.prefetch_keys(&mut memo, days).await?;
        for event in &mut events {
            if let Some(message) = &mut event.message {
                self.open_message_in(&mut memo, message).await?;
            }
            self.open_event_body(&mut memo, conversation, &mut event.data)
                .await?;
        }
        Ok(events)
    }

    /// An edit event's `body` opened in `data`; removed when its key was destroyed.
    async fn open_event_body(
        &self,
        memo: &mut KeyMemo,
        conversation: Uuid,
        data: &mut serde_json::Value,
    ) -> Result<(), StoreError> {
        let Some(map) = data.as_object_mut() else {
            return Ok(());
        };
        let Some(text) = map.get("body").and_then(|b| b.as_str()).map(str::to_owned) else {
            return Ok(());
        };
        match self.open_text_in(memo, conversation, &text).await? {
            Some(body) => map.insert("body".into(), body.into()),
            None => map.remove("body"),
        };
        Ok(())
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
        let mut fresh = TxKeys::default();
        let fresh_keys = &mut fresh;
        let event = self
            .audited([audit], |mut tx| async move {
                let now = Timestamp::now();
                let found = sqlx::query(
                    "SELECT m.key_epoch, c.org_id FROM messages m
                 JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.conversation_id = $1 AND m.seq = $2 AND m.deleted_at IS NULL",
                )
                .bind(conversation.to_string())
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                // The edit is sealed with the message's own key: it expires with the message.
                let epoch = found
                    .try_get::<Option<i64>, _>("key_epoch")?
                    .unwrap_or_else(|| epoch_of(now));
                let org = uuid(&found, "org_id")?;
                let key = self
                    .body_key_in(&mut tx, fresh_keys, conversation, epoch)
                    .await?;
                let search = self.search_key_in(&mut tx, fresh_keys, org).await?;
                let sealed = MessageKeys::seal(&key, conversation, epoch, body)?;
                let done = sqlx::query(
                "UPDATE messages SET body = $1, edited_at = $2, key_epoch = $3, search_tokens = $4
                 WHERE conversation_id = $5 AND seq = $6 AND deleted_at IS NULL",
            )
            .bind(&sealed)
            .bind(now.millis())
            .bind(epoch)
            .bind(MessageKeys::tokens(&search, body))
            .bind(conversation.to_string())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
                one_row(done, StoreError::NotFound)?;
                let data = json!({"target_seq": seq, "body": sealed});
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
            .await?;
        self.remember_keys(fresh);
        Ok(event)
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
                "UPDATE messages SET body = '', search_tokens = '', attachments = '[]', mentions = '[]',
                     deleted_at = $1
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
}
