//! Administration beyond single edits: the invite link for applications, credential resets
//! that end sessions, and bulk imports applied all-or-nothing in one transaction.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::user::{User, UserStatus};
use sqlx::Row;

use crate::users::{
    Assign, UNLOCK, USER_COLUMNS, end_sessions_in, update_credentials_in, user_from_row,
};
use crate::{Store, StoreError};

/// An organization's current invite link token, until when it works, and whether an
/// administrator revoked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

const INVITE_COLUMNS: &str =
    "SELECT org_id, token, created_at, expires_at, revoked_at FROM org_invites";

fn invite_from_row(r: &sqlx::any::AnyRow) -> Result<Invite, StoreError> {
    let created_at: i64 = r.try_get("created_at")?;
    let expires_at: Option<i64> = r.try_get("expires_at")?;
    let revoked_at: Option<i64> = r.try_get("revoked_at")?;
    Ok(Invite {
        token: r.try_get("token")?,
        created_at: Timestamp(created_at),
        expires_at: Timestamp(expires_at.unwrap_or(created_at)),
        revoked_at: revoked_at.map(Timestamp),
    })
}

/// One row of a bulk import: a new user, or an edit of one at a known version.
#[derive(Debug, Clone)]
pub enum ImportChange {
    Create {
        user: User,
        password_hash: String,
        audit: AuditEvent,
    },
    Update {
        next: User,
        version: i64,
        audit: AuditEvent,
    },
}

impl Store {
    /// The organization's invite token, if one was created.
    pub async fn invite(&self, org_id: Uuid) -> Result<Option<Invite>, StoreError> {
        let sql = format!("{INVITE_COLUMNS} WHERE org_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invite_from_row).transpose()
    }

    /// Creates or replaces (rotates) the organization's invite token, made at `now` and
    /// working until `expires_at` (both from the caller's one clock reading, so a link of N
    /// days lasts exactly N days).
    pub async fn set_invite(
        &self,
        org_id: Uuid,
        token: &str,
        now: Timestamp,
        expires_at: Timestamp,
        audit: &AuditEvent,
    ) -> Result<Invite, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO org_invites (org_id, token, created_by, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (org_id) DO UPDATE SET token = excluded.token,
                 created_by = excluded.created_by, created_at = excluded.created_at,
                 expires_at = excluded.expires_at, revoked_at = NULL",
        )
        .bind(org_id.to_string())
        .bind(token)
        .bind(audit.actor_id.map(|a| a.to_string()))
        .bind(now.millis())
        .bind(expires_at.millis())
        .execute(&mut *tx)
        .await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Invite {
            token: token.to_owned(),
            created_at: now,
            expires_at,
            revoked_at: None,
        })
    }

    /// Revokes the organization's invite link (it answers "revoked" from this commit on);
    /// `NotFound` when there is none or it is already revoked.
    pub async fn revoke_invite(
        &self,
        org_id: Uuid,
        audit: &AuditEvent,
    ) -> Result<Invite, StoreError> {
        let mut tx = self.write_tx().await?;
        let sql = "UPDATE org_invites SET revoked_at = $2 WHERE org_id = $1 AND revoked_at IS NULL
             RETURNING org_id, token, created_at, expires_at, revoked_at";
        let row = sqlx::query(sql)
            .bind(org_id.to_string())
            .bind(Timestamp::now().millis())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        invite_from_row(&row)
    }

    /// The organization an invite token belongs to, with the invite (expired or revoked
    /// ones too: the caller decides what to answer).
    pub async fn org_by_invite(&self, token: &str) -> Result<(Organization, Invite), StoreError> {
        let sql = format!("{INVITE_COLUMNS} WHERE token = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let id: String = row.try_get("org_id")?;
        let org = self
            .org(Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt("invite org".into()))?)
            .await?;
        Ok((org, invite_from_row(&row)?))
    }

    /// Every user of an organization (optionally of one status), oldest first.
    pub async fn users_of(
        &self,
        org_id: Uuid,
        status: Option<UserStatus>,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "{USER_COLUMNS} WHERE org_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(status.map(|s| s.as_str()))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// An administrator's reset: a new one-time password and/or no passcode; clears the
    /// lockout and ends every session of the user, in one transaction with its audit entry.
    pub async fn reset_credentials(
        &self,
        user_id: Uuid,
        one_time_password_hash: Option<&str>,
        clear_passcode: bool,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .begin_credentials_change(user_id, Assign::Fixed(UNLOCK))
            .await?;
        if clear_passcode {
            update_credentials_in(&mut tx, user_id, Assign::Secret("passcode_hash", None)).await?;
        }
        if let Some(hash) = one_time_password_hash {
            update_credentials_in(
                &mut tx,
                user_id,
                Assign::Secret("password_hash", Some(hash)),
            )
            .await?;
            sqlx::query("UPDATE users SET must_change_password = 1 WHERE id = $1")
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        end_sessions_in(&mut tx, user_id, None).await?;
        self.commit_audited(tx, audit).await
    }

    /// Applies every change of an import to `org_id` in one transaction: all or none. A row
    /// edited by someone else since it was read fails the whole import with `Stale`.
    pub async fn apply_import(
        &self,
        org_id: Uuid,
        changes: &[ImportChange],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for change in changes {
            match change {
                ImportChange::Create {
                    user,
                    password_hash,
                    audit,
                } => {
                    Self::insert_user_in(&mut tx, user, password_hash).await?;
                    self.append_audit_in(&mut tx, audit).await?;
                }
                ImportChange::Update {
                    next,
                    version,
                    audit,
                } => {
                    Self::update_user_in(&mut tx, next, *version).await?;
                    self.append_audit_in(&mut tx, audit).await?;
                }
            }
        }
        Self::record_seats_in(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(())
    }
}
