//! The Web Push notifier: an actor that takes alerts from a bounded queue (a full queue
//! drops and counts, never blocks chat), gathers them for a few milliseconds, finds each
//! user's subscriptions (one query per gathered batch; users' organizations are remembered,
//! since a user never changes organization), and sends to each with limited concurrency on
//! the push lane ([`Lane`]), retrying as the push service asks.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::org::PushPreview;
use renkei_store::{PushSubscription, Store};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::endpoint_allow;
use super::lane::Lane;
use super::marks::{Marks, Pushed};
use super::payload;
use super::sender::{Outcome, Request, Sender};
use crate::notify::{Alert, Notifier};

/// Alerts waiting to be sent; beyond this they are dropped (and counted).
const QUEUE: usize = 16_384;
/// Alerts taken together for one subscription lookup.
const MAX_BATCH: usize = 512;
/// How long alerts are gathered after the first before one lookup: at chat rates the writer
/// commits every few milliseconds, and one lookup per commit kept the database busy at normal
/// priority (hundreds of queries a second) while chat waited for it.
const GATHER: Duration = Duration::from_millis(20);
/// Users whose organization is remembered; past this the memory starts over.
const MAX_KNOWN_ORGS: usize = 200_000;
/// Pushes in flight at once.
const CONCURRENCY: usize = 32;
/// Tries of one push to one subscription.
const MAX_TRIES: u32 = 5;
/// The first wait between tries (doubling), when the service names none.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait honoured; a service asking for more gets the push marked failing.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A subscription failing this long is dropped.
pub const FAILING_DROP_AFTER_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long an organization's preview policy is trusted before it is read again.
const POLICY_TTL: Duration = Duration::from_secs(60);

/// Counts a push's result under `renkei_push_sent_total{result}`.
fn count(result: &'static str) {
    metrics::counter!("renkei_push_sent_total", "result" => result).increment(1);
}

struct Queued {
    alert: Alert,
    since: Instant,
}

/// The notifier the services call; cheap to clone behind an `Arc`.
pub struct WebPush {
    queue: mpsc::Sender<Queued>,
}

impl WebPush {
    /// Starts the dispatcher task and the push lane it sends on.
    pub fn start(
        store: Store,
        sender: Sender,
        allow: Vec<String>,
        marks: Marks,
    ) -> std::io::Result<WebPush> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let dispatcher = Arc::new(Dispatcher {
            store,
            sender,
            allow,
            marks,
            lane: Lane::start()?,
            limit: Arc::new(Semaphore::new(CONCURRENCY)),
            policies: Mutex::new(HashMap::new()),
            orgs: Mutex::new(HashMap::new()),
        });
        tokio::spawn(dispatcher.run(rx));
        Ok(WebPush { queue: tx })
    }
}

impl Notifier for WebPush {
    fn notify(&self, alert: Alert) {
        self.notify_since(alert, Instant::now());
    }

    fn notify_since(&self, alert: Alert, since: Instant) {
        if self.queue.try_send(Queued { alert, since }).is_err() {
            metrics::counter!("renkei_push_queue_dropped_total").increment(1);
        }
    }
}

struct Dispatcher {
    store: Store,
    sender: Sender,
    allow: Vec<String>,
    marks: Marks,
    lane: Lane,
    limit: Arc<Semaphore>,
    policies: Mutex<HashMap<Uuid, (PushPreview, Instant)>>,
    /// Each user's organization, as read once.
    orgs: Mutex<HashMap<Uuid, Uuid>>,
}

impl Dispatcher {
    async fn run(self: Arc<Self>, mut rx: mpsc::Receiver<Queued>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.recv().await {
            batch.push(first);
            tokio::time::sleep(GATHER).await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(q) => batch.push(q),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.clone().dispatch(std::mem::take(&mut batch)).await {
                tracing::warn!(error = %e, "push dispatch failed");
            }
        }
    }

    async fn dispatch(self: Arc<Self>, batch: Vec<Queued>) -> Result<(), renkei_store::StoreError> {
        let mut users: Vec<Uuid> = batch.iter().map(|q| q.alert.user_id).collect();
        users.sort();
        users.dedup();
        let mut subs: HashMap<Uuid, Vec<PushSubscription>> = HashMap::new();
        for sub in self.store.push_subscriptions_of_users(&users).await? {
            subs.entry(sub.user_id).or_default().push(sub);
        }
        let orgs = self.orgs_of(&users).await?;
        // Texts under the `sender` policy, per message: one lookup each.
        let mut texts: HashMap<(Uuid, i64), String> = HashMap::new();
        for Queued { alert, since } in batch {
            let Some(targets) = subs.get(&alert.user_id) else {
                continue;
            };
            let preview = match orgs.get(&alert.user_id) {
                Some(org) => self.preview(*org).await,
                None => PushPreview::None,
            };
            let text = match preview {
                PushPreview::None => payload::text(preview, None),
                PushPreview::Sender => {
                    let key = (alert.conversation_id, alert.seq);
                    match texts.get(&key) {
                        Some(text) => text.clone(),
                        None => {
                            let found = self
                                .store
                                .push_preview_names(key.0, key.1)
                                .await
                                .ok()
                                .flatten();
                            let text = payload::text(
                                preview,
                                found.as_ref().map(|(s, t)| (s.as_str(), t.as_deref())),
                            );
                            texts.insert(key, text.clone());
                            text
                        }
                    }
                }
            };
            let body: Arc<[u8]> =
                payload::payload(alert.kind, alert.conversation_id, alert.seq, &text).into();
            for sub in targets {
                // Waiting here for a free place holds the whole batch back: a slow push
                // service fills the queue, which then drops (and counts) instead of piling up.
                let Ok(permit) = self.limit.clone().acquire_owned().await else {
                    return Ok(());
                };
                let me = self.clone();
                let (sub, alert, body) = (sub.clone(), alert.clone(), body.clone());
                self.lane.spawn(async move {
                    me.deliver(sub, alert, body, since, permit).await;
                });
            }
        }
        Ok(())
    }

