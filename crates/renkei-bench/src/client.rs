//! One simulated client: a WebSocket that says hello, waits for `synced`, then sends to its
//! group on a fixed schedule and timestamps every ack and delivery it receives.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::BenchResult;
use crate::ledger::Ledger;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long connecting and catching up may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(60);
/// Read buffer per socket. tungstenite's default (128 KiB) is zero-filled before every read:
/// with thousands of sockets that costs the generator memory and CPU the server should get.
const READ_BUFFER: usize = 8 * 1024;

/// The fields of a server frame the benchmark reads; the rest is skipped.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    client_msg_id: Option<Cow<'a, str>>,
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(borrow, default)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event: Option<IncomingEvent<'a>>,
}

#[derive(Deserialize)]
struct IncomingEvent<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    message: Option<IncomingMessage<'a>>,
}

#[derive(Deserialize)]
struct IncomingMessage<'a> {
    #[serde(borrow, default)]
    client_msg_id: Option<Cow<'a, str>>,
}

/// A client that is connected and synced.
pub struct Connected {
    pub index: usize,
    socket: Socket,
}

/// Opens the socket, says hello without positions, and reads up to `synced`.
pub async fn connect(ws_url: &str, index: usize, token: &str) -> BenchResult<Connected> {
    let work = async {
        // Nagle off: a small frame must not wait for the previous one's TCP acknowledgement.
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true)
                .await
                .map_err(|e| format!("client {index}: connecting: {e}"))?;
        let hello = serde_json::json!({"type": "hello", "token": token, "positions": null});
        socket
            .send(Message::Text(hello.to_string().into()))
            .await
            .map_err(|e| format!("client {index}: hello: {e}"))?;
        loop {
            let text = match socket.next().await {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(f))) => {
                    return Err(format!("client {index}: closed before synced: {f:?}").into());
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("client {index}: {e}").into()),
                None => return Err(format!("client {index}: dropped before synced").into()),
            };
            let frame: Incoming = serde_json::from_str(&text)
                .map_err(|e| format!("client {index}: unreadable frame {text}: {e}"))?;
            match frame.kind.as_ref() {
                "synced" => return BenchResult::Ok(Connected { index, socket }),
                "error" => return Err(format!("client {index}: {text}").into()),
                _ => {}
            }
        }
    };
    tokio::time::timeout(SYNC_TIMEOUT, work)
        .await
        .map_err(|_| format!("client {index}: not synced within {SYNC_TIMEOUT:?}"))?
}

/// When one client sends.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub first: Instant,
    pub every: Duration,
    pub until: Instant,
}

/// What one client saw.
#[derive(Debug, Default)]
pub struct ClientReport {
    /// Microseconds from send to ack, for measured sends.
    pub ack_us: Vec<u32>,
    /// Microseconds from send to receipt, for measured sends, every member.
    pub delivery_us: Vec<u32>,
    /// Deliveries of a message this client had already received.
    pub duplicates: u64,
    /// Acks that said the message was a duplicate.
    pub duplicate_acks: u64,
    /// Frames that could not be read, or named messages of no send of this run.
    pub unexpected: u64,
    /// Error frames by code.
    pub errors: BTreeMap<String, u64>,
    /// How the server closed the socket, if it did before the end.
    pub closed: Option<String>,
    /// The latest a send went out after its scheduled time.
    pub worst_send_lag: Duration,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl ClientReport {
    fn on_text(&mut self, ledger: &Ledger, me: usize, seen: &mut HashSet<u64>, text: &str) {
        let Ok(frame) = serde_json::from_str::<Incoming>(text) else {
            self.unexpected += 1;
            return;
        };
        let id = |f: &Option<Cow<str>>| f.as_deref().and_then(|id| ledger.parse_id(id));
        match frame.kind.as_ref() {
            "ack" => match id(&frame.client_msg_id) {
                Some((sender, n)) if sender == me => {
                    self.duplicate_acks += u64::from(frame.duplicate);
                    if let Some(seen) = ledger.ack(sender, n, frame.seq)
                        && seen.measured
                    {
                        self.ack_us.push(micros(seen.latency));
                    }
                }
                _ => self.unexpected += 1,
            },
            "event" => {
                let Some(event) = frame.event else {
                    self.unexpected += 1;
                    return;
                };
                if event.kind != "message.created" {
                    return;
                }
                let Some((sender, n)) = event.message.and_then(|m| id(&m.client_msg_id)) else {
                    self.unexpected += 1;
                    return;
                };
                if !seen.insert(((sender as u64) << 32) | n as u64) {
                    self.duplicates += 1;
                    return;
                }
                if let Some(seen) = ledger.deliver(sender, n)
                    && seen.measured
                {
                    self.delivery_us.push(micros(seen.latency));
                }
            }
            "error" => {
                let code = frame.code.as_deref().unwrap_or("?").to_owned();
                *self.errors.entry(code).or_default() += 1;
                if let Some((sender, n)) = id(&frame.client_msg_id) {
                    ledger.refuse(sender, n);
                }
            }
            _ => {}
        }
    }
}

/// Sends on `pace` and reads until `stop` turns true (or the server closes the socket).
pub async fn run(
    client: Connected,
    conversation_id: Arc<str>,
    ledger: Arc<Ledger>,
    pace: Pace,
    mut stop: watch::Receiver<bool>,
) -> ClientReport {
    let Connected { index, mut socket } = client;
    let mut report = ClientReport::default();
    let mut seen = HashSet::new();
    let mut next = pace.first;
    let mut sending = next < pace.until;
    loop {
        tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            () = tokio::time::sleep_until(next.into()), if sending => {
                report.worst_send_lag = report.worst_send_lag.max(next.elapsed());
                let id = ledger.send(index);
                let frame = format!(
                    r#"{{"type":"send","conversation_id":"{conversation_id}","client_msg_id":"{id}","body":"{id}"}}"#
                );
                if let Err(e) = socket.send(Message::Text(frame.into())).await {
                    report.closed = Some(format!("send failed: {e}"));
                    break;
                }
                next += pace.every;
                sending = next < pace.until;
            }
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => report.on_text(&ledger, index, &mut seen, &text),
                Some(Ok(Message::Close(frame))) => {
                    report.closed = Some(match frame {
                        Some(f) => format!("closed {} {}", u16::from(f.code), f.reason),
                        None => "closed".to_owned(),
                    });
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    report.closed = Some(format!("dropped: {e}"));
                    break;
                }
                None => {
                    report.closed = Some("dropped".to_owned());
                    break;
                }
            },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
    report
}
