//! One client's WebSocket session: authenticate, replay what it missed, then stream live
//! events, acknowledge its posts, and police its frames.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use renkei_core::Uuid;
use renkei_service::{calls, messages};

use super::frames::{CallFrame, ClientFrame, ServerFrame, call_frame_error, close};
use super::hub::{Nudge, SocketInbox};
use crate::AppState;
use crate::auth::session::{member_gate, session_for_token};
use renkei_service::{Kind, ServiceError};

/// How long a client has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the session is checked again (signed out, retired, locked elsewhere).
const RECHECK_EVERY: Duration = Duration::from_secs(15);
/// How long one frame may take to go out before the client counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames per second a client may send on average, and in a burst.
const FRAMES_PER_SECOND: f64 = 30.0;
const FRAME_BURST: f64 = 60.0;
/// Call frames (signalling, mute, layers) per second on average, and in a burst: ICE candidates
/// come in bursts, and they must never eat the chat budget.
const CALL_FRAMES_PER_SECOND: f64 = 50.0;
const CALL_FRAME_BURST: f64 = 200.0;
/// Shared-view frames per second: the client sends at most 20; more are dropped silently.
const VIEW_FRAMES_PER_SECOND: f64 = 25.0;
const VIEW_FRAME_BURST: f64 = 25.0;
/// Malformed frames tolerated before the connection is closed.
const MAX_BAD_FRAMES: u32 = 10;
/// Events read from the store per query while catching up.
const REPLAY_PAGE: i64 = 500;

