//! Sign-in sessions: looked up by the hash of their bearer token, never the token itself.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::uuid;
use crate::sql_builder::SqlBuilder;
use crate::{Store, StoreError};

/// Sessions per statement of [`Store::mark_sessions_seen`]: two placeholders each.
const SEEN_CHUNK: usize = 500;

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    /// SHA-256 of the bearer token, hex.
    pub token_hash: String,
    /// The token cookie-authenticated writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// Locked sessions get no data until the passcode is entered.
    pub locked: bool,
    /// The user entered a TOTP or recovery code (or enrolled) in this session.
    pub second_factor_done: bool,
}

fn session_from_row(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: uuid(row, "id")?,
        user_id: uuid(row, "user_id")?,
        token_hash: row.try_get("token_hash")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen_at: Timestamp(row.try_get("last_seen_at")?),
        expires_at: Timestamp(row.try_get("expires_at")?),
        locked: row.try_get::<i64, _>("locked")? != 0,
        second_factor_done: row.try_get::<i64, _>("second_factor_done")? != 0,
    })
}

impl Store {
    /// Stores a new session.
    pub async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        insert_session(s).execute(&self.pool).await?;
        Ok(())
    }

    /// Opens a session and writes its sign-in entry, in one transaction.
    pub async fn open_session(
        &self,
        s: &SessionRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            insert_session(s).execute(&mut *tx).await?;
            Ok((tx, ()))
        })
        .await
    }

    /// Ends a session, forgets the push subscription it registered, and writes its sign-out
    /// entry, in one transaction.
    pub async fn close_session(&self, id: Uuid, audit: &AuditEvent) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            crate::push_subscriptions::forget_subscriptions_of_session_in(&mut tx, id).await?;
            Ok((tx, ()))
        })
        .await
    }

    /// Unlocks a passcode-locked session (seen `now`), forgets the user's wrong passcodes and
    /// codes, and writes the unlock entry, in one transaction.
    pub async fn unlock_session(
        &self,
        session: &SessionRecord,
        now: Timestamp,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "UPDATE credentials SET failed_attempts = 0 \
                 WHERE user_id = $1 AND failed_attempts <> 0",
            )
            .bind(session.user_id.to_string())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1, locked = 0 WHERE id = $2")
                .bind(now.millis())
                .bind(session.id.to_string())
                .execute(&mut *tx)
                .await?;
            Ok((tx, ()))
        })
        .await
    }

    /// The session whose token hashes to `token_hash`.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<SessionRecord, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at, locked,
                 second_factor_done
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(session_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Locks a session that was idle too long: no data until its passcode is entered.
    pub async fn lock_session(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET locked = 1 WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records when sessions were last active, many in one transaction: `last_seen_at` only
    /// moves forward, and a locked session's is left alone (its next activity is the unlock).
    /// Returns how many sessions moved.
    pub async fn mark_sessions_seen(&self, seen: &[(Uuid, Timestamp)]) -> Result<u64, StoreError> {
        if seen.is_empty() {
            return Ok(0);
        }
        let mut moved = 0;
        let mut tx = self.write_tx().await?;
        for chunk in seen.chunks(SEEN_CHUNK) {
            let mut sql = SqlBuilder::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|(id, at)| {
                    let id = sql.bind(id.to_string());
                    let at = sql.bind(at.millis());
                    format!("({id}, {at})")
                })
                .collect();
            sql.push(&format!(
                "UPDATE sessions SET last_seen_at = v.column2 FROM (VALUES {}) AS v
                 WHERE sessions.id = v.column1 AND sessions.locked = 0
                   AND sessions.last_seen_at < v.column2",
                rows.join(", ")
            ));
            moved += sql.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Ends one session.
    pub async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes sessions past their expiry; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now.millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// The statement that stores a new session.
pub(crate) fn insert_session(
    s: &SessionRecord,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, csrf_token, created_at, last_seen_at,
             expires_at, locked, second_factor_done)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.id.to_string())
    .bind(s.user_id.to_string())
    .bind(&s.token_hash)
    .bind(&s.csrf_token)
    .bind(s.created_at.millis())
    .bind(s.last_seen_at.millis())
    .bind(s.expires_at.millis())
    .bind(i64::from(s.locked))
    .bind(i64::from(s.second_factor_done))
}
