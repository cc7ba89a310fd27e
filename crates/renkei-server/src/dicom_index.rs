//! Group commit of the DICOM index: instances that arrive together on several associations are
//! indexed in one transaction, and transactions committed together share one flush of the
//! database log; each sender is answered only after the flush that made its instance durable.
//!
//! The writer commits a batch (on SQLite without flushing the log) and goes on with the next
//! while the flusher flushes the log once for every batch committed before it started.

use renkei_store::{IndexRequest, Indexed, Store};
use tokio::sync::{mpsc, oneshot};

/// Most instances indexed in one transaction.
const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<Indexed, String>>;
type Job = (IndexRequest, Reply);
/// A committed batch waiting for its flush: each reply with its answer.
type Committed = Vec<(Reply, Indexed)>;

/// The handle of the index writer task.
#[derive(Clone)]
pub struct IndexWriter {
    jobs: mpsc::Sender<Job>,
}

impl IndexWriter {
    /// Starts the writer and flusher tasks over `store` (call within a Tokio runtime).
    pub fn start(store: Store) -> IndexWriter {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let (committed, unflushed) = mpsc::unbounded_channel();
        tokio::spawn(write(store.clone(), queue, committed));
        tokio::spawn(flush(store, unflushed));
        IndexWriter { jobs }
    }

    /// Indexes one instance; durable when this returns Ok.
    pub async fn index(&self, request: IndexRequest) -> Result<Indexed, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((request, reply))
            .await
            .map_err(|_| "the index writer stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the index writer stopped".to_owned())?
    }
}

/// Takes whatever is waiting (up to a batch), commits it in one transaction, hands it to the
/// flusher (or answers each with the error).
async fn write(
    store: Store,
    mut queue: mpsc::Receiver<Job>,
    committed: mpsc::UnboundedSender<Committed>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        metrics::histogram!("renkei_dicom_index_batch").record(requests.len() as f64);
        match store.index_instances_unflushed(&requests).await {
            Ok(results) => {
                // The flusher ends only after the writer: it is always there to take this.
                let _ = committed.send(replies.into_iter().zip(results).collect());
            }
            Err(e) => answer_error(replies, &e.to_string()),
        }
    }
}

/// Flushes the log once for every batch committed before the flush began, then answers them.
async fn flush(store: Store, mut unflushed: mpsc::UnboundedReceiver<Committed>) {
    while let Some(first) = unflushed.recv().await {
        let mut batches = vec![first];
        while let Ok(batch) = unflushed.try_recv() {
            batches.push(batch);
        }
        let flushed = store.flush_log().await;
        for (reply, indexed) in batches.into_iter().flatten() {
            let _ = reply.send(match &flushed {
                Ok(()) => Ok(indexed),
                Err(e) => Err(e.to_string()),
            });
        }
    }
}

fn answer_error(replies: Vec<Reply>, message: &str) {
    for reply in replies {
        let _ = reply.send(Err(message.to_owned()));
    }
}