/// Why a session ends: a close code and the reason sent with it.
struct Closing(u16, &'static str);

/// A close code meaning "drop the connection without a close frame": after a send timed out
/// the stream may hold half a frame, so nothing more can be written to it.
const ABORT: u16 = 0;

type Sink = futures_util::stream::SplitSink<WebSocket, WsMessage>;

async fn send_text(sink: &mut Sink, text: &str) -> Result<(), Closing> {
    match tokio::time::timeout(
        SEND_TIMEOUT,
        sink.send(WsMessage::Text(Utf8Bytes::from(text))),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        _ => Err(Closing(ABORT, "the client stopped reading")),
    }
}

async fn send_error(
    sink: &mut Sink,
    err: &ServiceError,
    client_msg_id: Option<&str>,
) -> Result<(), Closing> {
    let frame = ServerFrame::Error {
        code: err.code,
        message: &err.message,
        client_msg_id,
    };
    send_text(sink, &frame.text()).await
}

/// A token bucket over the client's frames.
struct FrameBudget {
    tokens: f64,
    at: Instant,
    per_second: f64,
    burst: f64,
}

impl FrameBudget {
    fn new(per_second: f64, burst: f64) -> Self {
        FrameBudget {
            tokens: burst,
            at: Instant::now(),
            per_second,
            burst,
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.per_second)
            .min(self.burst);
        self.at = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// Runs a session to its end. `cookie_token` is the session cookie sent with the upgrade.
pub async fn run(socket: WebSocket, state: AppState, cookie_token: Option<String>) {
    let (mut sink, mut stream) = socket.split();
    let outcome = session(&mut sink, &mut stream, &state, cookie_token).await;
    let Closing(code, reason) = outcome;
    if code == ABORT {
        return;
    }
    let _ = sink
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
    // Read on until the client answers the close (or a short while passes): a socket dropped
    // with unread bytes (a flood) is reset, and the client would lose the close and its reason.
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, WsMessage::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// How long a closed session waits for the client's answer to its close.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The close code a browser sends when the page itself goes away (closed, reloaded, left).
const GOING_AWAY: u16 = 1001;

async fn next_text(
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Result<Option<String>, Closing> {
    match stream.next().await {
        Some(Ok(WsMessage::Close(Some(frame)))) if frame.code == GOING_AWAY => {
            Err(Closing(GOING_AWAY, "bye"))
        }
        None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => Err(Closing(1000, "bye")),
        Some(Ok(WsMessage::Text(text))) => Ok(Some(text.to_string())),
        Some(Ok(WsMessage::Binary(_))) => Err(Closing(
            close::UNSUPPORTED,
            "binary frames are not accepted",
        )),
        Some(Ok(_)) => Ok(None),
    }
}

fn closing_for(err: &ServiceError) -> Closing {
    match err.code {
        "session_locked" => Closing(close::LOCKED, "session locked: unlock, then reconnect"),
        "password_change_required" | "passcode_required" | "second_factor_required" => {
            Closing(close::UNAUTHENTICATED, "finish signing in first")
        }
        _ => Closing(close::UNAUTHENTICATED, "session ended"),
    }
}

async fn session(
    sink: &mut Sink,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    state: &AppState,
    cookie_token: Option<String>,
) -> Closing {
    // 1. Hello: who is this, and what do they already have?
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, next_text(stream)).await {
        Err(_) => return Closing(close::UNAUTHENTICATED, "no hello within 10 seconds"),
        Ok(Err(closing)) => return closing,
        Ok(Ok(None)) => return Closing(close::PROTOCOL, "the first frame must be hello"),
        Ok(Ok(Some(text))) => text,
    };
    let (token, positions) = match serde_json::from_str::<ClientFrame>(&hello) {
        Ok(ClientFrame::Hello { token, positions }) => (token.or(cookie_token), positions),
        _ => return Closing(close::PROTOCOL, "the first frame must be hello"),
    };
    let Some(token) = token else {
        return Closing(
            close::UNAUTHENTICATED,
            "hello carries no token and there is no session cookie",
        );
    };
    let authed = match session_for_token(state, &token, true).await {
        Ok(a) => a,
        Err(e) => {
            let _ = send_error(sink, &e, None).await;
            return closing_for(&e);
        }
    };
    if let Err(e) = member_gate(&authed) {
        let _ = send_error(sink, &e, None).await;
        return closing_for(&e);
    }
    let user = authed.user.id;
    let messaging = state.messaging.clone();
    let inbox = messaging.hub.register(user, authed.user.org_id);
    live(sink, stream, state, &token, user, positions, inbox).await
}

struct Live<'a> {
    state: &'a AppState,
    user: Uuid,
    /// The newest event sent, per conversation the client may see.
    sent: HashMap<Uuid, i64>,
}

impl Live<'_> {
    /// Sends the events of `conversation` after what was sent, up to `upto`.
    async fn catch_up(
        &mut self,
        sink: &mut Sink,
        conversation: Uuid,
        upto: i64,
    ) -> Result<(), Closing> {
        let hub = &self.state.messaging.hub;
        let from = match self.sent.get(&conversation) {
            Some(&sent) => sent,
            None => match messages::replay_start(self.state, self.user, conversation).await {
                Ok(Some(from)) => from,
                Ok(None) => return Ok(()),
                Err(_) => return Err(Closing(close::RESYNC, "database unavailable; reconnect")),
            },
        };
        if upto <= from {
            self.sent.insert(conversation, from);
            return Ok(());
        }
        if let Some(frames) = hub.recent(conversation, from, upto) {
            for (frame, committed) in frames {
                send_text(sink, &frame).await?;
                // Live delivery: from the commit to this socket's send.
                metrics::histogram!("renkei_delivery_latency_seconds")
                    .record(committed.elapsed().as_secs_f64());
            }
            self.sent.insert(conversation, upto);
            self.delivered(conversation, upto);
            return Ok(());
        }
        let mut after = from;
        while after < upto {
            let events = messages::replay_page(
                self.state,
                conversation,
                after,
                (upto - after).min(REPLAY_PAGE),
            )
            .await
            .map_err(|_| Closing(close::RESYNC, "database unavailable; reconnect"))?;
            if events.is_empty() {
                break;
            }
            for event in &events {
                send_text(sink, &ServerFrame::Event { event }.text()).await?;
                after = event.seq;
            }
            self.sent.insert(conversation, after);
        }
        if after > from {
            self.delivered(conversation, after);
        }
        Ok(())
    }

    /// Checks every conversation against the store after hints may have been lost: sends
    /// what was missed, starts conversations joined meanwhile, and ends (with `removed`)
    /// those the user no longer belongs to.
    async fn resync(&mut self, sink: &mut Sink) -> Result<(), Closing> {
        let mine = messages::timelines_of(self.state, self.user)
            .await
            .map_err(|_| Closing(close::RESYNC, "database unavailable; reconnect"))?;
        let now: HashMap<Uuid, i64> = mine
            .iter()
            .map(|s| (s.conversation.id, s.conversation.last_seq))
            .collect();
        let gone: Vec<Uuid> = self
            .sent
            .keys()
            .filter(|c| !now.contains_key(c))
            .copied()
            .collect();
        for conversation in gone {
            self.sent.remove(&conversation);
            let frame = ServerFrame::Removed {
                conversation_id: conversation,
            };
            send_text(sink, &frame.text()).await?;
        }
        for (conversation, last_seq) in now {
            self.catch_up(sink, conversation, last_seq).await?;
        }
        Ok(())
    }

    /// Notes that this socket received `conversation`'s events up to `seq`: the delivered
    /// mark, written with others about once a second.
    fn delivered(&self, conversation: Uuid, seq: i64) {
        self.state
            .messaging
            .delivery
            .note(conversation, self.user, seq);
    }
}

#[allow(clippy::too_many_arguments)]
/// Checks the socket's session again (signed out, retired, locked, ended by a password
/// change); `Err` closes the socket. A database hiccup does not.
async fn check_session(
    sink: &mut Sink,
    state: &AppState,
    token: &str,
    active: bool,
) -> Result<(), Closing> {
    match session_for_token(state, token, active)
        .await
        .and_then(|a| member_gate(&a))
    {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind, Kind::Internal | Kind::Unavailable) => Ok(()),
        Err(e) => {
            let _ = send_error(sink, &e, None).await;
            Err(closing_for(&e))
        }
    }
}

async fn live(
    sink: &mut Sink,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    state: &AppState,
    token: &str,
    user: Uuid,
    positions: Option<HashMap<Uuid, i64>>,
    mut inbox: SocketInbox,
) -> Closing {
    let hub = state.messaging.hub.clone();
    let outcome: Result<std::convert::Infallible, Closing> = async {
        let conn = inbox.id.to_string();
        send_text(sink, &ServerFrame::Welcome { user_id: user, conn }.text()).await?;
        // 2. Replay: registered first, so nothing committed from now on can be missed.
        let mine = messages::timelines_of(state, user)
            .await
            .map_err(|_| Closing(close::RESYNC, "database unavailable; reconnect"))?;
        let mut live = Live { state, user, sent: HashMap::new() };
        for summary in &mine {
            let conv = summary.conversation.id;
            let start = match &positions {
                None => summary.conversation.last_seq,
                Some(p) => p.get(&conv).copied().unwrap_or(summary.me.joined_seq - 1),
            };
            live.sent.insert(conv, start.max(0));
            live.catch_up(sink, conv, summary.conversation.last_seq).await?;
        }
        send_text(sink, &ServerFrame::Synced.text()).await?;
        // Calls ringing or running in the user's conversations.
        for call in state.calls.in_conversations(|c| live.sent.contains_key(c)) {
            send_text(sink, &ServerFrame::Call { call: &call }.text()).await?;
        }

        // 3. Live.
        let mut budget = FrameBudget::new(FRAMES_PER_SECOND, FRAME_BURST);
        let mut call_budget = FrameBudget::new(CALL_FRAMES_PER_SECOND, CALL_FRAME_BURST);
        let mut view_budget = FrameBudget::new(VIEW_FRAMES_PER_SECOND, VIEW_FRAME_BURST);
        let mut bad_frames = 0u32;
        let mut active = false;
        // Spread the re-checks of all sockets over the period (by socket number), so thousands
        // of sockets opened together do not query the store in one burst every 15 s.
        let offset = RECHECK_EVERY.mul_f64((inbox.id.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0);
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + offset + RECHECK_EVERY / 2, RECHECK_EVERY);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                nudge = inbox.nudges.recv() => {
                    if inbox.overflowed.load(Ordering::Relaxed) {
                        return Err(Closing(close::RESYNC, "too far behind: reconnect with your positions"));
                    }
                    match nudge {
                        None | Some(Nudge::End) => return Err(Closing(close::UNAUTHENTICATED, "session ended")),
                        Some(Nudge::Recheck) => check_session(sink, state, token, false).await?,
                        Some(Nudge::Resync) => {
                            check_session(sink, state, token, false).await?;
                            live.resync(sink).await?;
                        }
                        Some(Nudge::Advanced { conversation, seq }) => live.catch_up(sink, conversation, seq).await?,
                        Some(Nudge::Frame(frame)) => send_text(sink, &frame).await?,
                        Some(Nudge::Removed { conversation }) => {
                            live.sent.remove(&conversation);
                            send_text(sink, &ServerFrame::Removed { conversation_id: conversation }.text()).await?;
                        }
                    }
                }
                incoming = next_text(stream) => {
                    let Some(text) = incoming? else { continue };
                    let parsed = serde_json::from_str::<ClientFrame>(&text);
                    let within = match &parsed {
                        Ok(ClientFrame::Call(CallFrame::ViewShare { .. })) => {
                            if !view_budget.take() {
                                continue;
                            }
                            true
                        }
                        Ok(ClientFrame::Call(_)) => call_budget.take(),
                        _ => budget.take(),
                    };
                    if !within {
                        return Err(Closing(close::RATE_LIMITED, "too many frames: slow down"));
                    }
                    match parsed {
                        Ok(frame) => {
                            active |= !matches!(frame, ClientFrame::Ping { active: false });
                            handle(sink, state, &live, token, inbox.id, frame).await?;
                        }
                        Err(_) => {
                            bad_frames += 1;
                            if bad_frames > MAX_BAD_FRAMES {
                                return Err(Closing(close::PROTOCOL, "too many malformed frames"));
                            }
                            let err = match call_frame_error(&text) {
                                Some(e) => ServiceError::bad_request("invalid_call_frame", format!("the call frame is not valid: {e}")),
                                None => ServiceError::bad_request("invalid_frame", "the frame is not valid protocol JSON"),
                            };
                            send_error(sink, &err, None).await?;
                        }
                    }
                }
                _ = recheck.tick() => {
                    check_session(sink, state, token, active).await?;
                    active = false;
                }
            }
        }
    }
    .await;
    // A page that closed hangs up; a socket that dropped keeps its calls for a resume.
    let end = match &outcome {
        Err(Closing(GOING_AWAY, _)) => calls::SocketEnd::PageClosed,
        _ => calls::SocketEnd::Dropped,
    };
    tracing::debug!(conn = inbox.id, ?end, "socket ended");
    calls::socket_gone(state, user, inbox.id, end).await;
    hub.unregister(user, inbox.id);
    match outcome {
        Ok(never) => match never {},
        Err(closing) => closing,
    }
}

