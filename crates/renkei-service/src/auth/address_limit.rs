//! A per-address limit on sign-in attempts: a fixed one-minute window per IP, counted in the
//! database so every node behind a load balancer enforces the same limit.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use renkei_core::clock::Timestamp;
use renkei_store::Store;

use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// The window attempts are counted in.
const WINDOW: Duration = Duration::from_secs(60);

/// Counts attempts per address and refuses those over the limit.
#[derive(Debug)]
pub struct AddressLimit {
    store: Store,
    per_minute: u32,
    /// When this node last dropped finished windows.
    swept: Mutex<Instant>,
}

impl AddressLimit {
    /// A limiter allowing `per_minute` attempts per address per minute, kept in `store`.
    pub fn new(store: Store, per_minute: u32) -> Self {
        AddressLimit {
            store,
            per_minute,
            swept: Mutex::new(Instant::now()),
        }
    }

    /// Counts an attempt from `ip`; over the limit, `rate_limited` says how long to wait.
    pub async fn check(&self, ip: IpAddr) -> ServiceResult<()> {
        let now = Timestamp::now();
        let window_ms = WINDOW.as_millis() as i64;
        self.sweep(now, window_ms).await;
        let window = self
            .store
            .count_address_attempt(&ip.to_string(), now, window_ms)
            .await
            .or_service("rate_limited")?;
        if window.attempts > i64::from(self.per_minute) {
            let left_ms = (window.started_at.millis() + window_ms - now.millis()).max(0);
            return Err(ServiceError::new(
                Kind::TooMany,
                "rate_limited",
                "too many attempts from this address; wait a minute",
            )
            .retry_after(left_ms / 1000 + 1));
        }
        Ok(())
    }

    /// Drops finished windows, at most once a window per node.
    async fn sweep(&self, now: Timestamp, window_ms: i64) {
        {
            let mut swept = self.swept.lock().unwrap_or_else(|p| p.into_inner());
            if swept.elapsed() < WINDOW {
                return;
            }
            *swept = Instant::now();
        }
        if let Err(e) = self
            .store
            .forget_address_attempts(Timestamp(now.millis() - window_ms))
            .await
        {
            tracing::warn!(error = %e, "could not drop finished sign-in windows");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_over_the_limit_per_address() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("renkei.db"))
            .await
            .unwrap();
        let limiter = AddressLimit::new(store.clone(), 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(limiter.check(a).await.is_ok());
        assert!(limiter.check(a).await.is_ok());
        let refused = limiter.check(a).await.unwrap_err();
        assert_eq!(refused.code, "rate_limited");
        assert!(refused.retry_after.is_some_and(|s| (1..=61).contains(&s)));
        assert!(limiter.check(b).await.is_ok());
        let other_node = AddressLimit::new(store, 2);
        assert!(
            other_node.check(a).await.is_err(),
            "another limiter on the same database counts the same attempts"
        );
    }
}
