//! What messages carry that outlives them (media, studies): which conversations they were
//! posted in, and the conversation's shorter retention applied to them.

use renkei_core::Uuid;

use crate::{StoreError, Tx};

/// A kind of attachment with its own records and expiry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attached {
    Media,
    Study,
}

impl Attached {
    fn link_sql(self) -> &'static str {
        match self {
            Attached::Media => {
                "INSERT INTO media_links (media_id, conversation_id, seq) VALUES ($1, $2, $3)"
            }
            Attached::Study => {
                "INSERT INTO study_links (study_id, conversation_id, seq) VALUES ($1, $2, $3)"
            }
        }
    }

    /// Sets `expires_at` to `created_at + $1` ms where that is sooner, for the attachments of
    /// conversation `$2`.
    pub(crate) fn shorten_sql(self) -> &'static str {
        match self {
            Attached::Media => {
                "UPDATE media SET expires_at = created_at + $1 WHERE expires_at > created_at + $1
                   AND id IN (SELECT media_id FROM media_links WHERE conversation_id = $2)"
            }
            Attached::Study => {
                "UPDATE studies SET expires_at = created_at + $1 WHERE expires_at > created_at + $1
                   AND id IN (SELECT study_id FROM study_links WHERE conversation_id = $2)"
            }
        }
    }
}

/// Records that an attachment was posted in a conversation's message `seq`, and applies the
/// conversation's retention to it when that is shorter.
pub(crate) async fn link_attachment(
    tx: &mut Tx,
    kind: Attached,
    id: Uuid,
    conversation: Uuid,
    seq: i64,
) -> Result<(), StoreError> {
    sqlx::query(kind.link_sql())
        .bind(id.to_string())
        .bind(conversation.to_string())
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    shorten_to_conversation(tx, kind, conversation).await
}

/// Applies the conversation's retention (if it has one) to its attachments of `kind`.
pub(crate) async fn shorten_to_conversation(
    tx: &mut Tx,
    kind: Attached,
    conversation: Uuid,
) -> Result<(), StoreError> {
    let days: Option<i64> = sqlx::Row::try_get(
        &sqlx::query("SELECT retention_days FROM conversations WHERE id = $1")
            .bind(conversation.to_string())
            .fetch_one(&mut **tx)
            .await?,
        "retention_days",
    )?;
    if let Some(days) = days {
        sqlx::query(kind.shorten_sql())
            .bind(days.saturating_mul(86_400_000))
            .bind(conversation.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
