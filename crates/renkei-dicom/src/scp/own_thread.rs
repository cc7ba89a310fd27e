//! Each association on a thread of its own, with a single-threaded runtime: its socket reads
//! and the sink's blocking work (de-identification, sealing, the disk flush) run there, so an
//! instance is never handed between threads on its way to the disk. A TLS handshake runs there
//! too.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};

use super::association::{self, Services};

thread_local! {
    /// Set on an association's own thread.
    static ASSOCIATION_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the caller runs on an association's own thread, where blocking work may run inline
/// (it holds up that association only). Elsewhere it belongs in the blocking pool.
pub fn may_block_here() -> bool {
    ASSOCIATION_THREAD.with(Cell::get)
}

/// Runs blocking `work` where it may block: inline on an association's own thread, in the
/// runtime's blocking pool elsewhere. None when the pool lost the work (a panic).
pub async fn run_blocking<T, F>(work: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if may_block_here() {
        return Some(work());
    }
    tokio::task::spawn_blocking(work).await.ok()
}

/// Serves the association on `stream` on a new thread; resolves when it has ended.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    services: Arc<Services>,
    stop: watch::Receiver<bool>,
) {
    let stream = match stream.into_std() {
        Ok(stream) => stream,
        Err(error) => return tracing::warn!(%peer, %error, "cannot hand the connection over"),
    };
    let (done, ended) = oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("dicom-association".into())
        .spawn(move || {
            ASSOCIATION_THREAD.with(|flag| flag.set(true));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(async move {
                    let timeout = services.config.read_timeout;
                    match TcpStream::from_std(stream) {
                        Ok(stream) => {
                            let transport = services.config.transport.clone();
                            if let Some(conn) = transport.open(stream, peer, timeout).await {
                                association::run(conn, peer, services, stop).await;
                            }
                        }
                        Err(error) => tracing::warn!(%peer, %error, "cannot take the connection"),
                    }
                }),
                Err(error) => {
                    tracing::error!(%peer, %error, "cannot start an association's runtime")
                }
            }
            let _ = done.send(());
        });
    match spawned {
        // The sender goes when the thread ends, however it ends.
        Ok(_) => {
            let _ = ended.await;
        }
        Err(error) => tracing::error!(%peer, %error, "cannot start an association's thread"),
    }
}