    /// The organization of each of `users`, reading only those not remembered yet.
    async fn orgs_of(
        &self,
        users: &[Uuid],
    ) -> Result<HashMap<Uuid, Uuid>, renkei_store::StoreError> {
        let mut found = HashMap::with_capacity(users.len());
        let missing: Vec<Uuid> = {
            let known = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
            users
                .iter()
                .filter(|u| match known.get(u) {
                    Some(org) => {
                        found.insert(**u, *org);
                        false
                    }
                    None => true,
                })
                .copied()
                .collect()
        };
        if missing.is_empty() {
            return Ok(found);
        }
        let read = self.store.orgs_of_users(&missing).await?;
        let mut known = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() + read.len() > MAX_KNOWN_ORGS {
            known.clear();
        }
        for (user, org) in read {
            known.insert(user, org);
            found.insert(user, org);
        }
        Ok(found)
    }

    /// The push preview policy of `org`, cached for a minute.
    async fn preview(&self, org: Uuid) -> PushPreview {
        if let Some(p) = self.cached_preview(org) {
            return p;
        }
        let p = match self.store.org(org).await {
            Ok(o) => o.policy.push_preview,
            Err(_) => PushPreview::None,
        };
        self.policies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(org, (p, Instant::now()));
        p
    }

    fn cached_preview(&self, org: Uuid) -> Option<PushPreview> {
        let cache = self.policies.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&org)
            .filter(|(_, at)| at.elapsed() < POLICY_TTL)
            .map(|(p, _)| *p)
    }

    /// Sends one push to one subscription, with its retries; only one try at a time holds a
    /// place among the concurrent pushes (waits between tries do not).
    async fn deliver(
        &self,
        sub: PushSubscription,
        alert: Alert,
        body: Arc<[u8]>,
        since: Instant,
        first: OwnedSemaphorePermit,
    ) {
        let Ok(url) = endpoint_allow::check(&sub.endpoint, &self.allow) else {
            count("refused");
            return;
        };
        let topic = payload::topic(alert.conversation_id);
        let req = Request {
            ttl_seconds: alert.ttl_seconds,
            urgency: payload::urgency(alert.kind),
            topic: &topic,
            payload: &body,
        };
        let mut wait = FIRST_BACKOFF;
        let mut held = Some(first);
        for attempt in 1..=MAX_TRIES {
            let permit = match held.take() {
                Some(p) => p,
                None => match self.limit.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let outcome = self.sender.send(&sub, &url, &req).await;
            drop(permit);
            match outcome {
                Outcome::Accepted => {
                    count("accepted");
                    metrics::histogram!("renkei_push_latency_seconds")
                        .record(since.elapsed().as_secs_f64());
                    self.marks.pushed(Pushed {
                        subscription: sub.id,
                        conversation: alert.conversation_id,
                        user: alert.user_id,
                        seq: alert.seq,
                    });
                    return;
                }
                Outcome::Gone => {
                    count("gone");
                    self.forget(sub.id, "forgetting a gone subscription failed")
                        .await;
                    return;
                }
                Outcome::Failed => {
                    count("failed");
                    self.failing(&sub).await;
                    return;
                }
                Outcome::Retry(asked) => {
                    let pause = asked.unwrap_or(wait);
                    if attempt == MAX_TRIES || pause > MAX_WAIT {
                        count("gave_up");
                        self.failing(&sub).await;
                        return;
                    }
                    count("retried");
                    tokio::time::sleep(pause).await;
                    wait = wait.saturating_mul(2);
                }
            }
        }
    }

    /// Runs database work on the main runtime, where the store's connections live.
    async fn on_main<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        self.lane.main().spawn(work).await.ok()
    }

    /// Removes a subscription; `why` is logged if that fails.
    async fn forget(&self, id: Uuid, why: &'static str) {
        let store = self.store.clone();
        let done = self
            .on_main(async move { store.forget_push_subscription(id).await })
            .await;
        if let Some(Err(e)) = done {
            tracing::warn!(error = %e, "{why}");
        }
    }

    /// Notes a failure; a subscription failing for a week is dropped.
    async fn failing(&self, sub: &PushSubscription) {
        let (store, id, now) = (self.store.clone(), sub.id, Timestamp::now());
        let marked = self
            .on_main(async move { store.mark_push_failing(id, now).await })
            .await;
        match marked {
            Some(Ok(Some(since))) if now.millis() - since.millis() > FAILING_DROP_AFTER_MS => {
                count("dropped");
                self.forget(id, "dropping a failing subscription failed")
                    .await;
            }
            Some(Err(e)) => tracing::warn!(error = %e, "marking a failing subscription failed"),
            _ => {}
        }
    }
}
