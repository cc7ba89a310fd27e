//! SCIM provisioning: each organization's one bearer token (its hash), and the identity
//! provider's `externalId` of provisioned users.

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::user::User;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::uuid;
use crate::users::{USER_COLUMNS, user_from_row};
use crate::{Store, StoreError};

/// An organization's SCIM token, without its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    /// Names the token as the actor of the changes made with it.
    pub id: Uuid,
    pub org_id: Uuid,
    pub created_by: Option<Uuid>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

const TOKEN_COLUMNS: &str =
    "SELECT id, org_id, created_by, created_at, last_used_at FROM scim_tokens";

fn token_from_row(row: &AnyRow) -> Result<ScimToken, StoreError> {
    Ok(ScimToken {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        created_by: crate::rows::opt_uuid(row, "created_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(Timestamp),
    })
}

impl Store {
    /// Organization `org_id`'s SCIM token, if it has one.
    pub async fn scim_token(&self, org_id: Uuid) -> Result<Option<ScimToken>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TOKEN_COLUMNS} WHERE org_id = $1"
        )))
        .bind(org_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// The SCIM token whose secret hashes to `token_hash` (`NotFound` when none).
    pub async fn scim_token_by_hash(&self, token_hash: &str) -> Result<ScimToken, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TOKEN_COLUMNS} WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(token_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Creates or replaces (rotates) the organization's SCIM token with its audit entry, in
    /// one commit: the previous token stops working at once.
    pub async fn set_scim_token(
        &self,
        token: &ScimToken,
        token_hash: &str,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "INSERT INTO scim_tokens (org_id, id, token_hash, created_by, created_at, last_used_at)
                 VALUES ($1, $2, $3, $4, $5, NULL)
                 ON CONFLICT (org_id) DO UPDATE SET id = excluded.id,
                     token_hash = excluded.token_hash, created_by = excluded.created_by,
                     created_at = excluded.created_at, last_used_at = NULL",
            )
            .bind(token.org_id.to_string())
            .bind(token.id.to_string())
            .bind(token_hash)
            .bind(token.created_by.map(|a| a.to_string()))
            .bind(token.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "scim_token_taken", "organization_not_found"))?;
            Ok((tx, ()))
        })
        .await
    }

    /// Revokes the organization's SCIM token (it stops working with this commit), audited
    /// by the entry `audit` makes of it; `NotFound` when there is none.
    pub async fn revoke_scim_token(
        &self,
        org_id: Uuid,
        audit: impl FnOnce(&ScimToken) -> AuditEvent,
    ) -> Result<ScimToken, StoreError> {
        self.audited_as(
            |mut tx| async move {
                let row = sqlx::query(
                    "DELETE FROM scim_tokens WHERE org_id = $1
                     RETURNING id, org_id, created_by, created_at, last_used_at",
                )
                .bind(org_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let token = row
                    .as_ref()
                    .map(token_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound)?;
                Ok((tx, token))
            },
            |token| [audit(token)],
        )
        .await
    }

    /// Records that token `id` was used at `now`.
    pub async fn touch_scim_token(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE scim_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Remembers the identity provider's `externalId` of a user of `org_id` (`None` forgets
    /// it); one user per `externalId` in an organization (`Duplicate("external_id_taken")`).
    pub async fn set_scim_external_id(
        &self,
        org_id: Uuid,
        user_id: Uuid,
        external_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let Some(external_id) = external_id else {
            sqlx::query("DELETE FROM scim_users WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&self.pool)
                .await?;
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO scim_users (user_id, org_id, external_id) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET external_id = excluded.external_id",
        )
        .bind(user_id.to_string())
        .bind(org_id.to_string())
        .bind(external_id)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::classify(e, "external_id_taken", "user_not_found"))?;
        Ok(())
    }

    /// Every provisioned user's `externalId` in `org_id`, by user.
    pub async fn scim_external_ids(
        &self,
        org_id: Uuid,
    ) -> Result<HashMap<Uuid, String>, StoreError> {
        let rows = sqlx::query("SELECT user_id, external_id FROM scim_users WHERE org_id = $1")
            .bind(org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| -> Result<(Uuid, String), StoreError> {
                Ok((uuid(r, "user_id")?, r.try_get("external_id")?))
            })
            .collect()
    }

    /// Users of `org_id` matched by a SCIM filter: by login or e-mail address (`userName`,
    /// case-insensitive), or by `externalId`; `None` lists all. Ordered by creation.
    pub async fn scim_users(
        &self,
        org_id: Uuid,
        matching: Option<ScimMatch<'_>>,
    ) -> Result<Vec<User>, StoreError> {
        let (condition, value) = match matching {
            None => ("", String::new()),
            Some(ScimMatch::UserName(name)) => (
                "AND (login = $2 OR LOWER(email) = $2)",
                name.trim().to_lowercase(),
            ),
            Some(ScimMatch::ExternalId(id)) => (
                "AND id IN (SELECT user_id FROM scim_users WHERE org_id = $1 AND external_id = $2)",
                id.to_owned(),
            ),
        };
        let sql = format!("{USER_COLUMNS} WHERE org_id = $1 {condition} ORDER BY created_at, id");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id.to_string());
        if matching.is_some() {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The users whose department is `department_id`.
    pub async fn department_members(&self, department_id: Uuid) -> Result<Vec<User>, StoreError> {
        let sql = format!("{USER_COLUMNS} WHERE department_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(department_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }
}

/// Which users a SCIM filter asks for.
#[derive(Debug, Clone, Copy)]
pub enum ScimMatch<'a> {
    UserName(&'a str),
    ExternalId(&'a str),
}
