//! Sign-in back-off per typed login, and the holds on sign-in an administrator sees and
//! releases (back-off, and the hard lock that wrong passcodes or codes set).

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::sign_in::{Backoff, Failure};
use sqlx::Row;

use crate::rows::uuid;
use crate::users::{Assign, UNLOCK};
use crate::{Store, StoreError};

/// Wrong passwords counted for one typed login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFailures {
    pub failures: i64,
    pub last_failed_at: Timestamp,
    /// No password is checked for this login before then.
    pub wait_until: Option<Timestamp>,
}

/// A user of an organization whose sign-in is slowed down or locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInHold {
    pub user_id: Uuid,
    pub login: String,
    pub display_name: String,
    /// Wrong passwords counted (0 when only locked).
    pub failures: i64,
    /// Back-off: no password is checked before then.
    pub wait_until: Option<Timestamp>,
    /// Hard lock after wrong passcodes or second-factor codes.
    pub locked_until: Option<Timestamp>,
}

fn millis(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(Timestamp))
}

impl Store {
    /// The failure count of a typed login (normalised by the caller), if one is kept.
    pub async fn sign_in_failures(
        &self,
        login: &str,
    ) -> Result<Option<SignInFailures>, StoreError> {
        let row = sqlx::query(
            "SELECT failures, last_failed_at, wait_until FROM sign_in_failures WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SignInFailures {
                failures: row.try_get("failures")?,
                last_failed_at: Timestamp(row.try_get("last_failed_at")?),
                wait_until: millis(&row, "wait_until")?,
            })
        })
        .transpose()
    }

    /// Counts one wrong password for a typed login, atomically, and sets the wait `rule`
    /// gives; a count quiet since [`Backoff::forget_before`] starts again, and such old rows
    /// of other logins are dropped. The audit entry is written in the same transaction.
    pub async fn record_sign_in_failure(
        &self,
        login: &str,
        rule: &Backoff,
        now: Timestamp,
        audit: &AuditEvent,
    ) -> Result<Failure, StoreError> {
        let forget = rule.forget_before(now).millis();
        let mut tx = self.write_tx().await?;
        let before: i64 = sqlx::query(
            "INSERT INTO sign_in_failures (login, failures, last_failed_at) VALUES ($1, 1, $2)
             ON CONFLICT (login) DO UPDATE SET
                 failures = CASE WHEN sign_in_failures.last_failed_at < $3 THEN 1
                                 ELSE sign_in_failures.failures + 1 END,
                 last_failed_at = $2
             RETURNING failures",
        )
        .bind(login)
        .bind(now.millis())
        .bind(forget)
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("failures")?
            - 1;
        let failure = rule.after_failure(before, now);
        sqlx::query("UPDATE sign_in_failures SET wait_until = $1 WHERE login = $2")
            .bind(failure.wait_until.map(Timestamp::millis))
            .bind(login)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE last_failed_at < $1")
            .bind(forget)
            .execute(&mut *tx)
            .await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(failure)
    }

    /// Forgets a typed login's failures after the right password.
    pub async fn clear_sign_in_failures(&self, login: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE login = $1")
            .bind(login)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Users of `org_id` with wrong passwords counted since `since`, a back-off or a lock
    /// still running at `now`, by login.
    pub async fn sign_in_holds(
        &self,
        org_id: Uuid,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<SignInHold>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.login, u.display_name, COALESCE(f.failures, 0) AS failures,
                 f.wait_until, c.locked_until
             FROM users u JOIN credentials c ON c.user_id = u.id
             LEFT JOIN sign_in_failures f ON f.login = u.login
             WHERE u.org_id = $1
               AND (c.locked_until > $2 OR f.wait_until > $2 OR f.last_failed_at >= $3)
             ORDER BY u.login",
        )
        .bind(org_id.to_string())
        .bind(now.millis())
        .bind(since.millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SignInHold {
                    user_id: uuid(row, "id")?,
                    login: row.try_get("login")?,
                    display_name: row.try_get("display_name")?,
                    failures: row.try_get("failures")?,
                    wait_until: millis(row, "wait_until")?.filter(|t| *t > now),
                    locked_until: millis(row, "locked_until")?.filter(|t| *t > now),
                })
            })
            .collect()
    }

    /// An administrator's release: forgets the user's wrong passwords, passcodes and codes
    /// and lifts the back-off and the lock, with its audit entry. Sessions are untouched.
    pub async fn release_sign_in(
        &self,
        user_id: Uuid,
        login: &str,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .begin_credentials_change(user_id, Assign::Fixed(UNLOCK))
            .await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE login = $1")
            .bind(login)
            .execute(&mut *tx)
            .await?;
        self.commit_audited(tx, audit).await
    }
}
