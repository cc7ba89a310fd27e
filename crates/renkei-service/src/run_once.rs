//! Background work that must run on one node at a time: each round runs only on the node that
//! leads its job ([`renkei_store::leadership`]); the others look every few seconds whether
//! the leader is gone, and the first to see it takes over.

use std::future::Future;
use std::time::Duration;

use renkei_store::Store;
use renkei_store::leadership::{Job, Leadership};
use tokio::time::{Instant, MissedTickBehavior};

/// Longest wait between two looks at who leads: a dead leader is replaced within about this
/// (plus the time PostgreSQL takes to notice, see `leadership::KEEPALIVE`).
pub const MAX_LOOK: Duration = Duration::from_secs(15);

/// Runs `work` every `period` on the node leading `job`, at once when it takes the lead (to
/// catch up on what was due while no node ran it). Never returns; a round that was not this
/// node's is skipped. Each run counts in `renkei_job_runs_total{job}`, and
/// `renkei_job_leader{job}` is 1 on the leading node.
pub async fn every<F, Fut>(store: Store, job: Job, period: Duration, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut leadership = Leadership::new(store, job);
    let mut tick = tokio::time::interval(period.min(MAX_LOOK));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_run: Option<Instant> = None;
    loop {
        let at = tick.tick().await;
        let leading = match leadership.lead().await {
            Ok(leading) => leading,
            Err(e) => {
                tracing::warn!(job = job.name(), error = %e, "cannot tell which node leads; not running it");
                false
            }
        };
        if leading != last_run.is_some() {
            if leading {
                tracing::info!(job = job.name(), "this node leads the job now");
            } else {
                tracing::info!(job = job.name(), "this node no longer leads the job");
            }
        }
        metrics::gauge!("renkei_job_leader", "job" => job.name()).set(f64::from(u8::from(leading)));
        if !leading {
            last_run = None;
            continue;
        }
        if last_run.is_some_and(|last| at.duration_since(last) < period) {
            continue;
        }
        last_run = Some(at);
        work().await;
        metrics::counter!("renkei_job_runs_total", "job" => job.name()).increment(1);
    }
}
