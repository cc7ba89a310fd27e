//! Whether this node can serve: its database answers, and it is not draining for a shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::Services;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// How long readiness waits for the database before answering that it is unavailable (a load
/// balancer's check gives up after a few seconds).
const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// Whether this node is draining: asked to stop, it answers readiness checks 503 `draining`
/// so the load balancer sends new work elsewhere, while it finishes what it serves.
#[derive(Debug, Clone, Default)]
pub struct Drain(Arc<AtomicBool>);

impl Drain {
    /// Starts draining (for good: a draining node only stops).
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Succeeds when this node is not draining and its database answers a trivial query in time;
/// 503 `draining` or `database_unavailable` otherwise.
pub async fn ready(services: &Services, drain: &Drain) -> ServiceResult<()> {
    if drain.is_draining() {
        return Err(ServiceError::new(
            Kind::Unavailable,
            "draining",
            "this node is shutting down; new work goes to the other nodes",
        ));
    }
    match tokio::time::timeout(DATABASE_WAIT, services.store.ping()).await {
        Ok(answered) => answered.or_service("database_unavailable"),
        Err(_) => Err(ServiceError::new(
            Kind::Unavailable,
            "database_unavailable",
            "the database did not answer in time; try again",
        )
        .retry_after(5)),
    }
}
