//! Web Push: browsers' subscriptions, the server's sealed key pairs, who among a batch's
//! members has a device to push to, the `pushed` mark, and each subscription's health.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::notify::NotifyLevel;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::blobs::WrappedKey;
use crate::rows::{named, opt_uuid, uuid};
use crate::sql_builder::SqlBuilder;
use crate::{Store, StoreError};

/// How stale a subscription's `last_pushed_at` may get before an accepted push rewrites it.
pub const LAST_PUSHED_GRAIN_MS: i64 = 60_000;

/// A key pair the server made for itself: the private half sealed, the public half clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKey {
    pub key: WrappedKey,
    /// Base64url, as published.
    pub public_key: String,
}

/// A browser's subscription as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushSubscription {
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub device_label: Option<String>,
    pub expiration_time: Option<i64>,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: Uuid,
    pub user_id: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub device_label: Option<String>,
    pub created_at: Timestamp,
    pub last_pushed_at: Option<Timestamp>,
    pub failing_since: Option<Timestamp>,
}

/// A member of a conversation who has at least one subscription, with what decides
/// whether a message is pushed to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRecipient {
    pub conversation_id: Uuid,
    pub user_id: Uuid,
    pub level: NotifyLevel,
    /// Do-not-disturb start and end, minutes after local midnight, and the local offset.
    pub dnd: Option<(i64, i64)>,
    pub utc_offset_minutes: i64,
}

/// A user's own notification settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    pub dnd_start_minute: Option<i64>,
    pub dnd_end_minute: Option<i64>,
    pub utc_offset_minutes: i64,
    pub covering_user_id: Option<Uuid>,
}

/// One line of an organization's device overview (no endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDevices {
    pub user_id: Uuid,
    pub display_name: String,
    pub devices: i64,
    pub failing: i64,
    pub last_pushed_at: Option<Timestamp>,
}

const SUBSCRIPTION_COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, device_label, \
     created_at, last_pushed_at, failing_since";

fn subscription_from_row(row: &AnyRow) -> Result<PushSubscription, StoreError> {
    Ok(PushSubscription {
        id: uuid(row, "id")?,
        user_id: uuid(row, "user_id")?,
        endpoint: row.try_get("endpoint")?,
        p256dh: row.try_get("p256dh")?,
        auth: row.try_get("auth")?,
        device_label: row.try_get("device_label")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_pushed_at: row
            .try_get::<Option<i64>, _>("last_pushed_at")?
            .map(Timestamp),
        failing_since: row
            .try_get::<Option<i64>, _>("failing_since")?
            .map(Timestamp),
    })
}