/// Acts on one call frame of socket `conn`; a refusal is answered with `error`.
async fn handle_call(
    sink: &mut Sink,
    state: &AppState,
    token: &str,
    user: Uuid,
    conn: u64,
    frame: CallFrame,
) -> Result<(), Closing> {
    let done = match frame {
        CallFrame::CallStart {
            conversation_id,
            media,
        } => match session_for_token(state, token, true).await {
            Ok(me) => calls::start(state, &me, conn, conversation_id, media)
                .await
                .map(drop),
            Err(e) => Err(e),
        },
        CallFrame::CallJoin { call_id, media } => {
            match session_for_token(state, token, true).await {
                Ok(me) => calls::join(state, &me, conn, call_id, media)
                    .await
                    .map(drop),
                Err(e) => Err(e),
            }
        }
        CallFrame::CallResume { call_id } => match session_for_token(state, token, true).await {
            Ok(me) => calls::resume(state, &me, conn, call_id).await.map(drop),
            Err(e) => Err(e),
        },
        CallFrame::CallDecline { call_id } => calls::decline(state, user, call_id).await.map(drop),
        CallFrame::CallLeave { call_id } => {
            calls::leave(state, user, conn, call_id).await.map(drop)
        }
        CallFrame::CallSignal {
            call_id,
            to_conn,
            data,
        } => calls::signal(state, user, conn, call_id, &to_conn, data),
        CallFrame::CallMedia {
            call_id,
            audio,
            video,
        } => calls::set_media(state, user, conn, call_id, audio, video)
            .await
            .map(drop),
        CallFrame::CallLayers { call_id, wants } => {
            calls::layers(state, user, conn, call_id, wants)
        }
        CallFrame::ViewShare {
            call_id,
            target,
            state: view,
        } => calls::view_share(state, user, conn, call_id, target, view).await,
        CallFrame::ViewStop { call_id } => calls::view_stop(state, user, conn, call_id),
    };
    match done {
        Ok(()) => Ok(()),
        Err(e) => send_error(sink, &e, None).await,
    }
}

