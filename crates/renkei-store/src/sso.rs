//! Single sign-on's records: each organization's provider settings with its sealed client
//! secret, sign-ins under way, (issuer, subject) links to accounts, sessions opened through the
//! provider, and token ids already used; every change with its audit entry in the same commit.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::sso::SsoSettings;
use renkei_core::user::User;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::blobs::WrappedKey;
use crate::rows::uuid;
use crate::sessions::insert_session;
use crate::{SessionRecord, Store, StoreError, Tx};

/// An organization's provider as stored: its settings and sealed client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConfig {
    pub org_id: Uuid,
    pub settings: SsoSettings,
    /// The data key the secret is sealed with, wrapped by the master key.
    pub key: WrappedKey,
    /// base64 of nonce and sealed client secret.
    pub sealed_secret: String,
    pub version: i64,
    pub updated_at: Timestamp,
}

/// A sign-in under way, kept until its callback or expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFlow {
    pub state_hash: String,
    pub org_id: Uuid,
    pub nonce: String,
    pub pkce_verifier: String,
    pub redirect_uri: String,
    /// SHA-256 of the random value in the browser's flow cookie.
    pub browser_hash: String,
    pub expires_at: Timestamp,
}

/// Who signed in through the provider, for the session's link and back-channel logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
    /// The provider's session id (`sid`), when it sends one.
    pub sid: Option<String>,
}

