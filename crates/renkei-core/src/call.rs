//! Calls in a conversation: the call's state machine decided as data, and the seam to the
//! media relay (the SFU) for group calls. No I/O.

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Seconds a call rings before it ends with `no_answer` (and the push TTL of a ring).
pub const RING_SECONDS: i64 = 45;
/// Seconds between two ring alerts to a callee who has not answered.
pub const RING_REPEAT_SECONDS: i64 = 10;
/// Seconds a participant whose socket went away keeps its place, for the same session's new
/// socket to take it back (`call_resume`) before it leaves.
pub const RESUME_GRACE_SECONDS: i64 = 20;

/// A media relay for group calls (the SFU). Calls are identified by `Uuid`, participants by conn.
pub trait MediaRelay: Send + Sync + 'static {
    /// A participant's SDP offer (or answer to an SFU offer); the relay's answer/offer back,
    /// and later ICE/SDP messages, come through `events`.
    fn signal(&self, call: Uuid, conn: &str, data: serde_json::Value);
    fn layers(&self, call: Uuid, conn: &str, wants: Vec<LayerWant>);
    fn leave(&self, call: Uuid, conn: &str);
    fn end(&self, call: Uuid);
}

/// What the relay says to a participant: `call_signal` data from "sfu".
#[derive(Debug, Clone, PartialEq)]
pub struct RelaySignal {
    pub call: Uuid,
    pub conn: String,
    pub data: serde_json::Value,
}

/// What one shown tile of a group call needs from the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerWant {
    pub conn: String,
    pub mid: Option<String>,
    pub width: u32,
    pub height: u32,
    pub visible: bool,
}

string_enum!(
    /// Voice only, or voice and video.
    CallMedia {
        Audio => "audio",
        Video => "video",
    }
);

string_enum!(
    /// Peer to peer (a direct conversation) or through the SFU (a group).
    CallMode {
        P2p => "p2p",
        Sfu => "sfu",
    }
);

string_enum!(
    /// Where a call is.
    CallState {
        Ringing => "ringing",
        Active => "active",
        Ended => "ended",
    }
);

string_enum!(
    /// Why a call ended.
    EndReason {
        Completed => "completed",
        Declined => "declined",
        NoAnswer => "no_answer",
        Busy => "busy",
        Cancelled => "cancelled",
        Removed => "removed",
    }
);

/// One socket in a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub user_id: Uuid,
    pub conn: String,
    pub audio: bool,
    pub video: bool,
    pub joined_at: Timestamp,
    /// Its socket went away and it waits, for a grace period, for the same session to resume.
    #[serde(default)]
    pub reconnecting: bool,
    /// The sign-in session of the socket (only that session may resume the place).
    #[serde(skip)]
    pub session: Uuid,
}

/// A call as every member's socket sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub media: CallMedia,
    pub mode: CallMode,
    pub state: CallState,
    pub started_by: Uuid,
    pub started_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end_reason: Option<EndReason>,
    pub participants: Vec<Participant>,
    pub ringing: Vec<Uuid>,
    pub declined: Vec<Uuid>,
    /// When a second participant first joined (the call's duration counts from here).
    #[serde(skip)]
    pub answered_at: Option<Timestamp>,
    /// Everyone who was ever a participant, in order of first joining.
    #[serde(skip)]
    pub joined_users: Vec<Uuid>,
}

/// Something that happens to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A socket joins (accepts, or joins a running group call).
    Join {
        user_id: Uuid,
        session: Uuid,
        conn: String,
        media: CallMedia,
    },
    /// A callee declines.
    Decline { user_id: Uuid },
    /// A socket hangs up.
    Leave { conn: String },
    /// A socket went away without hanging up: its place waits for a resume.
    Dropped { conn: String },
    /// A new socket `conn` of `user_id`'s `session` takes back that session's place.
    Resume {
        user_id: Uuid,
        session: Uuid,
        conn: String,
    },
    /// The grace of dropped participant `conn` is over: it leaves unless it resumed.
    GraceOver { conn: String },
    /// A user is no longer a member (removed, or their agreement revoked).
    Removed { user_id: Uuid },
    /// A socket's mute state.
    Media {
        conn: String,
        audio: bool,
        video: bool,
    },
    /// The ringing time is over.
    RingTimeout,
}

