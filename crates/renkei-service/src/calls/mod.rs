//! Calls in conversations, held in memory on this node (one per conversation): who may start,
//! join and signal, ringing, and what each change of a call sends, records and tells the relay.
//! The rules of a call's life are `renkei_core::call`; this module applies them.

mod grace;
mod record;
mod relay;
mod ring;
mod turn;
mod view;
mod watch;

pub use turn::{TurnCredentials, turn_credentials};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use renkei_core::Uuid;
use renkei_core::call::{
    Call, CallEvent, CallMedia, CallMode, CallRefusal, CallState, EndReason, LayerWant, MediaRelay,
    Outcome, RESUME_GRACE_SECONDS, RING_REPEAT_SECONDS, RING_SECONDS, RelaySignal, Transition,
};
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Conversation, ConversationKind};
use renkei_store::Store;
use tokio::sync::mpsc;

use crate::Services;
use crate::auth::session::{Authed, unlocked_gate};
use crate::conversations::own_member;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};
use crate::messaging::Messaging;
use crate::messaging::frames::{ServerFrame, ViewState, ViewTarget};
use crate::messaging::hub::Nudge;

/// The largest `call_signal` data, in bytes of JSON.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// The calls of this node, with what applying a call's changes needs.
pub struct Calls {
    store: Store,
    messaging: Arc<Messaging>,
    relay: OnceLock<Arc<dyn MediaRelay>>,
    registry: Mutex<HashMap<Uuid, Entry>>,
    /// Milliseconds between ring alerts, and until a ringing call gives up (tests shorten them).
    ring_repeat_ms: AtomicU64,
    ring_timeout_ms: AtomicU64,
    /// Milliseconds a dropped participant's place waits for a resume (tests shorten it).
    resume_grace_ms: AtomicU64,
}

/// One call and what the node keeps beside it.
struct Entry {
    call: Call,
    /// The conversation's organization (whose audit log the call's end goes to).
    org_id: Uuid,
    /// The `call.started` event (ring alerts point at it).
    started_seq: i64,
    /// Who may open which shared target, decided once per call.
    view_access: HashMap<(Uuid, ViewTarget), bool>,
}

impl Calls {
    /// An empty registry that follows membership changes on `messaging`'s bus.
    pub fn start(store: Store, messaging: Arc<Messaging>) -> Arc<Calls> {
        let calls = Arc::new(Calls {
            store,
            relay: OnceLock::new(),
            registry: Mutex::new(HashMap::new()),
            ring_repeat_ms: AtomicU64::new(RING_REPEAT_SECONDS as u64 * 1000),
            ring_timeout_ms: AtomicU64::new(RING_SECONDS as u64 * 1000),
            resume_grace_ms: AtomicU64::new(RESUME_GRACE_SECONDS as u64 * 1000),
            messaging: messaging.clone(),
        });
        tokio::spawn(watch::removals(calls.clone(), messaging.subscribe()));
        calls
    }

    /// Wires the media relay for group calls, and forwards what it says to sockets.
    pub fn set_relay(
        self: &Arc<Self>,
        relay: Arc<dyn MediaRelay>,
        signals: mpsc::Receiver<RelaySignal>,
    ) {
        if self.relay.set(relay).is_ok() {
            tokio::spawn(relay::forward(self.clone(), signals));
        }
    }

    /// The media relay for group calls, if one is wired.
    pub fn relay(&self) -> Option<Arc<dyn MediaRelay>> {
        self.relay.get().cloned()
    }

    /// Rings every `repeat` and gives up after `timeout` (instead of 10 s and 45 s: tests).
    pub fn set_ring_times(&self, repeat: Duration, timeout: Duration) {
        self.ring_repeat_ms
            .store(repeat.as_millis() as u64, Ordering::Relaxed);
        self.ring_timeout_ms
            .store(timeout.as_millis() as u64, Ordering::Relaxed);
    }

    /// Holds a dropped participant's place for `grace` (instead of 20 s: tests).
    pub fn set_resume_grace(&self, grace: Duration) {
        self.resume_grace_ms
            .store(grace.as_millis() as u64, Ordering::Relaxed);
    }

    fn resume_grace(&self) -> Duration {
        Duration::from_millis(self.resume_grace_ms.load(Ordering::Relaxed))
    }

