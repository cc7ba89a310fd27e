//! Sessions' activity, coalesced: a request or socket notes in memory when its session was
//! active, and one task writes every session noted since in one statement a second, in the
//! message writer's lane, so no request and no socket waits on a database write to be seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_store::StoreError;

use crate::messaging::writer::{Writer, flush_every};

/// How often noted activity is written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Activity noted and not yet written, by session.
pub struct SessionTouches {
    writer: Writer,
    pending: Mutex<HashMap<Uuid, Timestamp>>,
}

impl SessionTouches {
    /// A coalescer that its owner flushes (tests).
    pub fn new(writer: Writer) -> Arc<SessionTouches> {
        Arc::new(SessionTouches {
            writer,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// A coalescer with its own task that writes what was noted every second.
    pub fn start(writer: Writer) -> Arc<SessionTouches> {
        let touches = Self::new(writer);
        flush_every(&touches, FLUSH_EVERY, |touches| async move {
            if let Err(e) = touches.flush().await {
                tracing::warn!(error = %e, "could not record sessions' activity");
            }
        });
        touches
    }

    /// Notes that `session` was active at `at`; no database write happens here.
    pub fn note(&self, session: Uuid, at: Timestamp) {
        let mut pending = self.lock();
        let seen = pending.entry(session).or_insert(at);
        *seen = (*seen).max(at);
    }

    /// When `session` was last noted active, if that is not written yet.
    pub fn seen(&self, session: Uuid) -> Option<Timestamp> {
        self.lock().get(&session).copied()
    }

    /// Writes what was noted (in one transaction); returns how many sessions moved. What was
    /// noted stays readable through [`SessionTouches::seen`] until it is written; a failed
    /// write leaves it noted for the next flush.
    pub async fn flush(&self) -> Result<u64, StoreError> {
        let batch: Vec<(Uuid, Timestamp)> = self.lock().iter().map(|(k, v)| (*k, *v)).collect();
        if batch.is_empty() {
            return Ok(0);
        }
        let written = batch.clone();
        let moved = self
            .writer
            .exclusive(move |store| async move { store.mark_sessions_seen(&batch).await })
            .await?;
        let mut pending = self.lock();
        for (session, at) in written {
            if pending.get(&session) == Some(&at) {
                pending.remove(&session);
            }
        }
        Ok(moved)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Timestamp>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}