/// What the service does after a step, besides sending the new call to every member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A socket joined (audit `call.join`).
    Joined { user_id: Uuid, conn: String },
    /// A socket left (the relay forgets it).
    Left { conn: String },
    /// A socket went away and its place waits (the service starts the grace timer).
    Dropped { conn: String },
    /// Participant `from` is socket `to` from now on (signalling goes to `to`; the relay
    /// forgets `from`'s media session, and `to` negotiates a new one).
    Resumed { from: String, to: String },
    /// A user's part ended because they are no longer a member: their sockets get the call
    /// as ended with `removed`.
    Removed { user_id: Uuid },
    /// A callee stops ringing (answered, declined, removed, or timed out).
    StopRinging { user_id: Uuid },
    /// The call ended (timeline `call.ended`, audit `call.end`, relay `end`).
    Ended,
}

/// Why an event was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallRefusal {
    /// The call is over.
    Ended,
    /// The socket or user is not in the call.
    NotAParticipant,
    /// The call already has the most participants allowed.
    Full,
}

/// The call after an event, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub call: Call,
    pub outcomes: Vec<Outcome>,
}

impl Call {
    /// A call `caller` starts from socket `conn`, ringing `callees` (the other members).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        id: Uuid,
        conversation_id: Uuid,
        media: CallMedia,
        mode: CallMode,
        caller: Uuid,
        session: Uuid,
        conn: String,
        callees: Vec<Uuid>,
        now: Timestamp,
    ) -> Call {
        Call {
            id,
            conversation_id,
            media,
            mode,
            state: CallState::Ringing,
            started_by: caller,
            started_at: now,
            ended_at: None,
            end_reason: None,
            participants: vec![Participant {
                user_id: caller,
                conn,
                audio: true,
                video: media == CallMedia::Video,
                joined_at: now,
                reconnecting: false,
                session,
            }],
            ringing: callees.into_iter().filter(|u| *u != caller).collect(),
            declined: Vec::new(),
            answered_at: None,
            joined_users: vec![caller],
        }
    }

    /// Whether `user` has a socket in the call.
    pub fn has_user(&self, user: Uuid) -> bool {
        self.participants.iter().any(|p| p.user_id == user)
    }

    /// Whether socket `conn` is in the call.
    pub fn has_conn(&self, conn: &str) -> bool {
        self.participants.iter().any(|p| p.conn == conn)
    }

    /// Distinct users with a socket in the call.
    pub fn user_count(&self) -> usize {
        let mut users: Vec<Uuid> = self.participants.iter().map(|p| p.user_id).collect();
        users.sort();
        users.dedup();
        users.len()
    }

    /// Seconds from the answer to the end (0 for a call nobody answered).
    pub fn duration_seconds(&self) -> i64 {
        match (self.answered_at, self.ended_at) {
            (Some(a), Some(e)) => ((e.0 - a.0) / 1000).max(0),
            _ => 0,
        }
    }

    /// The call when a callee is busy in another call: a direct call ends `busy`; a group
    /// call just does not ring them.
    pub fn busy(&self, user_id: Uuid, now: Timestamp) -> Transition {
        let mut call = self.clone();
        call.ringing.retain(|u| *u != user_id);
        let mut outcomes = vec![Outcome::StopRinging { user_id }];
        if call.mode == CallMode::P2p {
            end(&mut call, EndReason::Busy, now, &mut outcomes);
        } else {
            settle(&mut call, now, EndReason::NoAnswer, &mut outcomes);
        }
        Transition { call, outcomes }
    }

    /// The call after `event` at `now`, with at most `max_users` distinct users in it.
    pub fn step(
        &self,
        event: CallEvent,
        now: Timestamp,
        max_users: usize,
    ) -> Result<Transition, CallRefusal> {
        if self.state == CallState::Ended {
            return Err(CallRefusal::Ended);
        }
        let mut call = self.clone();
        let mut outcomes = Vec::new();
        // The reason the call ends with if this event leaves nobody to talk to.
        let mut reason_if_over = if call.answered_at.is_some() {
            EndReason::Completed
        } else {
            EndReason::Cancelled
        };
        match event {
            CallEvent::Join {
                user_id,
                session,
                conn,
                media,
            } => {
                if call.has_conn(&conn) {
                    return Ok(Transition { call, outcomes });
                }
                if !call.has_user(user_id) && call.user_count() >= max_users {
                    return Err(CallRefusal::Full);
                }
                call.participants.push(Participant {
                    user_id,
                    conn: conn.clone(),
                    audio: true,
                    video: media == CallMedia::Video,
                    joined_at: now,
                    reconnecting: false,
                    session,
                });
                if !call.joined_users.contains(&user_id) {
                    call.joined_users.push(user_id);
                }
                call.declined.retain(|u| *u != user_id);
                if call.ringing.contains(&user_id) {
                    call.ringing.retain(|u| *u != user_id);
                    outcomes.push(Outcome::StopRinging { user_id });
                }
                outcomes.push(Outcome::Joined { user_id, conn });
            }
            CallEvent::Decline { user_id } => {
                if !call.ringing.contains(&user_id) {
                    return Err(CallRefusal::NotAParticipant);
                }
                call.ringing.retain(|u| *u != user_id);
                if !call.declined.contains(&user_id) {
                    call.declined.push(user_id);
                }
                outcomes.push(Outcome::StopRinging { user_id });
                reason_if_over = EndReason::Declined;
            }
            CallEvent::Leave { conn } => {
                if !call.has_conn(&conn) {
                    return Err(CallRefusal::NotAParticipant);
                }
                leave(&mut call, conn, &mut outcomes);
            }
            CallEvent::Dropped { conn } => {
                let Some(p) = call.participants.iter_mut().find(|p| p.conn == conn) else {
                    return Err(CallRefusal::NotAParticipant);
                };
                p.reconnecting = true;
                outcomes.push(Outcome::Dropped { conn });
            }
            CallEvent::Resume {
                user_id,
                session,
                conn,
            } => {
                if call.has_conn(&conn) {
                    return Ok(Transition { call, outcomes });
                }
                // The session's waiting place first; else its live one (the server may not
                // yet have seen the old socket go).
                let mut places: Vec<&mut Participant> = call
                    .participants
                    .iter_mut()
                    .filter(|p| p.user_id == user_id && p.session == session)
                    .collect();
                places.sort_by_key(|p| !p.reconnecting);
                let Some(p) = places.into_iter().next() else {
                    return Err(CallRefusal::NotAParticipant);
                };
                let from = std::mem::replace(&mut p.conn, conn.clone());
                p.reconnecting = false;
                outcomes.push(Outcome::Resumed { from, to: conn });
            }
            CallEvent::GraceOver { conn } => {
                if !call
                    .participants
                    .iter()
                    .any(|p| p.conn == conn && p.reconnecting)
                {
                    return Err(CallRefusal::NotAParticipant);
                }
                leave(&mut call, conn, &mut outcomes);
            }
            CallEvent::Removed { user_id } => {
                let conns: Vec<String> = call
                    .participants
                    .iter()
                    .filter(|p| p.user_id == user_id)
                    .map(|p| p.conn.clone())
                    .collect();
                let rang = call.ringing.contains(&user_id);
                if conns.is_empty() && !rang {
                    return Err(CallRefusal::NotAParticipant);
                }
                call.participants.retain(|p| p.user_id != user_id);
                call.ringing.retain(|u| *u != user_id);
                if rang {
                    outcomes.push(Outcome::StopRinging { user_id });
                }
                for conn in conns {
                    outcomes.push(Outcome::Left { conn });
                }
                outcomes.push(Outcome::Removed { user_id });
                reason_if_over = if call.answered_at.is_some() {
                    EndReason::Completed
                } else {
                    EndReason::Removed
                };
            }
            CallEvent::Media { conn, audio, video } => {
                let Some(p) = call.participants.iter_mut().find(|p| p.conn == conn) else {
                    return Err(CallRefusal::NotAParticipant);
                };
                p.audio = audio;
                p.video = video;
            }
            CallEvent::RingTimeout => {
                for user_id in std::mem::take(&mut call.ringing) {
                    outcomes.push(Outcome::StopRinging { user_id });
                }
                reason_if_over = EndReason::NoAnswer;
            }
        }
        settle(&mut call, now, reason_if_over, &mut outcomes);
        Ok(Transition { call, outcomes })
    }
}

