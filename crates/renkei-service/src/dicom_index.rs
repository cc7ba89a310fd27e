//! Group commit of the DICOM index: instances that arrive together on several associations are
//! indexed in one transaction, so they share one disk flush; each sender is answered once the
//! transaction holding its instance is durable.
//!
//! On an SQLite file the writer is a thread of its own, with its own connection, so a batch's
//! statements cost no hand-off between threads; elsewhere (PostgreSQL, memory) it is a task
//! using the pool.

use renkei_store::{IndexRequest, Indexed, SqliteIndexer, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Most instances indexed in one transaction.
const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<Indexed, String>>;
type Job = (IndexRequest, Reply);

/// The handle of the index writer.
#[derive(Clone)]
pub struct IndexWriter {
    jobs: mpsc::Sender<Job>,
}

impl IndexWriter {
    /// Starts the writer over `store` (call within a Tokio runtime).
    pub fn start(store: Store) -> IndexWriter {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        match store.sqlite_indexer() {
            Some(Ok(indexer)) => {
                let spawned = std::thread::Builder::new()
                    .name("dicom-index".into())
                    .spawn(move || write_here(indexer, queue));
                if let Err(error) = spawned {
                    // The queue went with the thread: senders are told the writer stopped.
                    tracing::error!(%error, "could not start the DICOM index writer");
                }
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "no connection of its own for the DICOM index; it uses the pool");
                tokio::spawn(write_on_pool(store, queue));
            }
            None => {
                tokio::spawn(write_on_pool(store, queue));
            }
        }
        IndexWriter { jobs }
    }

    /// Sends one instance to be indexed, from a blocking thread (it waits while the queue is
    /// full, so never call it from async code); the answer comes with [`PendingIndex::answer`].
    pub fn submit_blocking(&self, request: IndexRequest) -> PendingIndex {
        let (reply, answer) = oneshot::channel();
        PendingIndex::after(self.jobs.blocking_send((request, reply)), answer)
    }

    /// [`IndexWriter::submit_blocking`] from async code.
    pub async fn submit(&self, request: IndexRequest) -> PendingIndex {
        let (reply, answer) = oneshot::channel();
        PendingIndex::after(self.jobs.send((request, reply)).await, answer)
    }
}

const STOPPED: &str = "the index writer stopped";

/// An instance sent to the index writer, its answer still to come.
pub struct PendingIndex(Result<oneshot::Receiver<Result<Indexed, String>>, String>);

impl PendingIndex {
    /// The answer to come once a job was sent (or not).
    fn after<T>(
        sent: Result<(), mpsc::error::SendError<T>>,
        answer: oneshot::Receiver<Result<Indexed, String>>,
    ) -> PendingIndex {
        PendingIndex(sent.map(|()| answer).map_err(|_| STOPPED.to_owned()))
    }

    /// How the instance was indexed; durable when Ok.
    pub async fn answer(self) -> Result<Indexed, String> {
        self.0?.await.map_err(|_| STOPPED.to_owned())?
    }
}

/// The first job and whatever else is waiting, up to a batch.
fn batch_from(first: Job, queue: &mut mpsc::Receiver<Job>) -> (Vec<IndexRequest>, Vec<Reply>) {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    metrics::histogram!("renkei_dicom_index_batch").record(batch.len() as f64);
    batch.into_iter().unzip()
}

/// Answers each sender of a batch.
fn answer(replies: Vec<Reply>, indexed: Result<Vec<Indexed>, StoreError>) {
    match indexed {
        Ok(results) => {
            for (reply, indexed) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(indexed));
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }
}

/// The writer thread on an SQLite file: takes what is waiting, commits it durably, answers.
fn write_here(mut indexer: SqliteIndexer, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let (requests, replies) = batch_from(first, &mut queue);
        answer(replies, indexer.index(&requests));
    }
}

/// The writer task elsewhere: the same on a pooled connection.
async fn write_on_pool(store: Store, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let (requests, replies) = batch_from(first, &mut queue);
        answer(replies, store.index_instances(&requests).await);
    }
}
