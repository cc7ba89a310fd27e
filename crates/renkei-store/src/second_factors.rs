//! Second factors: each user's sealed TOTP secret, the last step used, single-use recovery
//! codes (hashes only), and marking a session as having passed its second factor.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use sqlx::Row;

use crate::blobs::WrappedKey;
use crate::users::{Assign, UNLOCK, end_sessions_in, update_credentials_in};
use crate::{Store, StoreError, Tx};

/// A user's TOTP enrollment: the secret sealed with the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub key: WrappedKey,
    /// Set once a first code matched: the user is enrolled.
    pub confirmed_at: Option<Timestamp>,
    /// The newest step accepted; codes of this step or earlier are refused.
    pub last_step: Option<i64>,
}

/// How a second factor was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// A TOTP code that matched this step.
    Step(i64),
    /// A recovery code, by its hash.
    RecoveryCode(&'a str),
}

pub(crate) async fn mark_session_in(tx: &mut Tx, session_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET second_factor_done = 1 WHERE id = $1")
        .bind(session_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// The user's enrollment, confirmed or started.
    pub async fn second_factor(&self, user_id: Uuid) -> Result<Option<SecondFactor>, StoreError> {
        let row = sqlx::query(
            "SELECT key_version, sealed, confirmed_at, last_step FROM second_factors
             WHERE user_id = $1",
        )
        .bind(user_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SecondFactor {
                key: WrappedKey {
                    version: u32::try_from(r.try_get::<i64, _>("key_version")?)
                        .map_err(|_| StoreError::Corrupt("second factor key version".into()))?,
                    sealed: r.try_get("sealed")?,
                },
                confirmed_at: r.try_get::<Option<i64>, _>("confirmed_at")?.map(Timestamp),
                last_step: r.try_get("last_step")?,
            })
        })
        .transpose()
    }

    /// Starts (or restarts) an enrollment with a new sealed secret; `Duplicate("already_enrolled")`
    /// when the user is enrolled already.
    pub async fn start_second_factor(
        &self,
        user_id: Uuid,
        key: &WrappedKey,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO second_factors (user_id, key_version, sealed, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET key_version = excluded.key_version,
                 sealed = excluded.sealed, created_at = excluded.created_at, last_step = NULL
             WHERE second_factors.confirmed_at IS NULL",
        )
        .bind(user_id.to_string())
        .bind(i64::from(key.version))
        .bind(&key.sealed)
        .bind(Timestamp::now().millis())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate("already_enrolled"));
        }
        Ok(())
    }

    /// Completes an enrollment whose first code matched `step`: the user is enrolled, the
    /// recovery codes (hashes) replace any older ones, the failed-attempt count restarts and
    /// `session_id` has passed its second factor; `Stale` if the enrollment changed meanwhile
    /// (restarted, confirmed or reset).
    pub async fn confirm_second_factor(
        &self,
        user_id: Uuid,
        sealed: &str,
        step: i64,
        recovery_code_hashes: &[String],
        session_id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE second_factors SET confirmed_at = $1, last_step = $2
             WHERE user_id = $3 AND sealed = $4 AND confirmed_at IS NULL",
        )
        .bind(Timestamp::now().millis())
        .bind(step)
        .bind(user_id.to_string())
        .bind(sealed)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        for hash in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id.to_string())
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        update_credentials_in(&mut tx, user_id, Assign::Fixed("failed_attempts = 0")).await?;
        mark_session_in(&mut tx, session_id).await?;
        self.commit_audited(tx, audit).await
    }

    /// Spends a proof for `session_id`: a TOTP step later than the last one used, or an
    /// unused recovery code. `Stale` for a replayed step, `NotFound` for an unknown or spent
    /// recovery code; on success the failed-attempt count restarts. Returns the recovery
    /// codes left.
    pub async fn pass_second_factor(
        &self,
        user_id: Uuid,
        proof: Proof<'_>,
        session_id: Uuid,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write_tx().await?;
        match proof {
            Proof::Step(step) => {
                let done = sqlx::query(
                    "UPDATE second_factors SET last_step = $1
                     WHERE user_id = $2 AND confirmed_at IS NOT NULL
                       AND (last_step IS NULL OR last_step < $1)",
                )
                .bind(step)
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Stale);
                }
            }
            Proof::RecoveryCode(hash) => {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1
                     WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(Timestamp::now().millis())
                .bind(user_id.to_string())
                .bind(hash)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
            }
        }
        update_credentials_in(&mut tx, user_id, Assign::Fixed("failed_attempts = 0")).await?;
        mark_session_in(&mut tx, session_id).await?;
        let left: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        self.commit_audited(tx, audit).await?;
        Ok(left)
    }

    /// Unused recovery codes of a user.
    pub async fn recovery_codes_left(&self, user_id: Uuid) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id.to_string())
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// An administrator's reset: forgets the enrollment, recovery codes and passkeys, clears the
    /// lockout and ends every session of the user, in one transaction with its audit entry.
    pub async fn reset_second_factor(
        &self,
        user_id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .begin_credentials_change(user_id, Assign::Fixed(UNLOCK))
            .await?;
        for sql in [
            "DELETE FROM second_factors WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM passkeys WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        end_sessions_in(&mut tx, user_id, None).await?;
        self.commit_audited(tx, audit).await
    }
}
