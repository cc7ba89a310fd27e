//! Users, their secrets (password and passcode hashes), and failed-attempt lockout.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::user::{Profession, Role, User, UserStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{id_text, named, opt_uuid, uuid};
use crate::{Store, StoreError, Tx};

pub(crate) const USER_COLUMNS: &str =
    "SELECT id, org_id, login, display_name, kana, romaji, profession,
    department_id, email, phone, roles, status, staff_number, affiliations, second_factor_required,
    must_change_password, version, created_at, updated_at,
    (SELECT COUNT(*) FROM second_factors f WHERE f.user_id = users.id
        AND f.confirmed_at IS NOT NULL) AS second_factor_enrolled
    FROM users";

/// The credentials columns, with whether a second factor is enrolled and the usable passkeys.
const CREDENTIAL_COLUMNS: &str = "SELECT password_hash, passcode_hash, failed_attempts,
    locked_until, (SELECT COUNT(*) FROM second_factors f
        WHERE f.user_id = credentials.user_id AND f.confirmed_at IS NOT NULL) AS second_factor_enrolled,
    (SELECT COUNT(*) FROM passkeys p
        WHERE p.user_id = credentials.user_id AND p.cloned_at IS NULL) AS passkeys
    FROM credentials WHERE user_id = $1";

/// A user's secrets and failed-attempt state; never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Argon2id PHC string of the device passcode, once set.
    pub passcode_hash: Option<String>,
    /// Wrong passwords or passcodes since the last success or lockout.
    pub failed_attempts: i64,
    /// Sign-in is refused until this time.
    pub locked_until: Option<Timestamp>,
    /// A TOTP secret is confirmed (the secret itself is read with `Store::second_factor`).
    pub second_factor_enrolled: bool,
    /// Passkeys registered and not flagged as cloned (each passes the second factor too).
    pub passkeys: i64,
}

impl Credentials {
    /// Some second factor is ready to be asked for: a TOTP secret or a usable passkey.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor_enrolled || self.passkeys > 0
    }
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        kana: row.try_get("kana")?,
        romaji: row.try_get("romaji")?,
        profession: named(row, "profession", Profession::parse)?,
        department_id: opt_uuid(row, "department_id")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        roles: roles.split(',').filter_map(Role::parse).collect(),
        status: named(row, "status", UserStatus::parse)?,
        staff_number: row.try_get("staff_number")?,
        affiliations: serde_json::from_str(&row.try_get::<String, _>("affiliations")?)
            .map_err(|e| StoreError::Corrupt(format!("affiliations: {e}")))?,
        second_factor_required: row.try_get::<i64, _>("second_factor_required")? != 0,
        second_factor_enrolled: flag(row, "second_factor_enrolled")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        version: row.try_get("version")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn credentials_from_row(row: &AnyRow) -> Result<Credentials, StoreError> {
    Ok(Credentials {
        password_hash: row.try_get("password_hash")?,
        passcode_hash: row.try_get("passcode_hash")?,
        failed_attempts: row.try_get("failed_attempts")?,
        locked_until: row
            .try_get::<Option<i64>, _>("locked_until")?
            .map(Timestamp),
        second_factor_enrolled: flag(row, "second_factor_enrolled")?,
        passkeys: row.try_get("passkeys")?,
    })
}

/// Whether a count column is above zero.
fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(row.try_get::<i64, _>(column)? > 0)
}

fn affiliations_text(user: &User) -> String {
    serde_json::to_string(&user.affiliations).unwrap_or_else(|_| "[]".into())
}

/// A unique violation on users names which value was taken.
pub(crate) fn user_write_error(err: sqlx::Error) -> StoreError {
    let staff = matches!(&err, sqlx::Error::Database(db)
        if db.is_unique_violation()
            && (db.message().contains("staff_number") || db.constraint() == Some("users_staff_number")));
    if staff {
        return StoreError::Duplicate("staff_number_taken");
    }
    StoreError::classify(err, "login_taken", "department_not_found")
}

