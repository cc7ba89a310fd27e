//! The accept loop: one thread per association, a bound on how many run at once, and shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dicom_ul::Pdu;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::association::{self, Services};
use super::config::ScpConfig;
use super::error::ScpError;
use super::gatekeeper::Gatekeeper;
use super::negotiate;
use super::own_thread;
use super::pdu;
use super::sink::InstanceSink;

/// Connections refused at once with "local limit exceeded"; past this they are just closed.
const MAX_REFUSALS: usize = 16;
/// How long a refused connection may take to send its A-ASSOCIATE-RQ.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(10);
/// After the grace period, how long aborting associations may take before their tasks end.
const ABORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed accept (out of file descriptors, …) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves DICOM associations on `listener` until `shutdown` resolves.
///
/// Each connection gets its own thread ([`own_thread`]); at most `config.max_associations` run at once, further
/// ones are rejected with A-ASSOCIATE-RJ (transient, local limit exceeded). A failing
/// association never affects the others. When `shutdown` resolves, no new connection is
/// accepted; running associations get `config.shutdown_grace` to finish, then are aborted.
/// Returns an error only for an invalid configuration.
pub async fn serve<F>(
    listener: TcpListener,
    config: ScpConfig,
    gatekeeper: Arc<dyn Gatekeeper>,
    sink: Arc<dyn InstanceSink>,
    shutdown: F,
) -> Result<(), ScpError>
where
    F: Future<Output = ()> + Send,
{
    config.validate()?;
    let services = Arc::new(Services {
        config: Arc::new(config),
        gatekeeper,
        sink,
    });
    let slots = Arc::new(Semaphore::new(services.config.max_associations));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (stop_sender, stop) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if let Ok(slot) = slots.clone().try_acquire_owned() {
                        let services = services.clone();
                        let stop = stop.clone();
                        tasks.spawn(async move {
                            own_thread::serve(stream, peer, services, stop).await;
                            drop(slot);
                        });
                    } else if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                        let config = services.config.clone();
                        let stop = stop.clone();
                        tasks.spawn(async move {
                            refuse(stream, peer, &config, stop).await;
                            drop(refusal);
                        });
                    } else {
                        tracing::warn!(%peer, "too many connections: closed without answer");
                        metrics::counter!("renkei_dicom_associations_total", "result" => "over_limit")
                            .increment(1);
                        drop(stream);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => log_join(joined),
        }
    }
    drop(listener);
    tracing::info!(running = tasks.len(), "SCP shutting down");
    let grace = services.config.shutdown_grace;
    if tokio::time::timeout(grace, drain(&mut tasks))
        .await
        .is_err()
    {
        let _ = stop_sender.send(true);
        if tokio::time::timeout(ABORT_TIMEOUT, drain(&mut tasks))
            .await
            .is_err()
        {
            tasks.abort_all();
            drain(&mut tasks).await;
        }
    }
    Ok(())
}

async fn drain(tasks: &mut JoinSet<()>) {
    while let Some(joined) = tasks.join_next().await {
        log_join(joined);
    }
}

fn log_join(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!("an association task panicked; the server carries on");
    }
}

/// Answers the A-ASSOCIATE-RQ of a connection over the limit with a transient rejection.
async fn refuse(
    stream: TcpStream,
    peer: SocketAddr,
    config: &ScpConfig,
    stop: watch::Receiver<bool>,
) {
    let timeout = config.read_timeout.min(REFUSAL_TIMEOUT);
    let Some(stream) = config.transport.open(stream, peer, timeout).await else {
        return;
    };
    let mut stream = BufReader::new(stream);
    if association::read_request(&mut stream, timeout, stop)
        .await
        .is_ok()
    {
        tracing::warn!(%peer, "association limit reached: rejected");
        metrics::counter!("renkei_dicom_associations_total", "result" => "over_limit").increment(1);
        let rejection = Pdu::AssociationRJ(negotiate::limit_exceeded());
        let _ = pdu::write(&mut stream, &rejection, timeout).await;
    }
    let _ = stream.get_mut().shutdown().await;
}