fn config_from_row(row: &AnyRow) -> Result<SsoConfig, StoreError> {
    let settings: String = row.try_get("settings")?;
    Ok(SsoConfig {
        org_id: uuid(row, "org_id")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("sso settings: {e}")))?,
        key: WrappedKey {
            version: u32::try_from(row.try_get::<i64, _>("key_version")?)
                .map_err(|_| StoreError::Corrupt("sso key version".into()))?,
            sealed: row.try_get("wrapped_key")?,
        },
        sealed_secret: row.try_get("sealed_secret")?,
        version: row.try_get("version")?,
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

async fn link_in(
    tx: &mut Tx,
    identity: &SsoIdentity,
    user_id: Uuid,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sso_links (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .bind(user_id.to_string())
    .bind(now.millis())
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::classify(e, "sso_already_linked", "user_not_found"))?;
    Ok(())
}

impl Store {
    /// Organization `org_id`'s provider, if it has one.
    pub async fn sso_config(&self, org_id: Uuid) -> Result<Option<SsoConfig>, StoreError> {
        let row = sqlx::query(
            "SELECT org_id, settings, key_version, wrapped_key, sealed_secret, version, updated_at
             FROM sso_configs WHERE org_id = $1",
        )
        .bind(org_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(config_from_row).transpose()
    }

    /// The organizations with a provider (id and name), by name: the sign-in page's buttons.
    pub async fn sso_orgs(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.name FROM sso_configs c JOIN organizations o ON o.id = c.org_id
             ORDER BY o.name, o.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((uuid(r, "id")?, r.try_get("name")?)))
            .collect()
    }

    /// Creates or replaces an organization's provider. `expected` is the version the edit
    /// was made against (`None`: there must be none yet); `Stale` otherwise.
    pub async fn put_sso_config(
        &self,
        config: &SsoConfig,
        expected: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let settings = serde_json::to_string(&config.settings)
            .map_err(|e| StoreError::Corrupt(format!("sso settings: {e}")))?;
        self.audited([audit], |mut tx| async move {
            let query = sqlx::query(match expected {
                None => {
                    "INSERT INTO sso_configs (org_id, settings, key_version, wrapped_key,
                         sealed_secret, version, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id) DO NOTHING"
                }
                Some(_) => {
                    "UPDATE sso_configs SET settings = $2, key_version = $3, wrapped_key = $4,
                         sealed_secret = $5, version = $6, updated_at = $7
                     WHERE org_id = $1 AND version = $8"
                }
            })
            .bind(config.org_id.to_string())
            .bind(settings)
            .bind(i64::from(config.key.version))
            .bind(&config.key.sealed)
            .bind(&config.sealed_secret)
            .bind(config.version)
            .bind(config.updated_at.millis());
            let query = match expected {
                Some(version) => query.bind(version),
                None => query,
            };
            let done = query.execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            Ok((tx, ()))
        })
        .await
    }

    /// Removes an organization's provider (links stay: a provider set up again finds them).
    pub async fn delete_sso_config(
        &self,
        org_id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query("DELETE FROM sso_configs WHERE org_id = $1")
                .bind(org_id.to_string())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok((tx, ()))
        })
        .await
    }

    /// Keeps a sign-in under way, dropping those expired by `now`.
    pub async fn put_sso_flow(&self, flow: &SsoFlow, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sso_flows WHERE expires_at < $1")
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sso_flows (state_hash, org_id, nonce, pkce_verifier, redirect_uri,
                 browser_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&flow.state_hash)
        .bind(flow.org_id.to_string())
        .bind(&flow.nonce)
        .bind(&flow.pkce_verifier)
        .bind(&flow.redirect_uri)
        .bind(&flow.browser_hash)
        .bind(flow.expires_at.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the sign-in under way with this state: it is gone afterwards, so a state (and its
    /// nonce) works once. `NotFound` for unknown or already used states.
    pub async fn take_sso_flow(&self, state_hash: &str) -> Result<SsoFlow, StoreError> {
        let row = sqlx::query(
            "DELETE FROM sso_flows WHERE state_hash = $1 RETURNING state_hash, org_id, nonce,
                 pkce_verifier, redirect_uri, browser_hash, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(SsoFlow {
            state_hash: row.try_get("state_hash")?,
            org_id: uuid(&row, "org_id")?,
            nonce: row.try_get("nonce")?,
            pkce_verifier: row.try_get("pkce_verifier")?,
            redirect_uri: row.try_get("redirect_uri")?,
            browser_hash: row.try_get("browser_hash")?,
            expires_at: Timestamp(row.try_get("expires_at")?),
        })
    }

    /// The account linked to the provider's (issuer, subject).
    pub async fn sso_link(&self, issuer: &str, subject: &str) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query("SELECT user_id FROM sso_links WHERE issuer = $1 AND subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| uuid(r, "user_id")).transpose()
    }

    /// Records a token id of `issuer` as used until `expires_at` (dropping those expired by
    /// `now`); `Duplicate("token_replayed")` when it was used already.
    pub async fn use_sso_token(
        &self,
        issuer: &str,
        token_id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sso_used_tokens WHERE expires_at < $1")
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sso_used_tokens (issuer, token_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(issuer)
        .bind(token_id)
        .bind(expires_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "token_replayed", "token_replayed"))?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session signed in through the provider, linking (issuer, subject) to the account
    /// first when `link` (a verified match), and writes the sign-in entries, in one
    /// transaction. `void_password` replaces a one-time password nobody should keep using
    /// (the provider's sign-in supersedes it) and clears its change requirement.
    pub async fn open_sso_session(
        &self,
        session: &SessionRecord,
        identity: &SsoIdentity,
        link: bool,
        void_password: Option<&str>,
        audits: &[AuditEvent],
    ) -> Result<(), StoreError> {
        self.audited(audits, |mut tx| async move {
            if link {
                link_in(&mut tx, identity, session.user_id, session.created_at).await?;
            }
            if let Some(hash) = void_password {
                sqlx::query("UPDATE credentials SET password_hash = $1 WHERE user_id = $2")
                    .bind(hash)
                    .bind(session.user_id.to_string())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE users SET must_change_password = 0 WHERE id = $1")
                    .bind(session.user_id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            insert_session(session).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO sso_sessions (session_id, issuer, subject, sid) VALUES ($1, $2, $3, $4)",
            )
            .bind(session.id.to_string())
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(identity.sid.as_deref())
            .execute(&mut *tx)
            .await?;
            Ok((tx, ()))
        })
        .await
    }

    /// Stores a pending application from the provider, linked to (issuer, subject), with its
    /// audit entry, in one transaction (`password_hash` is of a password nobody knows).
    pub async fn insert_sso_applicant(
        &self,
        user: &User,
        password_hash: &str,
        identity: &SsoIdentity,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        Self::insert_user_in(&mut tx, user, password_hash).await?;
        Self::record_seats_in(&mut tx, user.org_id).await?;
        link_in(&mut tx, identity, user.id, user.created_at).await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the sessions the provider's logout names: those of `sid` when given, otherwise
    /// every session opened as `subject`; with an entry per user, in one transaction. Returns
    /// the users whose sessions ended.
    pub async fn end_sso_sessions(
        &self,
        org_id: Uuid,
        issuer: &str,
        subject: Option<&str>,
        sid: Option<&str>,
        details: serde_json::Value,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "SELECT s.id, s.user_id FROM sso_sessions x JOIN sessions s ON s.id = x.session_id
             WHERE x.issuer = $1 AND ($2 = '' OR x.subject = $2) AND ($3 = '' OR x.sid = $3)",
        )
        .bind(issuer)
        .bind(subject.unwrap_or_default())
        .bind(sid.unwrap_or_default())
        .fetch_all(&mut *tx)
        .await?;
        let mut users = Vec::new();
        for row in &rows {
            let session_id = uuid(row, "id")?;
            let user_id = uuid(row, "user_id")?;
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(session_id.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sso_sessions WHERE session_id = $1")
                .bind(session_id.to_string())
                .execute(&mut *tx)
                .await?;
            crate::push_subscriptions::forget_subscriptions_of_session_in(&mut tx, session_id)
                .await?;
            let event = AuditEvent::new(
                "auth.sso_logout",
                Some(org_id),
                Some(user_id),
                "session",
                Some(session_id),
            )
            .with_details(details.clone());
            self.append_audit_in(&mut tx, &event).await?;
            if !users.contains(&user_id) {
                users.push(user_id);
            }
        }
        tx.commit().await?;
        Ok(users)
    }
}
