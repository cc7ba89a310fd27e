//! Each member's own notification level per conversation (all, mentions, mute).

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::notify::NotifyLevel;

use crate::rows::{named, uuid};
use crate::{Store, StoreError};

impl Store {
    /// `user`'s level in each conversation they belong to.
    pub async fn notify_levels(
        &self,
        user: Uuid,
    ) -> Result<HashMap<Uuid, NotifyLevel>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, notify FROM conversation_members WHERE user_id = $1",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    uuid(row, "conversation_id")?,
                    named(row, "notify", NotifyLevel::parse)?,
                ))
            })
            .collect()
    }

    /// Sets `user`'s level in `conversation`; `NotFound` when they are not a member.
    pub async fn set_notify_level(
        &self,
        conversation: Uuid,
        user: Uuid,
        level: NotifyLevel,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE conversation_members SET notify = $1 WHERE conversation_id = $2 AND user_id = $3",
        )
        .bind(level.as_str())
        .bind(conversation.to_string())
        .bind(user.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
