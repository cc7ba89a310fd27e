//! What messages carry that outlives them (media, studies): which conversations they were
//! posted in, and the conversation's shorter retention applied to those links. A link that
//! expires hides the object in its conversation only; the object itself (keys and bytes)
//! expires with its own organization's retention and nothing else.

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError, Tx};

/// A kind of attachment with its own records and expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    Media,
    Study,
}

/// How a user reaches an attachment through the conversations they are a member of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not posted in any conversation the user is in (or not in the one asked about).
    Unlinked,
    /// Posted there, but every such link has expired under its conversation's retention.
    Expired,
    /// Posted in at least one of them, and that link is live.
    Live,
}

/// The expiry of the link of conversation `$2`'s message `$3`: the message's time plus the
/// conversation's retention (NULL when it has none).
const LINK_EXPIRY: &str = "(SELECT m.created_at + c.retention_days * 86400000
     FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.conversation_id = $2 AND m.seq = $3)";

/// A link (alias `l`) not yet expired at `$NOW` (the placeholder is filled in per query).
pub(crate) const LIVE_LINK: &str =
    "l.expired_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > $NOW)";

impl Attached {
    /// The table of this kind's links to messages.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Attached::Media => "media_links",
            Attached::Study => "study_links",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Attached::Media => "media_id",
            Attached::Study => "study_id",
        }
    }

    fn link_sql(self) -> String {
        format!(
            "INSERT INTO {} ({}, conversation_id, seq, expires_at) VALUES ($1, $2, $3, {LINK_EXPIRY})",
            self.table(),
            self.column()
        )
    }

    /// Sets the expiry of every link of conversation `$1` to its message's time plus the
    /// conversation's retention.
    fn expire_links_sql(self) -> String {
        let table = self.table();
        format!(
            "UPDATE {table} SET expires_at = (SELECT m.created_at + c.retention_days * 86400000
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.conversation_id = {table}.conversation_id AND m.seq = {table}.seq)
             WHERE conversation_id = $1 AND expired_at IS NULL"
        )
    }
}

/// Records that an attachment was posted in a conversation's message `seq` (already inserted
/// in `tx`), expiring with the conversation's retention if it has one.
pub(crate) async fn link_attachment(
    tx: &mut Tx,
    kind: Attached,
    id: Uuid,
    conversation: Uuid,
    seq: i64,
) -> Result<(), StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(kind.link_sql()))
        .bind(id.to_string())
        .bind(conversation.to_string())
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Applies the conversation's (new) retention to the links already posted in it.
pub(crate) async fn expire_links_in(
    tx: &mut Tx,
    kind: Attached,
    conversation: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(kind.expire_links_sql()))
        .bind(conversation.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// How `user` reaches attachment `id` at `now`: through any conversation they are a member
    /// of, or only through `conversation` when given.
    pub async fn reach(
        &self,
        kind: Attached,
        id: Uuid,
        user: Uuid,
        conversation: Option<Uuid>,
        now: Timestamp,
    ) -> Result<Reach, StoreError> {
        let live = LIVE_LINK.replace("$NOW", "$4");
        let sql = format!(
            "SELECT MAX(CASE WHEN {live} THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END) AS live FROM {} l
             JOIN conversation_members m ON m.conversation_id = l.conversation_id AND m.user_id = $2
             WHERE l.{} = $1 AND ($3 IS NULL OR l.conversation_id = $3)",
            kind.table(),
            kind.column()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(conversation.map(|c| c.to_string()))
            .bind(now.millis())
            .fetch_one(&self.pool)
            .await?;
        Ok(match row.try_get::<Option<i64>, _>("live")? {
            None => Reach::Unlinked,
            Some(0) => Reach::Expired,
            Some(_) => Reach::Live,
        })
    }
}
