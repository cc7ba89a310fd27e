//! Forward-only, numbered schema migrations, applied at start-up in one transaction each.

use sqlx::Row;

use crate::{Backend, Store, StoreError};

/// One schema step: its number, name, and the SQL for each backend.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const FOUNDATION: &str = include_str!("../migrations/0001_foundation.sql");
const MESSAGING: &str = include_str!("../migrations/0002_messaging.sql");
const MEDIA: &str = include_str!("../migrations/0004_media.sql");
const DICOM: &str = include_str!("../migrations/0005_dicom.sql");
const RETENTION: &str = include_str!("../migrations/0006_conversation_retention.sql");
const ADMINISTRATION: &str = include_str!("../migrations/0007_administration.sql");
const COOPERATION: &str = include_str!("../migrations/0008_cooperation.sql");
const GATEWAYS: &str = include_str!("../migrations/0010_gateways.sql");
const SECOND_FACTOR: &str = include_str!("../migrations/0011_second_factor.sql");
const LINK_EXPIRY: &str = include_str!("../migrations/0014_link_expiry.sql");

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: FOUNDATION,
        postgres: FOUNDATION,
    },
    Migration {
        version: 2,
        name: "messaging",
        sqlite: MESSAGING,
        postgres: MESSAGING,
    },
    Migration {
        version: 3,
        name: "search",
        sqlite: include_str!("../migrations/0003_search.sqlite.sql"),
        postgres: include_str!("../migrations/0003_search.postgres.sql"),
    },
    Migration {
        version: 4,
        name: "media",
        sqlite: MEDIA,
        postgres: MEDIA,
    },
    Migration {
        version: 5,
        name: "dicom",
        sqlite: DICOM,
        postgres: DICOM,
    },
    Migration {
        version: 6,
        name: "conversation_retention",
        sqlite: RETENTION,
        postgres: RETENTION,
    },
    Migration {
        version: 7,
        name: "administration",
        sqlite: ADMINISTRATION,
        postgres: ADMINISTRATION,
    },
    Migration {
        version: 8,
        name: "cooperation",
        sqlite: COOPERATION,
        postgres: COOPERATION,
    },
    Migration {
        version: 9,
        name: "directory",
        sqlite: include_str!("../migrations/0009_directory.sqlite.sql"),
        postgres: include_str!("../migrations/0009_directory.postgres.sql"),
    },
    Migration {
        version: 10,
        name: "gateways",
        sqlite: GATEWAYS,
        postgres: GATEWAYS,
    },
    Migration {
        version: 11,
        name: "second_factor",
        sqlite: SECOND_FACTOR,
        postgres: SECOND_FACTOR,
    },
    Migration {
        version: 12,
        name: "directory_keys",
        sqlite: include_str!("../migrations/0012_directory_keys.sqlite.sql"),
        postgres: include_str!("../migrations/0012_directory_keys.postgres.sql"),
    },
    Migration {
        version: 13,
        name: "cross_org_counted",
        sqlite: include_str!("../migrations/0013_cross_org_counted.sqlite.sql"),
        postgres: include_str!("../migrations/0013_cross_org_counted.postgres.sql"),
    },
    Migration {
        version: 14,
        name: "link_expiry",
        sqlite: LINK_EXPIRY,
        postgres: LINK_EXPIRY,
    },
    Migration {
        version: 15,
        name: "sign_in_backoff",
        sqlite: include_str!("../migrations/0015_sign_in_backoff.sql"),
        postgres: include_str!("../migrations/0015_sign_in_backoff.sql"),
    },
    Migration {
        version: 17,
        name: "invite_expiry",
        sqlite: include_str!("../migrations/0017_invite_expiry.sql"),
        postgres: include_str!("../migrations/0017_invite_expiry.sql"),
    },
    Migration {
        version: 18,
        name: "member_notify",
        sqlite: include_str!("../migrations/0018_member_notify.sql"),
        postgres: include_str!("../migrations/0018_member_notify.sql"),
    },
    Migration {
        version: 19,
        name: "push",
        sqlite: include_str!("../migrations/0019_push.sql"),
        postgres: include_str!("../migrations/0019_push.sql"),
    },
    Migration {
        version: 20,
        name: "urgent_alerts",
        sqlite: include_str!("../migrations/0020_urgent_alerts.sql"),
        postgres: include_str!("../migrations/0020_urgent_alerts.sql"),
    },
    Migration {
        version: 21,
        name: "address_attempts",
        sqlite: include_str!("../migrations/0021_address_attempts.sql"),
        postgres: include_str!("../migrations/0021_address_attempts.sql"),
    },
    Migration {
        version: 22,
        name: "held_instances",
        sqlite: include_str!("../migrations/0022_held_instances.sql"),
        postgres: include_str!("../migrations/0022_held_instances.sql"),
    },
    Migration {
        version: 23,
        name: "redaction_rules",
        sqlite: include_str!("../migrations/0023_redaction_rules.sql"),
        postgres: include_str!("../migrations/0023_redaction_rules.sql"),
    },
    Migration {
        version: 24,
        name: "sealed_messages",
        sqlite: include_str!("../migrations/0024_sealed_messages.sqlite.sql"),
        postgres: include_str!("../migrations/0024_sealed_messages.postgres.sql"),
    },
    Migration {
        version: 25,
        name: "scim",
        sqlite: include_str!("../migrations/0025_scim.sql"),
        postgres: include_str!("../migrations/0025_scim.sql"),
    },
    Migration {
        version: 26,
        name: "single_sign_on",
        sqlite: include_str!("../migrations/0026_single_sign_on.sql"),
        postgres: include_str!("../migrations/0026_single_sign_on.sql"),
    },
    Migration {
        version: 27,
        name: "passkeys",
        sqlite: include_str!("../migrations/0027_passkeys.sql"),
        postgres: include_str!("../migrations/0027_passkeys.sql"),
    },
];

/// The schema version this binary migrates to: its last migration's number.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Applies every migration the database lacks, in order.
pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.pool.acquire().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    if store.backend == Backend::Postgres {
        // Two nodes starting at once must not both migrate.
        sqlx::query("SELECT pg_advisory_lock(7310451)")
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_missing(store, &mut conn).await;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(7310451)")
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_missing(
    store: &Store,
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<(), StoreError> {
    let applied: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        .fetch_one(&mut **conn)
        .await?
        .try_get("v")?;
    if applied > SCHEMA_VERSION {
        return Err(StoreError::Config(format!(
            "the database's schema is version {applied}, newer than this renkei {} knows (up to \
             {SCHEMA_VERSION}): a newer release has migrated it, and renkei never migrates \
             backwards. Run that newer release, or restore a backup taken before the upgrade",
            env!("CARGO_PKG_VERSION")
        )));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        let sql = match store.backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let mut tx = sqlx::Connection::begin(&mut **conn).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(renkei_core::clock::Timestamp::now().millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "schema migrated");
    }
    Ok(())
}