/// Takes socket `conn` out of the call; the caller's leave while ringing stops the ring.
fn leave(call: &mut Call, conn: String, outcomes: &mut Vec<Outcome>) {
    call.participants.retain(|p| p.conn != conn);
    outcomes.push(Outcome::Left { conn });
    if call.participants.is_empty() && call.state == CallState::Ringing {
        // The caller hung up before anyone answered.
        for user_id in std::mem::take(&mut call.ringing) {
            outcomes.push(Outcome::StopRinging { user_id });
        }
    }
}

/// Makes the call active once two users are in it, and ends it once nobody is left to talk
/// to: fewer than two users and nobody still ringing.
fn settle(call: &mut Call, now: Timestamp, reason: EndReason, outcomes: &mut Vec<Outcome>) {
    if call.user_count() >= 2 {
        if call.answered_at.is_none() {
            call.answered_at = Some(now);
        }
        call.state = CallState::Active;
        return;
    }
    let over = call.participants.is_empty()
        || (call.ringing.is_empty() && (call.answered_at.is_some() || call.user_count() < 2));
    if over {
        end(call, reason, now, outcomes);
    }
}

fn end(call: &mut Call, reason: EndReason, now: Timestamp, outcomes: &mut Vec<Outcome>) {
    for user_id in std::mem::take(&mut call.ringing) {
        outcomes.push(Outcome::StopRinging { user_id });
    }
    for p in std::mem::take(&mut call.participants) {
        outcomes.push(Outcome::Left { conn: p.conn });
    }
    call.state = CallState::Ended;
    call.ended_at = Some(now);
    call.end_reason = Some(reason);
    outcomes.push(Outcome::Ended);
}

