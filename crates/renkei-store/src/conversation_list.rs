//! A member's conversation list in one statement: each conversation with my membership, its
//! counts, my notification level and its newest message, with no query per conversation.

use renkei_core::Uuid;
use renkei_core::conversation::Message;
use renkei_core::notify::NotifyLevel;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::conversations::{SUMMARY_COLUMNS, SUMMARY_FROM, SUMMARY_ORDER, summary_from_row};
use crate::message_keys::{KeyMemo, key_days};
use crate::messages::message_from_columns;
use crate::rows::named;
use crate::{ConversationSummary, Store, StoreError};

/// One conversation of a member's list, with everything the list shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedConversation {
    pub summary: ConversationSummary,
    /// My own notification level here.
    pub notify: NotifyLevel,
    /// The newest message (as stored: a deleted one has lost its content).
    pub last_message: Option<Message>,
}

/// The newest message's columns, as `lm_…`, beside [`SUMMARY_COLUMNS`].
const LAST_MESSAGE_COLUMNS: &str = "lm.id AS lm_id, lm.conversation_id AS lm_conversation_id,
    lm.seq AS lm_seq, lm.sender_id AS lm_sender_id, lm.client_msg_id AS lm_client_msg_id,
    lm.body AS lm_body, lm.reply_to AS lm_reply_to, lm.priority AS lm_priority,
    lm.mentions AS lm_mentions, lm.attachments AS lm_attachments,
    lm.created_at AS lm_created_at, lm.edited_at AS lm_edited_at, lm.deleted_at AS lm_deleted_at";

/// The newest message of each conversation: one primary-key lookup per row.
const LAST_MESSAGE_JOIN: &str = "LEFT JOIN messages lm ON lm.conversation_id = c.id
    AND lm.seq = (SELECT MAX(g.seq) FROM messages g WHERE g.conversation_id = c.id)";

fn listed_from_row(row: &AnyRow) -> Result<ListedConversation, StoreError> {
    let has_message = row.try_get::<Option<String>, _>("lm_id")?.is_some();
    Ok(ListedConversation {
        summary: summary_from_row(row)?,
        notify: named(row, "notify", NotifyLevel::parse)?,
        last_message: if has_message {
            Some(message_from_columns(row, "lm_")?)
        } else {
            None
        },
    })
}

/// The statement for `user`'s memberships, narrowed by `and` (an SQL condition or "").
fn listed_sql(and: &str) -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS}, m.notify, {LAST_MESSAGE_COLUMNS}
         FROM {SUMMARY_FROM} {LAST_MESSAGE_JOIN}
         WHERE m.user_id = $1 {and} ORDER BY {SUMMARY_ORDER}"
    )
}

impl Store {
    /// Every conversation `user` belongs to, newest activity first, as their list shows it:
    /// one statement whatever the number of conversations.
    pub async fn conversation_list(
        &self,
        user: Uuid,
    ) -> Result<Vec<ListedConversation>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(listed_sql("")))
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        let mut listed = rows
            .iter()
            .map(listed_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.open_listed(&mut listed).await?;
        Ok(listed)
    }

    /// The newest messages' bodies opened, their keys read in one statement.
    async fn open_listed(&self, listed: &mut [ListedConversation]) -> Result<(), StoreError> {
        let mut memo = KeyMemo::new();
        let days = key_days(
            listed
                .iter()
                .filter_map(|l| l.last_message.as_ref())
                .map(|m| (m.conversation_id, m.body.as_str())),
        );
        self.prefetch_keys(&mut memo, days).await?;
        for one in listed.iter_mut() {
            if let Some(message) = &mut one.last_message {
                self.open_message_in(&mut memo, message).await?;
            }
        }
        Ok(())
    }

    /// Conversation `id` as `user`'s list shows it; `NotFound` when they are not a member.
    pub async fn listed_conversation(
        &self,
        user: Uuid,
        id: Uuid,
    ) -> Result<ListedConversation, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(listed_sql("AND c.id = $2")))
            .bind(user.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let mut listed = row
            .as_ref()
            .map(listed_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        self.open_listed(std::slice::from_mut(&mut listed)).await?;
        Ok(listed)
    }
}
