//! Which node leads a background job that must run on one node at a time: a PostgreSQL
//! session advisory lock per job, held on a connection of its own while this node leads
//! (released by PostgreSQL when that connection or the node dies); on SQLite, always this one.

use sqlx::{AnyConnection, Connection};

use crate::{Backend, Store, StoreError};

/// Background work that runs on one node at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// The expiry sweep of media and studies (`renkei_service::expiry`).
    ExpirySweep,
    /// Rebuilding the staff directory's changed documents.
    DirectoryRebuild,
    /// Removing expired sessions.
    SessionSweep,
}

/// The high half of every job's lock key (`rnki`), so renkei's locks keep clear of other
/// users of advisory locks on the same database.
const KEY_SPACE: i64 = 0x726e_6b69 << 32;

impl Job {
    /// Every job, for metrics and docs.
    pub const ALL: [Job; 3] = [Job::ExpirySweep, Job::DirectoryRebuild, Job::SessionSweep];

    /// Its name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Job::ExpirySweep => "expiry_sweep",
            Job::DirectoryRebuild => "directory_rebuild",
            Job::SessionSweep => "session_sweep",
        }
    }

    /// Its advisory lock key: fixed forever, since nodes of two versions may run side by side.
    pub fn lock_key(self) -> i64 {
        KEY_SPACE
            | match self {
                Job::ExpirySweep => 1,
                Job::DirectoryRebuild => 2,
                Job::SessionSweep => 3,
            }
    }
}

/// Server-side TCP settings of a lock connection, so PostgreSQL notices a node that vanished
/// without closing its connection (power cut, network partition) within about 30 seconds and
/// releases its locks: keepalives after 10 s idle, every 5 s, 3 missed; and unacknowledged
/// data abandoned after 30 s.
const KEEPALIVE: &str = "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
     SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000";

/// This node's claim on one job.
pub struct Leadership {
    store: Store,
    job: Job,
    /// A connection of its own (outside the pool), kept between looks.
    conn: Option<AnyConnection>,
    /// Whether `conn` holds the job's lock.
    leading: bool,
}

impl Leadership {
    /// This node's claim on `job`, not yet leading (see [`Leadership::lead`]).
    pub fn new(store: Store, job: Job) -> Leadership {
        Leadership {
            store,
            job,
            conn: None,
            leading: false,
        }
    }

    /// The job claimed.
    pub fn job(&self) -> Job {
        self.job
    }

    /// Whether this node leads the job now. On PostgreSQL: while leading, checks that the
    /// lock's connection still answers (if not, the lock is gone and another node may hold
    /// it); otherwise tries to take the lock, without waiting. On SQLite (one node): always.
    pub async fn lead(&mut self) -> Result<bool, StoreError> {
        if self.store.backend == Backend::Sqlite {
            return Ok(true);
        }
        match self.look().await {
            Err(_) if self.conn.is_some() => {
                // The connection broke: whatever it held PostgreSQL has released. Look again
                // on a new one.
                self.forget();
                let again = self.look().await;
                if again.is_err() {
                    self.forget();
                }
                again
            }
            Err(e) => {
                self.forget();
                Err(e)
            }
            looked => looked,
        }
    }

    fn forget(&mut self) {
        self.conn = None;
        self.leading = false;
    }

    async fn look(&mut self) -> Result<bool, StoreError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                let mut conn = self.store.pool.acquire().await?.detach();
                sqlx::raw_sql(KEEPALIVE).execute(&mut conn).await?;
                self.conn.insert(conn)
            }
        };
        if self.leading {
            conn.ping().await?;
            return Ok(true);
        }
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(self.job.lock_key())
            .fetch_one(&mut *conn)
            .await?;
        self.leading = taken;
        Ok(taken)
    }

    /// Gives the job up at once (a node shutting down): another node may take it at its
    /// next look.
    pub async fn resign(&mut self) {
        self.leading = false;
        if let Some(conn) = self.conn.take() {
            // Closing the session releases its locks.
            let _ = conn.close().await;
        }
    }
}