    fn ring_times(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.ring_repeat_ms.load(Ordering::Relaxed)),
            Duration::from_millis(self.ring_timeout_ms.load(Ordering::Relaxed)),
        )
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Entry>> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The call `id`, if it rings or runs.
    pub fn get(&self, id: Uuid) -> Option<Call> {
        self.registry().get(&id).map(|e| e.call.clone())
    }

    /// The ringing or running calls of these conversations (what a socket gets after `synced`).
    pub fn in_conversations(&self, conversations: impl Fn(&Uuid) -> bool) -> Vec<Call> {
        self.registry()
            .values()
            .filter(|e| conversations(&e.call.conversation_id))
            .map(|e| e.call.clone())
            .collect()
    }

    /// Whether `user` has a socket in a call other than `except`.
    fn user_busy(&self, user: Uuid, except: Uuid) -> bool {
        self.registry()
            .values()
            .any(|e| e.call.id != except && e.call.has_user(user))
    }

    /// Applies `event` to call `id` and acts on the outcome; the call after it.
    async fn apply(&self, id: Uuid, max_users: usize, event: CallEvent) -> ServiceResult<Call> {
        self.apply_with(id, |call| call.step(event, Timestamp::now(), max_users))
            .await
    }

    /// Decides a call's next state under the lock with `decide`, then sends, records and tells
    /// the relay what the transition says.
    async fn apply_with(
        &self,
        id: Uuid,
        decide: impl FnOnce(&Call) -> Result<Transition, CallRefusal>,
    ) -> ServiceResult<Call> {
        let (transition, changed, org_id) = {
            let mut registry = self.registry();
            let entry = registry.get_mut(&id).ok_or_else(call_not_found)?;
            let transition = decide(&entry.call).map_err(refusal_error)?;
            let changed = transition.call != entry.call;
            entry.call = transition.call.clone();
            let org_id = entry.org_id;
            if transition.call.state == CallState::Ended {
                registry.remove(&id);
            }
            (transition, changed, org_id)
        };
        self.carry_out(&transition, changed, org_id).await;
        Ok(transition.call)
    }

    /// Sends the call to every member, and does what the outcomes say.
    async fn carry_out(&self, transition: &Transition, changed: bool, org_id: Uuid) {
        let call = &transition.call;
        let relay = (call.mode == CallMode::Sfu).then(|| self.relay()).flatten();
        if transition.outcomes.contains(&Outcome::Ended) {
            // In the timeline before anyone hears of the end.
            record::ended(self, call, org_id).await;
        }
        if changed {
            self.broadcast(call);
        }
        for outcome in &transition.outcomes {
            match outcome {
                Outcome::Joined { user_id, .. } => record::joined(self, call, *user_id).await,
                Outcome::Left { conn } | Outcome::Resumed { from: conn, .. } => {
                    if let Some(relay) = &relay {
                        relay.leave(call.id, conn);
                    }
                }
                // The caller starts the grace timer (`socket_gone`).
                Outcome::Dropped { .. } => {}
                Outcome::Removed { user_id } => {
                    let mut theirs = call.clone();
                    theirs.state = CallState::Ended;
                    theirs.ended_at = Some(Timestamp::now());
                    theirs.end_reason = Some(EndReason::Removed);
                    let frame = ServerFrame::Call { call: &theirs }.text();
                    self.messaging.hub.send_to_user(*user_id, frame);
                }
                Outcome::StopRinging { .. } => {}
                Outcome::Ended => {
                    if let Some(relay) = &relay {
                        relay.end(call.id);
                    }
                }
            }
        }
    }

    /// Sends the call to every socket of every member.
    fn broadcast(&self, call: &Call) {
        let frame = ServerFrame::Call { call }.text();
        self.messaging.ephemeral(call.conversation_id, frame, None);
    }

    /// Sends a frame to one socket of the call (its user found among the participants).
    fn send_to_conn(&self, user: Uuid, conn: &str, frame: Arc<str>) {
        let Ok(id) = conn.parse::<u64>() else { return };
        if let Some(sender) = self.messaging.hub.sender_of(user, id) {
            let _ = sender.try_send(Nudge::Frame(frame));
        }
    }

    /// The user of participant `conn` of call `id`, when it is one.
    fn participant(&self, id: Uuid, conn: &str) -> ServiceResult<(Call, Uuid)> {
        let registry = self.registry();
        let call = &registry.get(&id).ok_or_else(call_not_found)?.call;
        let user = call
            .participants
            .iter()
            .find(|p| p.conn == conn)
            .map(|p| p.user_id)
            .ok_or_else(not_a_participant)?;
        Ok((call.clone(), user))
    }

    /// Registers the call `make` decides on, seeing every call of the node while it decides.
    fn insert_new(
        &self,
        org_id: Uuid,
        make: impl FnOnce(&HashMap<Uuid, Entry>) -> ServiceResult<Call>,
    ) -> ServiceResult<Call> {
        let mut registry = self.registry();
        let call = make(&registry)?;
        registry.insert(
            call.id,
            Entry {
                call: call.clone(),
                org_id,
                started_seq: 0,
                view_access: HashMap::new(),
            },
        );
        Ok(call)
    }

    /// Whether socket `conn` is in a call other than `except`.
    fn user_busy_conn(&self, conn: &str, except: Uuid) -> bool {
        self.registry()
            .values()
            .any(|e| e.call.id != except && e.call.has_conn(conn))
    }

    /// The ringing alerts' event and who still rings, for call `id` (none once it ended).
    fn ringing(&self, id: Uuid) -> Option<(Uuid, i64, Vec<Uuid>)> {
        let registry = self.registry();
        let entry = registry.get(&id)?;
        Some((
            entry.call.conversation_id,
            entry.started_seq,
            entry.call.ringing.clone(),
        ))
    }

    /// Checks that socket `conn` of `user` is in call `id`.
    fn own_participant(&self, id: Uuid, user: Uuid, conn: &str) -> ServiceResult<Call> {
        match self.participant(id, conn)? {
            (call, owner) if owner == user => Ok(call),
            _ => Err(not_a_participant()),
        }
    }
}

