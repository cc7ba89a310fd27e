//! The forwarder: sends the queue to the server, oldest first, a few instances at a time;
//! removes each one only once the server confirmed it (a resend after a crash is answered as a
//! duplicate, so every instance arrives exactly once); sets aside what the server refuses; and
//! backs off (1 s doubling to 60 s, with jitter) while the server cannot be reached.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::link::{Delivery, Retry, ServerLink};
use crate::spool::{Queued, Spool, SpoolError, now_millis};
use crate::status::{LinkError, LinkState, StatusBook};

/// Instances in flight at once.
const WINDOW: usize = 4;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A look at the queue even without a wake-up (files copied in by hand, a missed signal).
const IDLE_RESCAN: Duration = Duration::from_secs(5);

/// Sends what the intake queues.
pub struct Forwarder {
    pub link: ServerLink,
    pub spool: Arc<Spool>,
    pub book: Arc<StatusBook>,
    pub wake: Arc<Notify>,
}

/// `base` stretched by a random 0–25 %, so that gateways do not retry in step.
fn jittered(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    base + base.mul_f64(f64::from(byte[0]) / 255.0 / 4.0)
}

impl Forwarder {
    /// Runs until the process ends.
    pub async fn run(self) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let spool = self.spool.clone();
            let pending = match tokio::task::spawn_blocking(move || spool.pending()).await {
                Ok(Ok(pending)) => pending,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot read the gateway's queue");
                    tokio::time::sleep(MAX_BACKOFF).await;
                    continue;
                }
                Err(_) => continue,
            };
            if pending.is_empty() {
                self.book.update(|r| {
                    r.state = LinkState::Idle;
                    r.next_attempt_at = None;
                });
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_RESCAN) => {}
                }
                continue;
            }
            self.book.update(|r| r.state = LinkState::Forwarding);
            match self.drain(pending).await {
                Ok(()) => backoff = FIRST_BACKOFF,
                Err(retry) => {
                    let wait = if retry.unauthorized {
                        MAX_BACKOFF
                    } else {
                        jittered(backoff)
                    };
                    tracing::warn!(reason = %retry.reason, retry_in = ?wait, "forwarding paused");
                    self.book.update(|r| {
                        r.state = if retry.unauthorized {
                            LinkState::Unauthorized
                        } else {
                            LinkState::Retrying
                        };
                        r.last_error = Some(LinkError {
                            at: now_millis(),
                            reason: retry.reason.clone(),
                        });
                        r.next_attempt_at = Some(now_millis() + wait.as_millis() as i64);
                    });
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Sends `pending`; stops at the first answer that says "later".
    async fn drain(&self, pending: Vec<Queued>) -> Result<(), Retry> {
        let mut outcomes = futures_util::stream::iter(pending)
            .map(|item| async move {
                let outcome = self.deliver(&item).await;
                (item, outcome)
            })
            .buffered(WINDOW);
        while let Some((item, outcome)) = outcomes.next().await {
            match outcome {
                Delivery::Sent => {
                    self.settle(item, None).await;
                    self.book.update(|r| {
                        r.sent_total += 1;
                        r.last_sent_at = Some(now_millis());
                        r.last_error = None;
                        r.next_attempt_at = None;
                    });
                }
                Delivery::Refused(reason) => {
                    tracing::warn!(instance = %item.name, %reason, "the server refused an instance; set aside");
                    self.settle(item, Some(reason)).await;
                    self.book.update(|r| r.failed_total += 1);
                }
                Delivery::Retry(retry) => return Err(retry),
            }
        }
        Ok(())
    }

    /// Reads and sends one queued instance.
    async fn deliver(&self, item: &Queued) -> Delivery {
        let spool = self.spool.clone();
        let queued = item.clone();
        match tokio::task::spawn_blocking(move || spool.read(&queued)).await {
            Ok(Ok(bytes)) => self.link.send(bytes).await,
            Ok(Err(SpoolError::Seal(e))) => {
                Delivery::Refused(format!("the queued file cannot be opened: {e}"))
            }
            Ok(Err(e)) => Delivery::Retry(Retry {
                reason: format!("cannot read the queue: {e}"),
                unauthorized: false,
            }),
            Err(_) => Delivery::Retry(Retry {
                reason: "reading the queue was interrupted".into(),
                unauthorized: false,
            }),
        }
    }

    /// Removes a sent instance, or sets a refused one aside with its reason.
    async fn settle(&self, item: Queued, refused: Option<String>) {
        let spool = self.spool.clone();
        let done = tokio::task::spawn_blocking(move || match refused {
            None => spool.remove(&item),
            Some(reason) => spool.set_aside(&item, &reason),
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::error!(error = %e, "cannot update the gateway's queue");
        }
    }
}