/// Acts on one well-formed client frame.
async fn handle(
    sink: &mut Sink,
    state: &AppState,
    live: &Live<'_>,
    token: &str,
    socket_id: u64,
    frame: ClientFrame,
) -> Result<(), Closing> {
    let messaging = state.messaging.clone();
    let user = live.user;
    match frame {
        ClientFrame::Hello { .. } => {
            send_error(
                sink,
                &ServiceError::bad_request("already_authenticated", "hello was already said"),
                None,
            )
            .await
        }
        ClientFrame::Ping { .. } => send_text(sink, &ServerFrame::Pong.text()).await,
        ClientFrame::Send {
            conversation_id,
            message,
        } => {
            let client_msg_id = message.client_msg_id.clone();
            // Queued here, in the order the client sent; acknowledged when durable, while
            // deliveries keep flowing.
            let pending = match messaging.submit(user, conversation_id, message).await {
                Ok(pending) => pending,
                Err(e) => return send_error(sink, &e, Some(&client_msg_id)).await,
            };
            let Some(reply) = messaging.hub.sender_of(user, socket_id) else {
                return Ok(());
            };
            tokio::spawn(async move {
                let frame = match pending.wait().await {
                    Ok(posted) => ServerFrame::Ack {
                        conversation_id,
                        client_msg_id: &client_msg_id,
                        seq: posted.message.seq,
                        duplicate: posted.duplicate,
                    }
                    .text(),
                    Err(e) => ServerFrame::Error {
                        code: e.code,
                        message: &e.message,
                        client_msg_id: Some(&client_msg_id),
                    }
                    .text(),
                };
                let _ = reply.send(Nudge::Frame(frame)).await;
            });
            Ok(())
        }
        ClientFrame::Read {
            conversation_id,
            seq,
        } => {
            if !live.sent.contains_key(&conversation_id) {
                return send_error(
                    sink,
                    &ServiceError::not_found("conversation_not_found"),
                    None,
                )
                .await;
            }
            match messages::mark_read(state, user, conversation_id, seq).await {
                Ok(_) => Ok(()),
                Err(e) => send_error(sink, &e, None).await,
            }
        }
        ClientFrame::Call(frame) => handle_call(sink, state, token, user, socket_id, frame).await,
        ClientFrame::Typing { conversation_id } => {
            if !live.sent.contains_key(&conversation_id) {
                return send_error(
                    sink,
                    &ServiceError::not_found("conversation_not_found"),
                    None,
                )
                .await;
            }
            messages::typing_of(state, user, conversation_id);
            Ok(())
        }
    }
}