impl Store {
    /// The server's key pair named `name`, if made.
    pub async fn server_key(&self, name: &str) -> Result<Option<ServerKey>, StoreError> {
        let row =
            sqlx::query("SELECT key_version, sealed, public_key FROM server_keys WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(ServerKey {
                key: WrappedKey {
                    version: u32::try_from(r.try_get::<i64, _>("key_version")?)
                        .map_err(|_| StoreError::Corrupt("server key version".into()))?,
                    sealed: r.try_get("sealed")?,
                },
                public_key: r.try_get("public_key")?,
            })
        })
        .transpose()
    }

    /// Keeps `key` as the key pair named `name` unless one is there already; returns the one
    /// kept (two servers starting at once agree on the first).
    pub async fn keep_server_key(
        &self,
        name: &str,
        key: &ServerKey,
    ) -> Result<ServerKey, StoreError> {
        sqlx::query(
            "INSERT INTO server_keys (name, key_version, sealed, public_key, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(i64::from(key.key.version))
        .bind(&key.key.sealed)
        .bind(&key.public_key)
        .bind(Timestamp::now().millis())
        .execute(&self.pool)
        .await?;
        self.server_key(name).await?.ok_or(StoreError::NotFound)
    }

    /// Registers a subscription, or re-registers a known endpoint (to this caller and session,
    /// with its new keys and health forgotten). Returns its id and whether it is new; the
    /// audit entry names the subscription and commits with it.
    pub async fn register_push_subscription(
        &self,
        new: &NewPushSubscription,
        audit: &AuditEvent,
    ) -> Result<(Uuid, bool), StoreError> {
        let new = new.clone();
        self.audited_as(
            |mut tx| async move {
                let existing = sqlx::query("SELECT id FROM push_subscriptions WHERE endpoint = $1")
                    .bind(&new.endpoint)
                    .fetch_optional(&mut *tx)
                    .await?;
                let outcome = match existing {
                    Some(row) => {
                        let id = uuid(&row, "id")?;
                        sqlx::query(
                            "UPDATE push_subscriptions SET user_id = $1, session_id = $2,
                                 p256dh = $3, auth = $4, device_label = $5, expiration_time = $6,
                                 failing_since = NULL
                             WHERE id = $7",
                        )
                        .bind(new.user_id.to_string())
                        .bind(new.session_id.map(|s| s.to_string()))
                        .bind(&new.p256dh)
                        .bind(&new.auth)
                        .bind(&new.device_label)
                        .bind(new.expiration_time)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                        (id, false)
                    }
                    None => {
                        let id = Uuid::now_v7();
                        sqlx::query(
                            "INSERT INTO push_subscriptions (id, user_id, session_id, endpoint,
                                 p256dh, auth, device_label, expiration_time, created_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(id.to_string())
                        .bind(new.user_id.to_string())
                        .bind(new.session_id.map(|s| s.to_string()))
                        .bind(&new.endpoint)
                        .bind(&new.p256dh)
                        .bind(&new.auth)
                        .bind(&new.device_label)
                        .bind(new.expiration_time)
                        .bind(Timestamp::now().millis())
                        .execute(&mut *tx)
                        .await?;
                        (id, true)
                    }
                };
                Ok((tx, outcome))
            },
            |(id, _)| {
                let mut entry = audit.clone();
                entry.target_id = Some(*id);
                [entry]
            },
        )
        .await
    }

    /// `user`'s own subscriptions, oldest first.
    pub async fn push_subscriptions_of(
        &self,
        user: Uuid,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(subscription_from_row).collect()
    }

    /// Every subscription of these users (the dispatcher's one query per batch).
    pub async fn push_subscriptions_of_users(
        &self,
        users: &[Uuid],
    ) -> Result<Vec<PushSubscription>, StoreError> {
        if users.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = SqlBuilder::new();
        let list = sql.bind_list(users.iter().map(|u| u.to_string()));
        sql.push(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id IN ({list})"
        ));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(subscription_from_row).collect()
    }

    /// Removes `user`'s subscription `id` with its audit entry; `NotFound` when it is not
    /// theirs.
    pub async fn delete_push_subscription(
        &self,
        user: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.audited([audit], |mut tx| async move {
            let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
                .bind(id.to_string())
                .bind(user.to_string())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok((tx, ()))
        })
        .await
    }

    /// Forgets a subscription the push service says is gone (404/410), or one that failed
    /// for too long. Not audited: the browser ended it, not a person.
    pub async fn forget_push_subscription(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks subscriptions as pushed to at `at`: failures forgotten. `last_pushed_at` is what
    /// an administrator reads ("when did this device last get a push"), so a subscription
    /// whose mark is less than [`LAST_PUSHED_GRAIN_MS`] old and that is not failing is left
    /// alone: a busy device costs one row write a minute, not one a second.
    pub async fn mark_pushed(&self, ids: &[Uuid], at: Timestamp) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut sql = SqlBuilder::new();
        let when = sql.bind(at.millis());
        let stale = sql.bind(at.millis() - LAST_PUSHED_GRAIN_MS);
        let list = sql.bind_list(ids.iter().map(|u| u.to_string()));
        sql.push(&format!(
            "UPDATE push_subscriptions SET last_pushed_at = {when}, failing_since = NULL
             WHERE id IN ({list})
               AND (last_pushed_at IS NULL OR last_pushed_at < {stale}
                    OR failing_since IS NOT NULL)"
        ));
        sql.build().execute(&self.pool).await?;
        Ok(())
    }

    /// Notes a failed push: the first failure starts `failing_since`. Returns when the
    /// subscription started failing.
    pub async fn mark_push_failing(
        &self,
        id: Uuid,
        at: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        sqlx::query(
            "UPDATE push_subscriptions SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL",
        )
        .bind(at.millis())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        let since = sqlx::query("SELECT failing_since FROM push_subscriptions WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(since
            .map(|r| r.try_get::<Option<i64>, _>("failing_since"))
            .transpose()?
            .flatten()
            .map(Timestamp))
    }

    /// Drops every subscription failing since before `cutoff`; returns how many.
    pub async fn drop_failing_push_subscriptions(
        &self,
        cutoff: Timestamp,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM push_subscriptions WHERE failing_since IS NOT NULL AND failing_since < $1",
        )
        .bind(cutoff.millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Members of these conversations who have a subscription (one query for a whole batch),
    /// with their level and quiet hours.
    pub async fn push_recipients(
        &self,
        conversations: &[Uuid],
    ) -> Result<Vec<PushRecipient>, StoreError> {
        if conversations.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = SqlBuilder::new();
        let list = sql.bind_list(conversations.iter().map(|c| c.to_string()));
        sql.push(&format!(
            "SELECT m.conversation_id, m.user_id, m.notify, n.dnd_start_minute, n.dnd_end_minute,
                    n.utc_offset_minutes
             FROM conversation_members m
             LEFT JOIN notification_settings n ON n.user_id = m.user_id
             WHERE m.conversation_id IN ({list})
               AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = m.user_id)"
        ));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let start: Option<i64> = row.try_get("dnd_start_minute")?;
                let end: Option<i64> = row.try_get("dnd_end_minute")?;
                Ok(PushRecipient {
                    conversation_id: uuid(row, "conversation_id")?,
                    user_id: uuid(row, "user_id")?,
                    level: named(row, "notify", NotifyLevel::parse)?,
                    dnd: start.zip(end),
                    utc_offset_minutes: row
                        .try_get::<Option<i64>, _>("utc_offset_minutes")?
                        .unwrap_or(0),
                })
            })
            .collect()
    }

    /// How far pushes to `user` got in `conversation` (`pushed_seq`); `NotFound` for a
    /// non-member.
    pub async fn pushed_seq(&self, conversation: Uuid, user: Uuid) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT pushed_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("pushed_seq")?)
    }

    /// The sender's display name and the conversation's title of message `seq`, for a push
    /// text under the `sender` preview policy.
    pub async fn push_preview_names(
        &self,
        conversation: Uuid,
        seq: i64,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let row = sqlx::query(
            "SELECT u.display_name, c.title FROM messages m
             JOIN users u ON u.id = m.sender_id
             JOIN conversations c ON c.id = m.conversation_id
             WHERE m.conversation_id = $1 AND m.seq = $2",
        )
        .bind(conversation.to_string())
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("display_name")?, r.try_get("title")?)))
            .transpose()
    }

    /// The organization of each user (for their org's push policy).
    pub async fn orgs_of_users(&self, users: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        if users.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = SqlBuilder::new();
        let list = sql.bind_list(users.iter().map(|u| u.to_string()));
        sql.push(&format!(
            "SELECT id, org_id FROM users WHERE id IN ({list})"
        ));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((uuid(r, "id")?, uuid(r, "org_id")?)))
            .collect()
    }

    /// `user`'s notification settings (defaults when never set).
    pub async fn notification_settings(
        &self,
        user: Uuid,
    ) -> Result<NotificationSettings, StoreError> {
        let row = sqlx::query(
            "SELECT dnd_start_minute, dnd_end_minute, utc_offset_minutes, covering_user_id
             FROM notification_settings WHERE user_id = $1",
        )
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(NotificationSettings {
                dnd_start_minute: r.try_get("dnd_start_minute")?,
                dnd_end_minute: r.try_get("dnd_end_minute")?,
                utc_offset_minutes: r.try_get("utc_offset_minutes")?,
                covering_user_id: opt_uuid(&r, "covering_user_id")?,
            })
        })
        .transpose()
        .map(Option::unwrap_or_default)
    }

    /// Saves `user`'s notification settings with the audit entry.
    pub async fn set_notification_settings(
        &self,
        user: Uuid,
        settings: &NotificationSettings,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let s = settings.clone();
        self.audited([audit], |mut tx| async move {
            sqlx::query(
                "INSERT INTO notification_settings (user_id, dnd_start_minute, dnd_end_minute,
                     utc_offset_minutes, covering_user_id, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (user_id) DO UPDATE SET dnd_start_minute = excluded.dnd_start_minute,
                     dnd_end_minute = excluded.dnd_end_minute,
                     utc_offset_minutes = excluded.utc_offset_minutes,
                     covering_user_id = excluded.covering_user_id,
                     updated_at = excluded.updated_at",
            )
            .bind(user.to_string())
            .bind(s.dnd_start_minute)
            .bind(s.dnd_end_minute)
            .bind(s.utc_offset_minutes)
            .bind(s.covering_user_id.map(|u| u.to_string()))
            .bind(Timestamp::now().millis())
            .execute(&mut *tx)
            .await?;
            Ok((tx, ()))
        })
        .await
    }

    /// Per user of `org` with a subscription: how many devices, how many failing, the last push.
    pub async fn org_push_devices(&self, org: Uuid) -> Result<Vec<PushDevices>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.display_name, COUNT(s.id) AS devices,
                    SUM(CASE WHEN s.failing_since IS NULL THEN 0 ELSE 1 END) AS failing,
                    MAX(s.last_pushed_at) AS last_pushed_at
             FROM users u JOIN push_subscriptions s ON s.user_id = u.id
             WHERE u.org_id = $1
             GROUP BY u.id, u.display_name
             ORDER BY u.display_name, u.id",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PushDevices {
                    user_id: uuid(r, "id")?,
                    display_name: r.try_get("display_name")?,
                    devices: r.try_get("devices")?,
                    failing: r.try_get::<Option<i64>, _>("failing")?.unwrap_or(0),
                    last_pushed_at: r
                        .try_get::<Option<i64>, _>("last_pushed_at")?
                        .map(Timestamp),
                })
            })
            .collect()
    }
}

/// Removes the subscriptions of sessions that end, as part of the transaction ending them:
/// `session` alone, or every session of `user` but `keep`.
pub(crate) async fn forget_subscriptions_of_user_in(
    tx: &mut crate::Tx,
    user: Uuid,
    keep_session: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM push_subscriptions WHERE user_id = $1
           AND (session_id IS NULL OR session_id <> $2)",
    )
    .bind(user.to_string())
    .bind(keep_session.map(|id| id.to_string()).unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes the subscription registered by `session`, as part of `tx`.
pub(crate) async fn forget_subscriptions_of_session_in(
    tx: &mut crate::Tx,
    session: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM push_subscriptions WHERE session_id = $1")
        .bind(session.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
