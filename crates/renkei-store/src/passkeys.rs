//! Passkeys (WebAuthn): each user's credentials (public keys and counters, no secret), the
//! single-use ceremony challenges, and using a credential to sign in or pass a second factor.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audited::one_row;
use crate::rows::{id_text, opt_uuid, uuid};
use crate::second_factors::mark_session_in;
use crate::sessions::{SessionRecord, insert_session};
use crate::users::{Assign, update_credentials_in};
use crate::{Store, StoreError};

/// A registered passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The credential id, base64url: how an assertion names it.
    pub credential_id: String,
    /// What the user called it ("iPhone", "職場のPC").
    pub name: String,
    /// The credential as webauthn-rs keeps it (JSON: public key, counter, flags).
    pub credential: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// Set when an assertion's counter went backwards (a cloned authenticator): refused since.
    pub cloned_at: Option<Timestamp>,
}

/// A ceremony's server-side state, handed out with its challenge and spent once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyChallenge {
    pub id: Uuid,
    /// `register` or `assert`.
    pub purpose: String,
    /// Who registers (`register` only).
    pub user_id: Option<Uuid>,
    /// webauthn-rs's state (JSON).
    pub state: String,
    pub expires_at: Timestamp,
}

/// What a verified assertion does besides moving the credential's counter.
#[derive(Debug, Clone, Copy)]
pub enum PasskeyUse<'a> {
    /// Opens this session (password-less sign-in; the second factor is done).
    SignIn(&'a SessionRecord),
    /// Passes this session's second factor.
    SecondFactor(Uuid),
}

const PASSKEY_COLUMNS: &str = "SELECT id, user_id, credential_id, name, credential, created_at,
    last_used_at, cloned_at FROM passkeys";

fn passkey_from_row(row: &AnyRow) -> Result<StoredPasskey, StoreError> {
    Ok(StoredPasskey {
        id: uuid(row, "id")?,
        user_id: uuid(row, "user_id")?,
        credential_id: row.try_get("credential_id")?,
        name: row.try_get("name")?,
        credential: row.try_get("credential")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(Timestamp),
        cloned_at: row.try_get::<Option<i64>, _>("cloned_at")?.map(Timestamp),
    })
}

impl Store {
    /// Keeps a ceremony's state until it is spent or expires; drops expired ones on the way.
    pub async fn put_passkey_challenge(&self, c: &PasskeyChallenge) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM passkey_challenges WHERE expires_at < $1")
            .bind(Timestamp::now().millis())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO passkey_challenges (id, purpose, user_id, state, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.id.to_string())
        .bind(&c.purpose)
        .bind(id_text(c.user_id))
        .bind(&c.state)
        .bind(c.expires_at.millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends a challenge of `purpose`: it is gone afterwards, whatever comes of it.
    /// `NotFound` when unknown, spent already, or of another purpose.
    pub async fn take_passkey_challenge(
        &self,
        id: Uuid,
        purpose: &str,
    ) -> Result<PasskeyChallenge, StoreError> {
        let row = sqlx::query(
            "DELETE FROM passkey_challenges WHERE id = $1 AND purpose = $2
             RETURNING id, purpose, user_id, state, expires_at",
        )
        .bind(id.to_string())
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(PasskeyChallenge {
            id: uuid(&row, "id")?,
            purpose: row.try_get("purpose")?,
            user_id: opt_uuid(&row, "user_id")?,
            state: row.try_get("state")?,
            expires_at: Timestamp(row.try_get("expires_at")?),
        })
    }

    /// A user's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PASSKEY_COLUMNS} WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passkey_from_row).collect()
    }

    /// The passkey an assertion names by its credential id.
    pub async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<StoredPasskey, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PASSKEY_COLUMNS} WHERE credential_id = $1"
        )))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        passkey_from_row(&row)
    }

    /// Registers a passkey; the session that registered it has passed its second factor (the
    /// ceremony verified the user on the authenticator), as a confirmed authenticator app does.
    /// `Duplicate("passkey_taken")` when the credential is registered.
    pub async fn add_passkey(
        &self,
        p: &StoredPasskey,
        session: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(p.id.to_string())
            .bind(p.user_id.to_string())
            .bind(&p.credential_id)
            .bind(&p.name)
            .bind(&p.credential)
            .bind(p.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "passkey_taken", "user_not_found"))?;
            mark_session_in(&mut tx, session).await?;
            Ok((tx, ()))
        })
        .await
    }

    /// Removes one of the user's passkeys; `NotFound` when it is not theirs (or gone).
    pub async fn remove_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
                .bind(id.to_string())
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
            one_row(done, StoreError::NotFound)?;
            Ok((tx, ()))
        })
        .await
    }

    /// Records a verified assertion: the credential becomes `credential` (its new counter)
    /// if it is still `was` and not flagged, then `then` happens, all with `audit`. `Stale`
    /// when the credential was used, removed or flagged meanwhile.
    pub async fn use_passkey(
        &self,
        p: &StoredPasskey,
        credential: &str,
        then: PasskeyUse<'_>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query(
                "UPDATE passkeys SET credential = $1, last_used_at = $2
                 WHERE id = $3 AND credential = $4 AND cloned_at IS NULL",
            )
            .bind(credential)
            .bind(Timestamp::now().millis())
            .bind(p.id.to_string())
            .bind(&p.credential)
            .execute(&mut *tx)
            .await?;
            one_row(done, StoreError::Stale)?;
            match then {
                PasskeyUse::SignIn(session) => {
                    insert_session(session).execute(&mut *tx).await?;
                }
                PasskeyUse::SecondFactor(session) => {
                    update_credentials_in(&mut tx, p.user_id, Assign::Fixed("failed_attempts = 0"))
                        .await?;
                    mark_session_in(&mut tx, session).await?;
                }
            }
            Ok((tx, ()))
        })
        .await
    }

    /// Flags a passkey whose counter went backwards: refused from now on, kept for review.
    pub async fn flag_cloned_passkey(
        &self,
        id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query("UPDATE passkeys SET cloned_at = $1 WHERE id = $2 AND cloned_at IS NULL")
                .bind(Timestamp::now().millis())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            Ok((tx, ()))
        })
        .await
    }
}