fn roles_text(user: &User) -> String {
    user.roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Stores a new user with its password hash and audit entry.
    pub async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        Self::insert_user_in(&mut tx, user, password_hash).await?;
        Self::record_seats_in(&mut tx, user.org_id).await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts a user and their credentials as part of `tx`.
    pub(crate) async fn insert_user_in(
        tx: &mut Tx,
        user: &User,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, org_id, login, display_name, kana, romaji, profession,
                 department_id, email, phone, roles, status, must_change_password, version,
                 created_at, updated_at, staff_number, affiliations, second_factor_required)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(user.id.to_string())
        .bind(user.org_id.to_string())
        .bind(&user.login)
        .bind(&user.display_name)
        .bind(&user.kana)
        .bind(&user.romaji)
        .bind(user.profession.as_str())
        .bind(id_text(user.department_id))
        .bind(&user.email)
        .bind(&user.phone)
        .bind(roles_text(user))
        .bind(user.status.as_str())
        .bind(i64::from(user.must_change_password))
        .bind(user.version)
        .bind(user.created_at.millis())
        .bind(user.updated_at.millis())
        .bind(&user.staff_number)
        .bind(affiliations_text(user))
        .bind(i64::from(user.second_factor_required))
        .execute(&mut **tx)
        .await
        .map_err(user_write_error)?;
        sqlx::query(
            "INSERT INTO credentials (user_id, password_hash, failed_attempts) VALUES ($1, $2, 0)",
        )
        .bind(user.id.to_string())
        .bind(password_hash)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// One user by id.
    pub async fn user(&self, id: Uuid) -> Result<User, StoreError> {
        let sql = format!("{USER_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(user_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// One user by login (logins are stored lower-case).
    pub async fn user_by_login(&self, login: &str) -> Result<User, StoreError> {
        let sql = format!("{USER_COLUMNS} WHERE login = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(login.trim().to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(user_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// A page of an organization's users by name: `limit` rows after skipping `offset`.
    pub async fn list_users(
        &self,
        org_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        self.users_page(org_id, "", offset, limit).await
    }

    /// An organization's active users by name, a page at a time (the directory members see).
    pub async fn list_active_users(
        &self,
        org_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        self.users_page(org_id, "AND status = 'active'", offset, limit)
            .await
    }

    /// A page of `org_id`'s users by name, narrowed by `and` (a fixed SQL condition).
    async fn users_page(
        &self,
        org_id: Uuid,
        and: &'static str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "{USER_COLUMNS} WHERE org_id = $1 {and} ORDER BY display_name, id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Saves an admin's edit if the user is still at `expected_version`; a user who may no
    /// longer sign in loses every session in the same transaction. Returns the saved user.
    pub async fn update_user(
        &self,
        next: &User,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<User, StoreError> {
        let mut tx = self.write_tx().await?;
        Self::update_user_in(&mut tx, next, expected_version).await?;
        Self::record_seats_in(&mut tx, next.org_id).await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        self.user(next.id).await
    }

    /// Saves `next` if the user is still at `expected_version` as part of `tx` (else
    /// `Stale`); a user who may no longer sign in loses every session.
    pub(crate) async fn update_user_in(
        tx: &mut Tx,
        next: &User,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET login = $1, display_name = $2, kana = $3, romaji = $4,
                 profession = $5, department_id = $6, email = $7, phone = $8, roles = $9,
                 status = $10, version = version + 1, updated_at = $11, staff_number = $14,
                 affiliations = $15, second_factor_required = $16
             WHERE id = $12 AND version = $13",
        )
        .bind(&next.login)
        .bind(&next.display_name)
        .bind(&next.kana)
        .bind(&next.romaji)
        .bind(next.profession.as_str())
        .bind(id_text(next.department_id))
        .bind(&next.email)
        .bind(&next.phone)
        .bind(roles_text(next))
        .bind(next.status.as_str())
        .bind(Timestamp::now().millis())
        .bind(next.id.to_string())
        .bind(expected_version)
        .bind(&next.staff_number)
        .bind(affiliations_text(next))
        .bind(i64::from(next.second_factor_required))
        .execute(&mut **tx)
        .await
        .map_err(user_write_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
        if !next.status.may_sign_in() {
            end_sessions_in(tx, next.id, None).await?;
        }
        Ok(())
    }

    /// A user's secrets and lockout state.
    pub async fn credentials(&self, user_id: Uuid) -> Result<Credentials, StoreError> {
        let row = sqlx::query(CREDENTIAL_COLUMNS)
            .bind(user_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        credentials_from_row(&row)
    }

    /// Replaces the password hash; `must_change` marks it one-time (set by an admin). Every
    /// session of the user but `keep_session` (the one that made the change) ends with it.
    pub async fn set_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<Uuid>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .begin_credentials_change(
                user_id,
                Assign::Secret("password_hash", Some(password_hash)),
            )
            .await?;
        end_sessions_in(&mut tx, user_id, keep_session).await?;
        sqlx::query("UPDATE users SET must_change_password = $1 WHERE id = $2")
            .bind(i64::from(must_change))
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        self.commit_audited(tx, audit).await
    }

    /// Sets (or with `None` clears) the device passcode hash.
    pub async fn set_passcode(
        &self,
        user_id: Uuid,
        passcode_hash: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let tx = self
            .begin_credentials_change(user_id, Assign::Secret("passcode_hash", passcode_hash))
            .await?;
        self.commit_audited(tx, audit).await
    }

    /// Counts one wrong password, passcode or second-factor code, atomically; the `max_failures`-th locks the
    /// account until `lock_until`, ends its sessions and restarts the count. Returns the
    /// new state. The audit entry is written in the same transaction.
    pub async fn record_failed_attempt(
        &self,
        user_id: Uuid,
        max_failures: i64,
        lock_until: Timestamp,
        audit: &AuditEvent,
    ) -> Result<Credentials, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE credentials SET
                 locked_until = CASE WHEN failed_attempts + 1 >= $1 THEN $2 ELSE locked_until END,
                 failed_attempts = CASE WHEN failed_attempts + 1 >= $1 THEN 0 ELSE failed_attempts + 1 END
             WHERE user_id = $3",
        )
        .bind(max_failures)
        .bind(lock_until.millis())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(CREDENTIAL_COLUMNS)
            .bind(user_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let creds = credentials_from_row(&row)?;
        if creds.locked_until == Some(lock_until) {
            end_sessions_in(&mut tx, user_id, None).await?;
        }
        self.commit_audited(tx, audit).await?;
        Ok(creds)
    }

    /// Forgets failed attempts after a success.
    pub async fn clear_failed_attempts(&self, user_id: Uuid) -> Result<(), StoreError> {
        sqlx::query("UPDATE credentials SET failed_attempts = 0 WHERE user_id = $1 AND failed_attempts <> 0")
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Forgets wrong passcodes and codes and lifts the lock they caused.
pub(crate) const UNLOCK: &str = "failed_attempts = 0, locked_until = NULL";

/// What a credentials change writes on the user's `credentials` row.
pub(crate) enum Assign<'a> {
    /// Fixed assignments, e.g. `failed_attempts = 0, locked_until = NULL`.
    Fixed(&'static str),
    /// A secret's column and its new hash (`None` clears it).
    Secret(&'static str, Option<&'a str>),
}

/// Applies `assign` to the user's credentials row as part of `tx`; `NotFound` without one.
pub(crate) async fn update_credentials_in(
    tx: &mut Tx,
    user_id: Uuid,
    assign: Assign<'_>,
) -> Result<(), StoreError> {
    let done = match assign {
        Assign::Fixed(set) => {
            let sql = format!("UPDATE credentials SET {set} WHERE user_id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user_id.to_string())
                .execute(&mut **tx)
                .await?
        }
        Assign::Secret(column, hash) => {
            let sql = format!("UPDATE credentials SET {column} = $2 WHERE user_id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user_id.to_string())
                .bind(hash)
                .execute(&mut **tx)
                .await?
        }
    };
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Ends every session of the user as part of `tx`, but `keep` (the one making the change),
/// and forgets the push subscriptions those sessions registered.
pub(crate) async fn end_sessions_in(
    tx: &mut Tx,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id.to_string())
        .bind(keep.map(|id| id.to_string()).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
    crate::push_subscriptions::forget_subscriptions_of_user_in(tx, user_id, keep).await
}

impl Store {
    /// Opens the transaction of a credentials change and applies `assign` first; the caller
    /// adds what goes with it and ends with [`Store::commit_audited`].
    pub(crate) async fn begin_credentials_change(
        &self,
        user_id: Uuid,
        assign: Assign<'_>,
    ) -> Result<Tx, StoreError> {
        let mut tx = self.write_tx().await?;
        update_credentials_in(&mut tx, user_id, assign).await?;
        Ok(tx)
    }

    /// Appends the change's audit entry in `tx` and commits both.
    pub(crate) async fn commit_audited(
        &self,
        mut tx: Tx,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