/// Starts a call in `conversation` from socket `conn` of `me`, ringing the other members. When
/// the conversation already has a call (both sides called at once), `me` joins it instead.
pub async fn start(
    svc: &Services,
    me: &Authed,
    conn: u64,
    conversation: Uuid,
    media: CallMedia,
) -> ServiceResult<Call> {
    let conv = may_call(svc, me, conversation).await?;
    let calls = &svc.calls;
    let mode = match conv.kind {
        ConversationKind::Direct => CallMode::P2p,
        ConversationKind::Group => CallMode::Sfu,
    };
    if mode == CallMode::Sfu && calls.relay().is_none() {
        return Err(ServiceError::new(
            Kind::Unavailable,
            "sfu_unavailable",
            "group calls need the media relay, which this server does not run",
        ));
    }
    let members: Vec<Uuid> = svc
        .store
        .members(conversation)
        .await
        .or_service("conversation_not_found")?
        .iter()
        .map(|m| m.user_id)
        .collect();
    let conn_text = conn.to_string();
    let existing = calls
        .registry()
        .values()
        .find(|e| e.call.conversation_id == conversation)
        .map(|e| e.call.id);
    if let Some(id) = existing {
        return join(svc, me, conn, id, media).await;
    }
    let call = calls.insert_new(conv.org_id, |registry| {
        if registry
            .values()
            .any(|e| e.call.conversation_id == conversation)
        {
            return Err(busy());
        }
        if registry.values().any(|e| e.call.has_conn(&conn_text)) {
            return Err(busy());
        }
        Ok(Call::start(
            renkei_core::new_id(),
            conversation,
            media,
            mode,
            me.user.id,
            me.session.id,
            conn_text.clone(),
            members,
            Timestamp::now(),
        ))
    })?;
    let seq = match record::started(calls, &call, &me.user).await {
        Ok(seq) => seq,
        Err(e) => {
            calls.registry().remove(&call.id);
            return Err(e);
        }
    };
    if let Some(entry) = calls.registry().get_mut(&call.id) {
        entry.started_seq = seq;
    }
    calls.broadcast(&call);
    let mut now = call.clone();
    for callee in call.ringing.clone() {
        if calls.user_busy(callee, call.id) {
            let ts = Timestamp::now();
            now = calls
                .apply_with(call.id, |c| Ok(c.busy(callee, ts)))
                .await?;
        }
    }
    if now.state == CallState::Ringing {
        ring::spawn(svc.clone(), call.id);
    }
    Ok(now)
}

