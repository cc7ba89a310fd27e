//! Conversations, their members, and the numbered timeline every change is an event of.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Conversation, ConversationKind, EventKind, Member, MemberRole};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::attachments::{Attached, expire_links_in};
use crate::audited::one_row;
use crate::rows::{id_text, named, opt_uuid, uuid};
use crate::{Store, StoreError, Tx};

const CONVERSATION_COLUMNS: &str = "SELECT id, org_id, kind, title, created_by, last_seq, retention_days, created_at, updated_at FROM conversations";

/// A conversation as one member sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    pub conversation: Conversation,
    pub me: Member,
    pub member_count: i64,
    /// Messages by others after my last read, not deleted.
    pub unread: i64,
    /// The newest message's seq, if any.
    pub last_message_seq: Option<i64>,
}

pub(crate) fn conversation_from_row(row: &AnyRow) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        kind: named(row, "kind", ConversationKind::parse)?,
        title: row.try_get("title")?,
        created_by: opt_uuid(row, "created_by")?,
        last_seq: row.try_get("last_seq")?,
        retention_days: row.try_get("retention_days")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

/// The columns of a [`ConversationSummary`], over [`SUMMARY_FROM`].
pub(crate) const SUMMARY_COLUMNS: &str = "c.id, c.org_id, c.kind, c.title, c.created_by, c.last_seq, c.retention_days, c.created_at, c.updated_at,
    m.user_id, m.role, m.joined_seq, m.last_read_seq,
    (SELECT COUNT(*) FROM conversation_members x WHERE x.conversation_id = c.id) AS member_count,
    (SELECT COUNT(*) FROM messages g WHERE g.conversation_id = c.id AND g.seq > m.last_read_seq
        AND g.sender_id <> m.user_id AND g.deleted_at IS NULL) AS unread,
    (SELECT MAX(g.seq) FROM messages g WHERE g.conversation_id = c.id) AS last_message_seq";

/// Memberships (`m`) with their conversations (`c`).
pub(crate) const SUMMARY_FROM: &str =
    "conversation_members m JOIN conversations c ON c.id = m.conversation_id";

/// A member's list order: newest activity first.
pub(crate) const SUMMARY_ORDER: &str = "c.updated_at DESC, c.id";

/// A summary from a row of [`SUMMARY_COLUMNS`].
pub(crate) fn summary_from_row(row: &AnyRow) -> Result<ConversationSummary, StoreError> {
    Ok(ConversationSummary {
        conversation: conversation_from_row(row)?,
        me: member_from_row(row)?,
        member_count: row.try_get("member_count")?,
        unread: row.try_get("unread")?,
        last_message_seq: row.try_get("last_message_seq")?,
    })
}

fn member_from_row(row: &AnyRow) -> Result<Member, StoreError> {
    Ok(Member {
        user_id: uuid(row, "user_id")?,
        role: named(row, "role", MemberRole::parse)?,
        joined_seq: row.try_get("joined_seq")?,
        last_read_seq: row.try_get("last_read_seq")?,
    })
}

