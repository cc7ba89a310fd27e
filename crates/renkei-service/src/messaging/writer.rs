//! Group commit: one task takes every pending post, stores them in one transaction (one
//! durable commit), and only then acknowledges each and tells the bus. On SQLite the same task
//! also runs the other frequent writes (marks, session activity) between two commits, so
//! nothing else competes with it for the database's one write lock.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use renkei_core::Uuid;
use renkei_core::conversation::{Event, EventKind, Priority};
use renkei_store::{Backend, Post, PostRefusal, Posted, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::bus::{Bus, Signal};
use super::frames::ServerFrame;
use super::hub::Hub;
use crate::push::fanout::Committed;

/// Where committed messages go for push, once push has started.
pub type PushTap = Arc<OnceLock<mpsc::Sender<Vec<Committed>>>>;

/// Most posts committed together.
const MAX_BATCH: usize = 512;

/// A write this slow is logged (at debug level) with its time, to set against slow deliveries.
pub const SLOW_WRITE: Duration = Duration::from_millis(50);

/// The answer to one post.
pub type PostResult = Result<Result<Posted, PostRefusal>, StoreError>;

struct Job {
    post: Post,
    reply: oneshot::Sender<PostResult>,
}

/// A write handed to the writer task to run between two commits (see [`Writer::exclusive`]).
type Chore = Box<dyn FnOnce(Store) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    chores: mpsc::Sender<Chore>,
    store: Store,
}

impl Writer {
    /// Starts the writer task.
    pub fn start(store: Store, hub: Arc<Hub>, bus: Arc<dyn Bus>, tap: PushTap) -> Writer {
        let (tx, rx) = mpsc::channel(16_384);
        let (chores, chores_rx) = mpsc::channel(64);
        tokio::spawn(run(store.clone(), hub, bus, tap, rx, chores_rx));
        Writer {
            jobs: tx,
            chores,
            store,
        }
    }

    /// Runs `write` so that it never competes with message commits for a write lock. SQLite
    /// has one write lock per database, and a connection that finds it taken polls for it
    /// (sleeping up to 100 ms between tries) while the writer, committing back to back, keeps
    /// winning it; so there the writer task runs `write` itself, between two commits, and the
    /// caller waits in a queue instead. PostgreSQL locks rows, so there it runs here at once.
    /// For writes that happen often (marks, session activity), not for a user's one action.
    pub async fn exclusive<T, F, Fut>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Store) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        if self.store.backend() == Backend::Postgres {
            return write(self.store.clone()).await;
        }
        let (reply, answer) = oneshot::channel();
        let chore: Chore = Box::new(move |store| {
            Box::pin(async move {
                let _ = reply.send(write(store).await);
            })
        });
        let stopped = || StoreError::Config("the message writer has stopped".into());
        self.chores.send(chore).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Queues a post; posts queued in order are stored in that order. The receiver resolves
    /// once it is durable (or refused).
    pub async fn enqueue(&self, post: Post) -> Result<oneshot::Receiver<PostResult>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { post, reply })
            .await
            .map_err(|_| StoreError::Config("the message writer has stopped".into()))?;
        Ok(answer)
    }
}

async fn run(
    store: Store,
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
    tap: PushTap,
    mut jobs: mpsc::Receiver<Job>,
    mut chores: mpsc::Receiver<Chore>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Chores waiting go first, a batch of posts after: under a steady stream of posts
        // neither starves the other.
        while let Ok(chore) = chores.try_recv() {
            run_chore(&store, chore).await;
        }
        let first = tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => job,
                None => return,
            },
            Some(chore) = chores.recv() => {
                run_chore(&store, chore).await;
                continue;
            }
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("renkei_message_batch_size").record(batch.len() as f64);
        let posts: Vec<Post> = batch.iter().map(|j| j.post.clone()).collect();
        let started = Instant::now();
        let stored = store.post_batch(&posts).await;
        let took = started.elapsed();
        metrics::histogram!("renkei_message_commit_seconds").record(took.as_secs_f64());
        if took >= SLOW_WRITE {
            tracing::debug!(
                ms = took.as_millis() as u64,
                size = batch.len(),
                "slow message commit"
            );
        }
        match stored {
            Ok(results) => finish(
                &hub,
                bus.as_ref(),
                &tap,
                batch.drain(..).zip(results.into_iter().map(Ok)),
            ),
            Err(e) => {
                // One bad post must not sink the others: retry each on its own.
                tracing::warn!(error = %e, size = batch.len(), "batched commit failed; posting one by one");
                for job in batch.drain(..) {
                    let result = store
                        .post_batch(std::slice::from_ref(&job.post))
                        .await
                        .map(|mut r| r.remove(0));
                    finish(&hub, bus.as_ref(), &tap, std::iter::once((job, result)));
                }
            }
        }
    }
}

/// Runs one chore; one this slow is logged (at debug level), as slow commits are.
async fn run_chore(store: &Store, chore: Chore) {
    let started = Instant::now();
    chore(store.clone()).await;
    let took = started.elapsed();
    metrics::histogram!("renkei_writer_chore_seconds").record(took.as_secs_f64());
    if took >= SLOW_WRITE {
        tracing::debug!(
            ms = took.as_millis() as u64,
            "slow write in the writer's lane"
        );
    }
}

/// Calls `flush` on `owner` every `every` (each call finished before the next), for as long as
/// anyone else holds the owner: the task of a coalescer that writes through the lane.
pub fn flush_every<T, F, Fut>(owner: &Arc<T>, every: Duration, flush: F)
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let owner = Arc::downgrade(owner);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(owner) = owner.upgrade() else {
                return;
            };
            flush(owner).await;
        }
    });
}

/// Acknowledges each post, remembers new events, tells the bus how far each conversation
/// got, and hands the new messages to push (never waiting on it).
fn finish(hub: &Hub, bus: &dyn Bus, tap: &PushTap, done: impl Iterator<Item = (Job, PostResult)>) {
    let mut reached: HashMap<Uuid, i64> = HashMap::new();
    let push = tap.get();
    let mut committed = Vec::new();
    let at = Instant::now();
    for (job, result) in done {
        if let Ok(Ok(posted)) = &result
            && !posted.duplicate
        {
            let m = &posted.message;
            let event = Event {
                conversation_id: m.conversation_id,
                seq: m.seq,
                kind: EventKind::MessageCreated,
                actor_id: Some(m.sender_id),
                at: m.created_at,
                message: Some(m.clone()),
                data: serde_json::Value::Object(Default::default()),
            };
            hub.remember(
                m.conversation_id,
                m.seq,
                ServerFrame::Event { event: &event }.text(),
                at,
            );
            let top = reached.entry(m.conversation_id).or_default();
            *top = (*top).max(m.seq);
            metrics::counter!("renkei_messages_posted_total").increment(1);
            if push.is_some() {
                committed.push(Committed {
                    conversation_id: m.conversation_id,
                    seq: m.seq,
                    sender_id: m.sender_id,
                    urgent: m.priority == Priority::Urgent,
                    mentions: m.mentions.clone(),
                    at,
                });
            }
        }
        let _ = job.reply.send(result);
    }
    for (conversation, seq) in reached {
        bus.publish(Signal::Advanced { conversation, seq });
    }
    if let Some(push) = push
        && !committed.is_empty()
    {
        let n = committed.len() as u64;
        if push.try_send(committed).is_err() {
            metrics::counter!("renkei_push_queue_dropped_total").increment(n);
        }
    }
}