/// Socket `conn` of `me` accepts call `id`, or joins it while it runs.
pub async fn join(
    svc: &Services,
    me: &Authed,
    conn: u64,
    id: Uuid,
    media: CallMedia,
) -> ServiceResult<Call> {
    take_place(svc, me, conn, id, Some(media)).await
}

/// Socket `conn` of `me` takes back the place its session held in call `id` (its old socket
/// went away, or is going): signalling reaches `conn` from now on. The rules of joining hold.
pub async fn resume(svc: &Services, me: &Authed, conn: u64, id: Uuid) -> ServiceResult<Call> {
    take_place(svc, me, conn, id, None).await
}

/// Socket `conn` of `me` joins call `id` with `media`, or (`None`) resumes its session's place:
/// both only while `me` may call in the conversation and `conn` is in no other call.
async fn take_place(
    svc: &Services,
    me: &Authed,
    conn: u64,
    id: Uuid,
    media: Option<CallMedia>,
) -> ServiceResult<Call> {
    let call = svc.calls.get(id).ok_or_else(call_not_found)?;
    may_call(svc, me, call.conversation_id).await?;
    let conn = conn.to_string();
    if svc.calls.user_busy_conn(&conn, id) {
        return Err(busy());
    }
    let (user_id, session) = (me.user.id, me.session.id);
    let event = match media {
        Some(media) => CallEvent::Join {
            user_id,
            session,
            conn,
            media,
        },
        None => CallEvent::Resume {
            user_id,
            session,
            conn,
        },
    };
    svc.calls
        .apply(id, svc.settings.call_max_participants, event)
        .await
}

/// `user` declines ringing call `id`: all their sockets stop ringing.
pub async fn decline(svc: &Services, user: Uuid, id: Uuid) -> ServiceResult<Call> {
    svc.calls
        .apply(
            id,
            svc.settings.call_max_participants,
            CallEvent::Decline { user_id: user },
        )
        .await
}

/// Socket `conn` of `user` hangs up (the caller's leave while ringing cancels).
pub async fn leave(svc: &Services, user: Uuid, conn: u64, id: Uuid) -> ServiceResult<Call> {
    let conn = conn.to_string();
    svc.calls.own_participant(id, user, &conn)?;
    svc.calls
        .apply(
            id,
            svc.settings.call_max_participants,
            CallEvent::Leave { conn },
        )
        .await
}

/// Socket `conn` of `user` mutes or unmutes.
pub async fn set_media(
    svc: &Services,
    user: Uuid,
    conn: u64,
    id: Uuid,
    audio: bool,
    video: bool,
) -> ServiceResult<Call> {
    let conn = conn.to_string();
    svc.calls.own_participant(id, user, &conn)?;
    svc.calls
        .apply(
            id,
            svc.settings.call_max_participants,
            CallEvent::Media { conn, audio, video },
        )
        .await
}

/// How a socket ended, for the calls it was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketEnd {
    /// Its page closed or went elsewhere (the browser's close 1001, "going away"): it hangs up.
    PageClosed,
    /// Anything else (a network change, the browser offline, a lost connection): its place
    /// waits for the resume grace (the others see it `reconnecting`), then it leaves.
    Dropped,
}

/// Socket `conn` of `user` went away without `call_leave`: in every call it was in it leaves,
/// or its place waits for a resume, as `end` says.
pub async fn socket_gone(svc: &Services, user: Uuid, conn: u64, end: SocketEnd) {
    let conn_text = conn.to_string();
    let ids: Vec<Uuid> = svc
        .calls
        .registry()
        .values()
        .filter(|e| {
            e.call
                .participants
                .iter()
                .any(|p| p.conn == conn_text && p.user_id == user)
        })
        .map(|e| e.call.id)
        .collect();
    for id in ids {
        let conn = conn_text.clone();
        let event = match end {
            SocketEnd::PageClosed => CallEvent::Leave { conn },
            SocketEnd::Dropped => CallEvent::Dropped { conn },
        };
        let applied = svc.calls.apply(id, usize::MAX, event).await.is_ok();
        if applied && end == SocketEnd::Dropped {
            grace::spawn(svc.clone(), id, conn_text.clone());
        }
    }
}