impl Store {
    /// Takes the next number of a conversation's timeline, in `tx`.
    pub(crate) async fn next_seq(
        tx: &mut Tx,
        conversation: Uuid,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $1 WHERE id = $2 RETURNING last_seq",
        )
        .bind(now.millis())
        .bind(conversation.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("last_seq")?)
    }

    /// Appends an event with the next number, in `tx`; returns its number.
    pub(crate) async fn append_event(
        tx: &mut Tx,
        conversation: Uuid,
        kind: EventKind,
        actor: Option<Uuid>,
        data: &Value,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let seq = Self::next_seq(tx, conversation, now).await?;
        sqlx::query(
            "INSERT INTO conversation_events (conversation_id, seq, kind, actor_id, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(conversation.to_string())
        .bind(seq)
        .bind(kind.as_str())
        .bind(id_text(actor))
        .bind(data.to_string())
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
        Ok(seq)
    }

    pub(crate) async fn insert_member(
        tx: &mut Tx,
        conversation: Uuid,
        user: Uuid,
        role: MemberRole,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let data = json!({"user_id": user, "role": role});
        let seq =
            Self::append_event(tx, conversation, EventKind::MemberAdded, actor, &data, now).await?;
        sqlx::query(
            "INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq, last_read_seq)
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(conversation.to_string())
        .bind(user.to_string())
        .bind(role.as_str())
        .bind(seq)
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::classify(e, "already_member", "user_not_found"))?;
        Ok(seq)
    }

    /// Creates a conversation with its first members (each joining as an event). A second
    /// direct conversation for the same pair is refused with `Duplicate("direct_exists")`.
    pub async fn create_conversation(
        &self,
        conversation: &Conversation,
        direct_key: Option<&str>,
        members: &[(Uuid, MemberRole)],
        audit: Option<&AuditEvent>,
    ) -> Result<Conversation, StoreError> {
        self.audited(audit, |mut tx| async move {
            let now = conversation.created_at;
            sqlx::query(
                "INSERT INTO conversations (id, org_id, kind, title, direct_key, created_by, last_seq, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
            )
            .bind(conversation.id.to_string())
            .bind(conversation.org_id.to_string())
            .bind(conversation.kind.as_str())
            .bind(&conversation.title)
            .bind(direct_key)
            .bind(id_text(conversation.created_by))
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "direct_exists", "user_not_found"))?;
            for (user, role) in members {
                Self::insert_member(
                    &mut tx,
                    conversation.id,
                    *user,
                    *role,
                    conversation.created_by,
                    now,
                )
                .await?;
            }
            Self::count_conversation_in(&mut tx, conversation.id).await?;
            Ok((tx, ()))
        })
        .await?;
        self.conversation(conversation.id).await
    }

    /// One conversation.
    pub async fn conversation(&self, id: Uuid) -> Result<Conversation, StoreError> {
        let sql = format!("{CONVERSATION_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(conversation_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The direct conversation with this key.
    pub async fn conversation_by_direct_key(&self, key: &str) -> Result<Conversation, StoreError> {
        let sql = format!("{CONVERSATION_COLUMNS} WHERE direct_key = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(conversation_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// `user`'s membership of `conversation`, if any.
    pub async fn member(&self, conversation: Uuid, user: Uuid) -> Result<Member, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, role, joined_seq, last_read_seq FROM conversation_members
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(member_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Every member of a conversation, oldest first.
    pub async fn members(&self, conversation: Uuid) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, role, joined_seq, last_read_seq FROM conversation_members
             WHERE conversation_id = $1 ORDER BY joined_seq",
        )
        .bind(conversation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    /// Every conversation `user` belongs to, newest activity first, with unread counts.
    pub async fn conversations_of(
        &self,
        user: Uuid,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM {SUMMARY_FROM} WHERE m.user_id = $1 ORDER BY {SUMMARY_ORDER}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Adds a member (an event); returns the event's number. When the member brings a new
    /// organization into the conversation, it counts as cross-organization for the
    /// organizations not counted for it yet, in the same transaction.
    pub async fn add_member(
        &self,
        conversation: Uuid,
        user: Uuid,
        role: MemberRole,
        actor: Option<Uuid>,
        audit: Option<&AuditEvent>,
    ) -> Result<i64, StoreError> {
        self.audited(audit, |mut tx| async move {
            let seq =
                Self::insert_member(&mut tx, conversation, user, role, actor, Timestamp::now())
                    .await?;
            Self::count_cross_org_in(&mut tx, conversation).await?;
            Ok((tx, seq))
        })
        .await
    }

    /// Removes a member (an event); returns the event's number.
    pub async fn remove_member(
        &self,
        conversation: Uuid,
        user: Uuid,
        actor: Option<Uuid>,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query(
                "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(conversation.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
            one_row(done, StoreError::NotFound)?;
            let data = json!({"user_id": user});
            let seq = Self::append_event(
                &mut tx,
                conversation,
                EventKind::MemberRemoved,
                actor,
                &data,
                Timestamp::now(),
            )
            .await?;
            Ok((tx, seq))
        })
        .await
    }

    /// Changes a member's role (an event) with its audit entry, in one commit; returns the
    /// event's number.
    pub async fn set_member_role(
        &self,
        conversation: Uuid,
        user: Uuid,
        role: MemberRole,
        actor: Option<Uuid>,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query(
                "UPDATE conversation_members SET role = $1 WHERE conversation_id = $2 AND user_id = $3",
            )
            .bind(role.as_str())
            .bind(conversation.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
            one_row(done, StoreError::NotFound)?;
            let data = json!({"user_id": user, "role": role});
            let seq = Self::append_event(
                &mut tx,
                conversation,
                EventKind::ConversationUpdated,
                actor,
                &data,
                Timestamp::now(),
            )
            .await?;
            Ok((tx, seq))
        })
        .await
    }

    /// Renames a group (an event); returns the event's number.
    pub async fn set_title(
        &self,
        conversation: Uuid,
        title: &str,
        actor: Option<Uuid>,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query("UPDATE conversations SET title = $1 WHERE id = $2")
                .bind(title)
                .bind(conversation.to_string())
                .execute(&mut *tx)
                .await?;
            let data = json!({"title": title});
            let seq = Self::append_event(
                &mut tx,
                conversation,
                EventKind::ConversationUpdated,
                actor,
                &data,
                Timestamp::now(),
            )
            .await?;
            Ok((tx, seq))
        })
        .await
    }

    /// Shortens how long the conversation shows its media and studies (already posted ones
    /// included; the objects themselves keep their own expiry); returns the event's number.
    pub async fn set_retention(
        &self,
        conversation: Uuid,
        days: i64,
        actor: Option<Uuid>,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query("UPDATE conversations SET retention_days = $1 WHERE id = $2")
                .bind(days)
                .bind(conversation.to_string())
                .execute(&mut *tx)
                .await?;
            for kind in [Attached::Media, Attached::Study] {
                expire_links_in(&mut tx, kind, conversation).await?;
            }
            let data = json!({"retention_days": days});
            let seq = Self::append_event(
                &mut tx,
                conversation,
                EventKind::ConversationUpdated,
                actor,
                &data,
                Timestamp::now(),
            )
            .await?;
            Ok((tx, seq))
        })
        .await
    }

    /// Moves `user`'s read mark forward to `seq` (never back, never past the timeline's end);
    /// returns the mark now stored.
    pub async fn mark_read(
        &self,
        conversation: Uuid,
        user: Uuid,
        seq: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE conversation_members SET last_read_seq =
                 CASE WHEN last_read_seq >= $1 THEN last_read_seq
                      ELSE (SELECT CASE WHEN c.last_seq < $1 THEN c.last_seq ELSE $1 END
                            FROM conversations c WHERE c.id = $2) END
             WHERE conversation_id = $2 AND user_id = $3
             RETURNING last_read_seq",
        )
        .bind(seq)
        .bind(conversation.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("last_read_seq")?)
    }
}
