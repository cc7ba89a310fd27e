//! Members' delivery marks (`pushed_seq`, `delivered_seq`) raised many at a time.
//!
//! Why one statement per chunk and not one per mark: both marks are written by coalescing
//! tasks that flush every fraction of a second, for up to every (conversation, member) pair
//! that got something since. On SQLite every write holds the one write lock that the message
//! writer also needs, so 2,000 single-row UPDATEs per flush kept chat commits waiting; one
//! `UPDATE … FROM (VALUES …)` per 500 pairs holds it for one statement. `VALUES` columns are
//! called `column1…` by both databases, so the text is the same on each. A mark never goes
//! down and never passes the conversation's newest event.

use renkei_core::Uuid;
use sqlx::Row;

use crate::sql_builder::SqlBuilder;
use crate::{Store, StoreError};

/// Pairs per statement: three placeholders each, far below either database's limit.
const CHUNK: usize = 500;

/// Which mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberMark {
    /// The push service accepted a push up to here.
    Pushed,
    /// A device showed or received up to here.
    Delivered,
}

impl MemberMark {
    fn column(self) -> &'static str {
        match self {
            MemberMark::Pushed => "pushed_seq",
            MemberMark::Delivered => "delivered_seq",
        }
    }
}

impl Store {
    /// Raises `mark` for each `(conversation, user, seq)` (never lowers it, never past the
    /// conversation's newest event; non-members are skipped), in one transaction; returns the
    /// pairs that moved, with the mark now stored. A `pushed` mark at or below the member's
    /// `delivered` mark is not written at all: a sender shows each recipient's furthest state,
    /// which it would not change, and a member with an open socket (delivered first) costs
    /// no row write per push.
    pub async fn raise_member_marks(
        &self,
        mark: MemberMark,
        marks: &[(Uuid, Uuid, i64)],
    ) -> Result<Vec<(Uuid, Uuid, i64)>, StoreError> {
        if marks.is_empty() {
            return Ok(Vec::new());
        }
        let column = mark.column();
        let mut moved = Vec::new();
        let mut tx = self.write_tx().await?;
        for chunk in marks.chunks(CHUNK) {
            let mut sql = SqlBuilder::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|(conversation, user, seq)| {
                    let c = sql.bind(conversation.to_string());
                    let u = sql.bind(user.to_string());
                    let s = sql.bind(*seq);
                    format!("({c}, {u}, {s})")
                })
                .collect();
            let capped = "CASE WHEN c.last_seq < v.column3 THEN c.last_seq ELSE v.column3 END";
            let behind_delivered = match mark {
                MemberMark::Pushed => format!("AND m.delivered_seq < {capped}"),
                MemberMark::Delivered => String::new(),
            };
            sql.push(&format!(
                "UPDATE conversation_members AS m SET {column} = {capped}
                 FROM (VALUES {}) AS v, conversations AS c
                 WHERE m.conversation_id = v.column1 AND m.user_id = v.column2
                   AND c.id = v.column1 AND m.{column} < {capped} {behind_delivered}
                 RETURNING conversation_id, user_id, {column}",
                rows.join(", ")
            ));
            for row in sql.build().fetch_all(&mut *tx).await? {
                moved.push((
                    crate::rows::uuid(&row, "conversation_id")?,
                    crate::rows::uuid(&row, "user_id")?,
                    row.try_get(column)?,
                ));
            }
        }
        tx.commit().await?;
        Ok(moved)
    }
}
