//! Group commit of the DICOM index: instances that arrive together on several associations are
//! indexed in one transaction, so they share one disk flush; each sender is answered only after
//! that transaction committed.

use renkei_store::{IndexRequest, Indexed, Store};
use tokio::sync::{mpsc, oneshot};

/// Most instances indexed in one transaction.
const MAX_BATCH: usize = 64;

type Job = (IndexRequest, oneshot::Sender<Result<Indexed, String>>);

/// The handle of the index writer task.
#[derive(Clone)]
pub struct IndexWriter {
    jobs: mpsc::Sender<Job>,
}

impl IndexWriter {
    /// Starts the writer task over `store` (call within a Tokio runtime).
    pub fn start(store: Store) -> IndexWriter {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write(store, queue));
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

/// Takes whatever is waiting (up to a batch), commits it in one transaction, answers each.
async fn write(store: Store, mut queue: mpsc::Receiver<Job>) {
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
        match store.index_instances(&requests).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(message.clone()));
                }
            }
        }
    }
}