/// coturn's REST credentials: `username = "<unix expiry>:<user id>"`,
/// `credential = base64(HMAC-SHA1(secret, username))`.
pub fn turn_credentials(secret: &str, user_id: Uuid, expires_unix: i64) -> (String, String) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let username = format!("{expires_unix}:{user_id}");
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_800_000_000_000);
    const SESSION: Uuid = Uuid::from_u128(77);

    fn users() -> (Uuid, Uuid, Uuid) {
        (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3))
    }

    fn direct() -> Call {
        let (a, b, _) = users();
        Call::start(
            Uuid::from_u128(9),
            Uuid::from_u128(8),
            CallMedia::Video,
            CallMode::P2p,
            a,
            SESSION,
            "1".into(),
            vec![a, b],
            T0,
        )
    }

    fn group() -> Call {
        let (a, b, c) = users();
        Call::start(
            Uuid::from_u128(9),
            Uuid::from_u128(8),
            CallMedia::Audio,
            CallMode::Sfu,
            a,
            SESSION,
            "1".into(),
            vec![a, b, c],
            T0,
        )
    }

    fn join(user_id: Uuid, conn: &str) -> CallEvent {
        CallEvent::Join {
            user_id,
            session: SESSION,
            conn: conn.into(),
            media: CallMedia::Video,
        }
    }

    fn resume(user_id: Uuid, session: Uuid, conn: &str) -> CallEvent {
        CallEvent::Resume {
            user_id,
            session,
            conn: conn.into(),
        }
    }

    #[test]
    fn a_dropped_participant_waits_and_its_session_takes_the_place_back() {
        let (_, b, c) = users();
        let t = direct().step(join(b, "2"), T0, 8).unwrap();
        let t = t
            .call
            .step(CallEvent::Dropped { conn: "2".into() }, T0, 8)
            .unwrap();
        assert_eq!(t.call.state, CallState::Active, "the call goes on");
        assert!(t.call.participants[1].reconnecting);
        assert_eq!(t.outcomes, vec![Outcome::Dropped { conn: "2".into() }]);
        // Another user, or another session of the same user, cannot take it.
        assert_eq!(
            t.call.step(resume(c, SESSION, "5"), T0, 8).unwrap_err(),
            CallRefusal::NotAParticipant
        );
        assert_eq!(
            t.call
                .step(resume(b, Uuid::from_u128(78), "5"), T0, 8)
                .unwrap_err(),
            CallRefusal::NotAParticipant
        );
        let t = t.call.step(resume(b, SESSION, "5"), T0, 8).unwrap();
        assert_eq!(t.call.participants[1].conn, "5");
        assert!(!t.call.participants[1].reconnecting);
        assert_eq!(t.call.participants[1].joined_at, T0);
        assert_eq!(
            t.outcomes,
            vec![Outcome::Resumed {
                from: "2".into(),
                to: "5".into()
            }]
        );
        // The old socket's grace timer then finds nothing to do.
        assert_eq!(
            t.call
                .step(CallEvent::GraceOver { conn: "2".into() }, T0, 8)
                .unwrap_err(),
            CallRefusal::NotAParticipant
        );
    }

    #[test]
    fn a_dropped_participant_that_does_not_come_back_leaves_after_the_grace() {
        let (_, b, _) = users();
        let t = direct().step(join(b, "2"), T0, 8).unwrap();
        let t = t
            .call
            .step(CallEvent::Dropped { conn: "2".into() }, T0, 8)
            .unwrap();
        let t = t
            .call
            .step(
                CallEvent::GraceOver { conn: "2".into() },
                T0.plus_secs(RESUME_GRACE_SECONDS),
                8,
            )
            .unwrap();
        assert_eq!(t.call.state, CallState::Ended);
        assert_eq!(t.call.end_reason, Some(EndReason::Completed));
        assert!(t.outcomes.contains(&Outcome::Ended));
    }

    #[test]
    fn a_direct_call_rings_the_other_member_then_is_answered_and_hung_up() {
        let (a, b, _) = users();
        let call = direct();
        assert_eq!(call.state, CallState::Ringing);
        assert_eq!(call.ringing, vec![b]);
        let t = call.step(join(b, "2"), T0.plus_secs(5), 8).unwrap();
        assert_eq!(t.call.state, CallState::Active);
        assert!(t.call.ringing.is_empty());
        assert!(t.outcomes.contains(&Outcome::StopRinging { user_id: b }));
        assert!(t.outcomes.contains(&Outcome::Joined {
            user_id: b,
            conn: "2".into()
        }));
        let t = t
            .call
            .step(CallEvent::Leave { conn: "1".into() }, T0.plus_secs(65), 8)
            .unwrap();
        assert_eq!(t.call.state, CallState::Ended);
        assert_eq!(t.call.end_reason, Some(EndReason::Completed));
        assert_eq!(t.call.duration_seconds(), 60);
        assert_eq!(t.call.joined_users, vec![a, b]);
        assert!(t.outcomes.contains(&Outcome::Ended));
        assert!(t.outcomes.contains(&Outcome::Left { conn: "2".into() }));
    }

    #[test]
    fn a_declined_direct_call_ends_declined() {
        let (_, b, _) = users();
        let t = direct()
            .step(CallEvent::Decline { user_id: b }, T0, 8)
            .unwrap();
        assert_eq!(t.call.state, CallState::Ended);
        assert_eq!(t.call.end_reason, Some(EndReason::Declined));
        assert_eq!(t.call.declined, vec![b]);
        assert_eq!(t.call.duration_seconds(), 0);
    }

    #[test]
    fn the_callers_leave_while_ringing_cancels() {
        let (_, b, _) = users();
        let t = direct()
            .step(CallEvent::Leave { conn: "1".into() }, T0, 8)
            .unwrap();
        assert_eq!(t.call.end_reason, Some(EndReason::Cancelled));
        assert!(t.outcomes.contains(&Outcome::StopRinging { user_id: b }));
    }

    #[test]
    fn ringing_out_ends_no_answer() {
        let t = direct()
            .step(CallEvent::RingTimeout, T0.plus_secs(RING_SECONDS), 8)
            .unwrap();
        assert_eq!(t.call.end_reason, Some(EndReason::NoAnswer));
    }

    #[test]
    fn a_busy_callee_ends_a_direct_call_but_only_skips_a_group_member() {
        let (_, b, c) = users();
        let t = direct().busy(b, T0);
        assert_eq!(t.call.end_reason, Some(EndReason::Busy));
        let t = group().busy(b, T0);
        assert_eq!(t.call.state, CallState::Ringing);
        assert_eq!(t.call.ringing, vec![c]);
    }

    #[test]
    fn a_group_call_goes_on_while_two_remain_and_ends_when_one_is_left() {
        let (_, b, c) = users();
        let t = group().step(join(b, "2"), T0, 8).unwrap();
        assert_eq!(t.call.state, CallState::Active);
        assert_eq!(t.call.ringing, vec![c]);
        let t = t.call.step(join(c, "3"), T0, 8).unwrap();
        let t = t
            .call
            .step(CallEvent::Leave { conn: "1".into() }, T0, 8)
            .unwrap();
        assert_eq!(t.call.state, CallState::Active);
        let t = t
            .call
            .step(CallEvent::Leave { conn: "2".into() }, T0, 8)
            .unwrap();
        assert_eq!(t.call.state, CallState::Ended);
        assert_eq!(t.call.end_reason, Some(EndReason::Completed));
    }

    #[test]
    fn one_group_member_declining_keeps_the_others_ringing() {
        let (_, b, c) = users();
        let t = group()
            .step(CallEvent::Decline { user_id: b }, T0, 8)
            .unwrap();
        assert_eq!(t.call.state, CallState::Ringing);
        let t = t
            .call
            .step(CallEvent::Decline { user_id: c }, T0, 8)
            .unwrap();
        assert_eq!(t.call.end_reason, Some(EndReason::Declined));
    }

    #[test]
    fn a_full_call_refuses_another_user_but_not_their_second_socket() {
        let (a, b, c) = users();
        let t = group().step(join(b, "2"), T0, 2).unwrap();
        assert_eq!(
            t.call.step(join(c, "3"), T0, 2).unwrap_err(),
            CallRefusal::Full
        );
        assert!(t.call.step(join(a, "4"), T0, 2).is_ok());
    }

    #[test]
    fn a_removed_member_leaves_and_a_direct_call_ends() {
        let (_, b, _) = users();
        let t = direct().step(join(b, "2"), T0, 8).unwrap();
        let t = t
            .call
            .step(CallEvent::Removed { user_id: b }, T0.plus_secs(3), 8)
            .unwrap();
        assert!(t.outcomes.contains(&Outcome::Removed { user_id: b }));
        assert!(t.outcomes.contains(&Outcome::Left { conn: "2".into() }));
        assert_eq!(t.call.state, CallState::Ended);
    }

    #[test]
    fn strangers_and_ended_calls_are_refused() {
        let (_, _, c) = users();
        let call = direct();
        assert_eq!(
            call.step(CallEvent::Decline { user_id: c }, T0, 8)
                .unwrap_err(),
            CallRefusal::NotAParticipant
        );
        assert_eq!(
            call.step(CallEvent::Leave { conn: "7".into() }, T0, 8)
                .unwrap_err(),
            CallRefusal::NotAParticipant
        );
        let ended = call.step(CallEvent::RingTimeout, T0, 8).unwrap().call;
        assert_eq!(
            ended.step(join(c, "3"), T0, 8).unwrap_err(),
            CallRefusal::Ended
        );
    }

    #[test]
    fn the_call_frame_has_the_contract_fields() {
        let json = serde_json::to_value(direct()).unwrap();
        assert_eq!(json["mode"], "p2p");
        assert_eq!(json["state"], "ringing");
        assert_eq!(json["participants"][0]["conn"], "1");
        assert!(json.get("ended_at").is_none());
        assert!(json.get("answered_at").is_none());
    }

    #[test]
    fn turn_credentials_follow_coturns_rest_scheme() {
        // Expected value from `openssl dgst -sha1 -hmac secret -binary | base64`.
        let (user, cred) = turn_credentials("secret", Uuid::from_u128(1), 1_800_000_000);
        assert_eq!(user, "1800000000:00000000-0000-0000-0000-000000000001");
        assert_eq!(cred, "adObmVVYzHP94O4ZGo0SJwvdNzU=");
    }
}
