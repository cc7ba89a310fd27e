//! Message search over keyed grams: each query form becomes the keyed grams a body holding
//! it must have (per organization whose conversations are searched), the index finds the
//! candidates, and their opened bodies are checked for the folded form itself.
//!
//! The index (`message_tokens`, FTS5 over `messages.search_tokens` on SQLite; a GIN index of
//! `to_tsvector('simple', search_tokens)` on PostgreSQL) holds HMAC tokens only, never text.

use crate::message_keys::{KeyMemo, key_days, token};
use crate::messages::{MESSAGE_COLUMNS, message_from_row};
use crate::rows::uuid;
use crate::{Backend, Store, StoreError};
use renkei_core::Uuid;
use renkei_core::conversation::Message;
use renkei_core::message_tokens::{fold, query_grams};

/// How the index is asked for bodies holding every keyed gram of one form, any form.
fn index_query(backend: Backend, forms: &[Vec<String>]) -> String {
    let (and, or) = match backend {
        Backend::Sqlite => (" AND ", " OR "),
        Backend::Postgres => (" & ", " | "),
    };
    forms
        .iter()
        .map(|tokens| format!("({})", tokens.join(and)))
        .collect::<Vec<_>>()
        .join(or)
}

impl Store {
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
        let mut folded: Vec<String> = variants.iter().map(|v| fold(v)).collect();
        folded.sort_unstable();
        folded.dedup();
        let grams: Vec<Vec<String>> = folded
            .iter()
            .map(|f| query_grams(f))
            .filter(|g| !g.is_empty())
            .collect();
        if grams.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        let mut forms: Vec<Vec<String>> = Vec::new();
        for org in self.searched_orgs(user, conversation).await? {
            if let Some(key) = self.search_key(org).await? {
                forms.extend(
                    grams
                        .iter()
                        .map(|g| g.iter().map(|gram| token(&key, gram)).collect()),
                );
            }
        }
        if forms.is_empty() {
            return Ok(Vec::new());
        }
        let scope = "cm.conversation_id = m.conversation_id AND cm.user_id = $1
                 AND ($2 IS NULL OR m.conversation_id = $2)";
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "SELECT {MESSAGE_COLUMNS} FROM message_tokens f JOIN messages m ON m.rowid = f.rowid
                 JOIN conversation_members cm ON {scope}
                 WHERE message_tokens MATCH $3 AND m.deleted_at IS NULL
                 ORDER BY m.created_at DESC, m.seq DESC LIMIT $4 OFFSET $5"
            ),
            Backend::Postgres => format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m
                 JOIN conversation_members cm ON {scope}
                 WHERE to_tsvector('simple', m.search_tokens) @@ to_tsquery('simple', $3)
                   AND m.deleted_at IS NULL
                 ORDER BY m.created_at DESC, m.seq DESC LIMIT $4 OFFSET $5"
            ),
        };
        let matched = index_query(self.backend, &forms);
        // Grams may occur apart: candidates are checked, so read more than asked for, and more
        // each round (×4, up to 10,000): a query whose grams are common but whose text is rare
        // reads every candidate in a few rounds, not in thousands of pages each sorted again.
        let mut page = (limit * 2).max(50);
        let mut found = Vec::new();
        let mut memo = KeyMemo::new();
        let mut offset = 0;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(user.to_string())
                .bind(conversation.map(|c| c.to_string()))
                .bind(&matched)
                .bind(page)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
            let done = (rows.len() as i64) < page;
            let candidates = rows
                .iter()
                .map(message_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let days = key_days(
                candidates
                    .iter()
                    .map(|m| (m.conversation_id, m.body.as_str())),
            );
            self.prefetch_keys(&mut memo, days).await?;
            for mut message in candidates {
                self.open_message_in(&mut memo, &mut message).await?;
                let body = fold(&message.body);
                if folded.iter().any(|f| body.contains(f.as_str())) {
                    found.push(message);
                    if found.len() as i64 == limit {
                        return Ok(found);
                    }
                }
            }
            if done {
                return Ok(found);
            }
            offset += page;
            page = (page * 4).min(10_000);
        }
    }

    /// The organizations of the conversations `user` searches (one, when `conversation`).
    async fn searched_orgs(
        &self,
        user: Uuid,
        conversation: Option<Uuid>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT c.org_id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = $1 AND ($2 IS NULL OR c.id = $2)",
        )
        .bind(user.to_string())
        .bind(conversation.map(|c| c.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| uuid(r, "org_id")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_and_within_and_or_between() {
        let forms = vec![vec!["ta".into(), "tb".into()], vec!["tc".into()]];
        assert_eq!(index_query(Backend::Sqlite, &forms), "(ta AND tb) OR (tc)");
        assert_eq!(index_query(Backend::Postgres, &forms), "(ta & tb) | (tc)");
    }
}
