//! Sign-in attempts per client address in fixed windows, counted in the database so that
//! every node behind a load balancer enforces one limit.

use renkei_core::clock::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError};

/// An address's attempts in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressWindow {
    /// Attempts counted in the window, the one just counted included.
    pub attempts: i64,
    /// When the window began.
    pub started_at: Timestamp,
}

impl Store {
    /// Counts one attempt from `address` at `now`: in its window when that began less than
    /// `window_ms` ago, else in a new one starting now. One statement, atomic on both
    /// databases.
    pub async fn count_address_attempt(
        &self,
        address: &str,
        now: Timestamp,
        window_ms: i64,
    ) -> Result<AddressWindow, StoreError> {
        let row = sqlx::query(
            "INSERT INTO address_attempts (address, window_start, attempts) VALUES ($1, $2, 1)
             ON CONFLICT (address) DO UPDATE SET
                 attempts = CASE WHEN address_attempts.window_start <= $3 THEN 1
                                 ELSE address_attempts.attempts + 1 END,
                 window_start = CASE WHEN address_attempts.window_start <= $3 THEN $2
                                     ELSE address_attempts.window_start END
             RETURNING attempts, window_start",
        )
        .bind(address)
        .bind(now.millis())
        .bind(now.millis() - window_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(AddressWindow {
            attempts: row.try_get("attempts")?,
            started_at: Timestamp(row.try_get("window_start")?),
        })
    }

    /// Forgets the windows that began before `before`; returns how many.
    pub async fn forget_address_attempts(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM address_attempts WHERE window_start < $1")
            .bind(before.millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
