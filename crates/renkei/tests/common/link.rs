//! A TCP link between a node and a service (NATS) that a test can partition: while cut, every
//! byte either way is swallowed, as on a network that drops packets (connections stay open,
//! new ones are taken and hear nothing); once healed, the connections that lived through the
//! partition are closed, as their ends would after missing pings, and new ones pass again.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Whether the link is cut, and how many times it was healed (a connection opened before a
/// heal ends with it).
#[derive(Clone, Copy, Default)]
struct State {
    cut: bool,
    heals: u64,
}

/// A link listening on loopback and forwarding to `127.0.0.1:<upstream>`; stops when dropped.
pub struct Link {
    pub port: u16,
    state: Arc<watch::Sender<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Link {
    /// A link to the service on `upstream` (call within a Tokio runtime).
    pub async fn start(upstream: u16) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(watch::channel(State::default()).0);
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((near, _)) = listener.accept().await {
                let Ok(far) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                tokio::spawn(carry(near, far, shared.subscribe()));
            }
        });
        Link { port, state, task }
    }

    /// Its address as a NATS URL.
    pub fn nats_url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Swallows everything from now on, both ways.
    pub fn cut(&self) {
        self.state.send_modify(|s| s.cut = true);
    }

    /// Ends the connections that lived through the cut and lets new ones through.
    pub fn heal(&self) {
        self.state.send_modify(|s| {
            s.cut = false;
            s.heals += 1;
        });
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Carries one connection both ways until either end closes it or the link is healed.
async fn carry(near: TcpStream, far: TcpStream, state: watch::Receiver<State>) {
    let (near_read, near_write) = near.into_split();
    let (far_read, far_write) = far.into_split();
    tokio::select! {
        _ = pump(near_read, far_write, state.clone()) => {}
        _ = pump(far_read, near_write, state) => {}
    }
}

/// Copies `from` to `to`, dropping what arrives while the link is cut; returns when `from`
/// ends, `to` fails, or the link is healed.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut state: watch::Receiver<State>,
) {
    let born = state.borrow().heals;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            read = from.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if !state.borrow().cut && to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            changed = state.changed() => {
                if changed.is_err() || state.borrow().heals != born {
                    return;
                }
            }
        }
    }
}