/// Relays SDP or ICE `data` from socket `conn` of `user` to participant `to_conn` of call `id`
/// (both must be in it), or to the call's relay when `to_conn` is `"sfu"`.
pub fn signal(
    svc: &Services,
    user: Uuid,
    conn: u64,
    id: Uuid,
    to_conn: &str,
    data: serde_json::Value,
) -> ServiceResult<()> {
    let from = conn.to_string();
    if serde_json::to_string(&data).map_or(usize::MAX, |t| t.len()) > MAX_SIGNAL_BYTES {
        return Err(invalid_frame("call_signal data is larger than 64 KiB"));
    }
    let calls = &svc.calls;
    let call = calls.own_participant(id, user, &from)?;
    if to_conn == "sfu" {
        let relay = (call.mode == CallMode::Sfu)
            .then(|| calls.relay())
            .flatten()
            .ok_or_else(|| invalid_frame("this call has no media relay"))?;
        relay.signal(id, &from, data);
        return Ok(());
    }
    let (_, to_user) = calls.participant(id, to_conn)?;
    let frame = ServerFrame::CallSignal {
        call_id: id,
        from_user: Some(user),
        from_conn: &from,
        data: &data,
    }
    .text();
    calls.send_to_conn(to_user, to_conn, frame);
    Ok(())
}

/// What each shown tile of a group call needs, for the relay.
pub fn layers(
    svc: &Services,
    user: Uuid,
    conn: u64,
    id: Uuid,
    wants: Vec<LayerWant>,
) -> ServiceResult<()> {
    let conn = conn.to_string();
    let call = svc.calls.own_participant(id, user, &conn)?;
    match (call.mode == CallMode::Sfu)
        .then(|| svc.calls.relay())
        .flatten()
    {
        Some(relay) => {
            relay.layers(id, &conn, wants);
            Ok(())
        }
        None => Err(invalid_frame(
            "layers are for group calls through the relay",
        )),
    }
}

/// Socket `conn` of `user` leads the shared view of `target`: every other participant gets
/// where it is, or only a notice when they may not open the target.
pub async fn view_share(
    svc: &Services,
    user: Uuid,
    conn: u64,
    id: Uuid,
    target: ViewTarget,
    state: ViewState,
) -> ServiceResult<()> {
    view::share(svc, user, &conn.to_string(), id, target, state).await
}

/// Socket `conn` of `user` stops leading the shared view.
pub fn view_stop(svc: &Services, user: Uuid, conn: u64, id: Uuid) -> ServiceResult<()> {
    view::stop(svc, user, &conn.to_string(), id)
}

/// The conversation if `me` may call in it: a member (who may write) with an unlocked session.
async fn may_call(svc: &Services, me: &Authed, conversation: Uuid) -> ServiceResult<Conversation> {
    if unlocked_gate(me).is_err() {
        return Err(forbidden(
            "this session may not call: unlock it (or finish signing in) first",
        ));
    }
    if own_member(svc, me.user.id, conversation).await?.is_none() {
        return Err(forbidden("only the conversation's members may call in it"));
    }
    svc.store
        .conversation(conversation)
        .await
        .or_service("conversation_not_found")
}

fn refusal_error(refusal: CallRefusal) -> ServiceError {
    match refusal {
        CallRefusal::Ended => call_not_found(),
        CallRefusal::NotAParticipant => not_a_participant(),
        CallRefusal::Full => ServiceError::new(
            Kind::Conflict,
            "call_full",
            "the call has the most participants allowed",
        ),
    }
}

fn call_not_found() -> ServiceError {
    ServiceError::new(
        Kind::NotFound,
        "call_not_found",
        "no such call rings or runs",
    )
}

fn not_a_participant() -> ServiceError {
    ServiceError::new(
        Kind::Forbidden,
        "not_a_participant",
        "this socket is not in the call",
    )
}

fn forbidden(message: &str) -> ServiceError {
    ServiceError::new(Kind::Forbidden, "call_forbidden", message)
}

fn busy() -> ServiceError {
    ServiceError::new(
        Kind::Conflict,
        "call_busy",
        "this socket is already in another call",
    )
}

fn invalid_frame(message: &str) -> ServiceError {
    ServiceError::new(Kind::BadRequest, "invalid_call_frame", message)
}
