//! renkei's metadata store: one implementation over SQLite (embedded) or PostgreSQL.
//!
//! Both backends run the same portable SQL through sqlx's `Any` driver, so they cannot drift
//! apart; dialect-specific statements branch on [`Backend`]. The conformance suite in
//! `tests/conformance.rs` runs against both.

mod address_attempts;
mod agreements;
mod attachments;
mod audit;
mod audited;
pub mod blobs;
mod calls;
mod conversation_list;
mod conversations;
mod councils;
mod dicom;
mod dicom_index;
mod dicomweb;
mod directory;
mod directory_search;
mod error;
mod expiry;
mod gateways;
pub mod leadership;
mod media;
mod member_marks;
mod member_notify;
mod message_expiry;
mod message_keys;
mod message_reseal;
mod message_search;
mod messages;
mod migrate;
mod orgs;
mod passkeys;
mod posting;
mod push_subscriptions;
mod redaction_rules;
mod rows;
mod scim;
pub mod scratch;
mod seats;
mod second_factors;
mod sessions;
mod sign_in;
mod sql_builder;
mod sso;
mod statements;
mod urgent;
mod usage;
mod user_admin;
mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use address_attempts::AddressWindow;
pub use agreements::Removal;
pub use attachments::{Attached, Reach};
pub use audit::AuditFilter;
pub use conversation_list::ListedConversation;
pub use conversations::ConversationSummary;
pub use dicom_index::{IndexRequest, Indexed, SqliteIndexer};
pub use directory_search::{DirectoryHit, DirectoryPage, DirectoryScope, TOTAL_CAP};
pub use error::StoreError;
pub use expiry::{Expired, Unpurged};
pub use member_marks::MemberMark;
pub use message_expiry::ExpiredMessages;
pub use message_keys::{EPOCH_MILLIS, epoch_of};
pub use messages::{Post, PostRefusal, Posted};
pub use migrate::SCHEMA_VERSION;
pub use passkeys::{PasskeyChallenge, PasskeyUse, StoredPasskey};
pub use push_subscriptions::{
    NewPushSubscription, NotificationSettings, PushDevices, PushRecipient, PushSubscription,
    ServerKey,
};
pub use scim::{ScimMatch, ScimToken};
pub use second_factors::{Proof, SecondFactor};
pub use sessions::SessionRecord;
pub use sign_in::{SignInFailures, SignInHold};
pub use sso::{SsoConfig, SsoFlow, SsoIdentity};
pub use urgent::{Claimed, DueAlert, Planned, UrgentAlert};
pub use user_admin::{ImportChange, Invite};
pub use users::Credentials;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connections of the pool: in use, idle, and the most it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// A handle to the metadata database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite database file, when the database is one.
    file: Option<Arc<PathBuf>>,
    /// The keys that seal message bodies and key their search grams.
    keys: Arc<message_keys::MessageKeys>,
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The SQLite database file named by `url` (none in memory).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    (!path.is_empty() && !path.starts_with(':')).then(|| path.into())
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Store::connect(&url).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and migrates the schema forward.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Config(
                "database URL must start with sqlite:// or postgres://".into(),
            ));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // secure_delete: a deleted row (a destroyed message key, a
                            // body's old sealed text) is overwritten with zeros instead
                            // of lingering in a free page, so destroying a key destroys it
                            // in the file too. It costs little: the page is written anyway.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA wal_autocheckpoint = 10000; PRAGMA secure_delete = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        let mut store = Store {
            pool,
            backend,
            file: None,
            keys: message_keys::MessageKeys::process_wide(),
        };
        migrate::run(&store).await?;
        store.file = sqlite_file(url).filter(|file| file.exists()).map(Arc::new);
        Ok(store)
    }

    /// This store sealing message bodies with `ring` (the server's master keys) instead of
    /// the process-wide key of tests and tools; bodies stored before sealing existed are
    /// sealed now, once (see `message_reseal`).
    pub async fn with_message_keys(mut self, ring: blobs::KeyRing) -> Result<Store, StoreError> {
        self.keys = message_keys::MessageKeys::new(ring);
        self.reseal_plaintext().await?;
        Ok(self)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of the SQLite database to `path` while it is in use.
    /// PostgreSQL is backed up with its own tools (`pg_dump`).
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Config(
                "back up PostgreSQL with pg_dump; this command copies the embedded SQLite database"
                    .into(),
            ));
        }
        reserve_private_file(path)?;
        let copied = sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(&self.pool)
            .await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(path);
            return Err(e.into());
        }
        Ok(())
    }

    /// The schema version this database is at (its newest applied migration).
    pub async fn applied_schema_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(sqlx::Row::try_get(&row, "v")?)
    }

    /// Copies what the SQLite write-ahead log holds into the database without waiting for
    /// anyone (a passive checkpoint), so committing transactions rarely have to; no-op on
    /// PostgreSQL. Meant to be called every second or so.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The connection pool right now, for the saturation gauges.
    pub fn pool_usage(&self) -> PoolUsage {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(open);
        PoolUsage {
            in_use: open.saturating_sub(idle),
            idle,
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a transaction that takes the write lock at once on SQLite (so concurrent
    /// writers queue instead of failing), and a plain one on PostgreSQL.
    /// How long it waited (for a connection, and on SQLite for the write lock) is observed.
    async fn write_tx(&self) -> Result<Tx, StoreError> {
        let started = std::time::Instant::now();
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        metrics::histogram!("renkei_db_write_wait_seconds").record(started.elapsed().as_secs_f64());
        Ok(tx)
    }
}

/// Creates `path` empty, readable by its owner only (0600), refusing one that exists
/// (`O_EXCL`), so a backup holding message bodies and the audit log is never world-readable
/// and never overwrites anything; SQLite's `VACUUM INTO` then fills the empty file.
fn reserve_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StoreError::Config(
            format!("{} already exists; choose a new file name", path.display()),
        )),
        Err(e) => Err(StoreError::Config(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}
