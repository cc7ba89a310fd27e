//! Group commit: one task takes every pending post, stores them in one transaction (one
//! durable commit), and only then acknowledges each and tells the bus.

use std::collections::HashMap;
use std::sync::Arc;

use renkei_core::Uuid;
use renkei_core::conversation::{Event, EventKind};
use renkei_store::{Post, PostRefusal, Posted, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::bus::{Bus, Signal};
use super::frames::ServerFrame;
use super::hub::Hub;

/// Most posts committed together.
const MAX_BATCH: usize = 512;

/// The answer to one post.
pub type PostResult = Result<Result<Posted, PostRefusal>, StoreError>;

struct Job {
    post: Post,
    reply: oneshot::Sender<PostResult>,
}

/// The handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task.
    pub fn start(store: Store, hub: Arc<Hub>, bus: Arc<dyn Bus>) -> Writer {
        let (tx, rx) = mpsc::channel(16_384);
        tokio::spawn(run(store, hub, bus, rx));
        Writer { jobs: tx }
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

async fn run(store: Store, hub: Arc<Hub>, bus: Arc<dyn Bus>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("renkei_message_batch_size").record(batch.len() as f64);
        let posts: Vec<Post> = batch.iter().map(|j| j.post.clone()).collect();
        match store.post_batch(&posts).await {
            Ok(results) => finish(
                &hub,
                bus.as_ref(),
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
                    finish(&hub, bus.as_ref(), std::iter::once((job, result)));
                }
            }
        }
    }
}

/// Acknowledges each post, remembers new events, and tells the bus how far each
/// conversation got.
fn finish(hub: &Hub, bus: &dyn Bus, done: impl Iterator<Item = (Job, PostResult)>) {
    let mut reached: HashMap<Uuid, i64> = HashMap::new();
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
            );
            let top = reached.entry(m.conversation_id).or_default();
            *top = (*top).max(m.seq);
            metrics::counter!("renkei_messages_posted_total").increment(1);
        }
        let _ = job.reply.send(result);
    }
    for (conversation, seq) in reached {
        bus.publish(Signal::Advanced { conversation, seq });
    }
}
