//! The WebSocket protocol's frames, both directions (see docs/PROTOCOL.md).

use std::collections::HashMap;
use std::sync::Arc;

use renkei_core::Uuid;
use renkei_core::call::{Call, CallMedia, LayerWant};
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Event, NewMessage};
use serde::{Deserialize, Serialize};

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// First frame: the token (unless the cookie authenticated the upgrade) and, to catch up,
    /// the last event seq the client has of each conversation it knows.
    Hello {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        positions: Option<HashMap<Uuid, i64>>,
    },
    /// Post a message; answered with `ack` once durable, or `error`.
    Send {
        conversation_id: Uuid,
        #[serde(flatten)]
        message: NewMessage,
    },
    /// Mark read up to `seq`.
    Read { conversation_id: Uuid, seq: i64 },
    /// The user is typing.
    Typing { conversation_id: Uuid },
    /// Keep-alive; `active` says the user is using the app (keeps the idle lock away).
    Ping {
        #[serde(default)]
        active: bool,
    },
    /// A call or shared-view frame (its own budget and handler); matched by its `type` when
    /// no frame above has that name.
    #[serde(untagged)]
    Call(CallFrame),
}

/// Why malformed `text` is not a call frame, when it was meant as one (its `type` starts
/// `call_` or `view_`): answered `invalid_call_frame` with that reason.
pub fn call_frame_error(text: &str) -> Option<serde_json::Error> {
    let meant = serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
        v["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("call_") || t.starts_with("view_"))
    });
    if !meant {
        return None;
    }
    serde_json::from_str::<CallFrame>(text).err()
}

/// What a client may send about a call: every frame whose `type` starts `call_` or `view_`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CallFrame {
    /// Start a call in a conversation (or join the one already there).
    CallStart {
        conversation_id: Uuid,
        media: CallMedia,
    },
    /// Accept a ringing call, or join a running group call.
    CallJoin { call_id: Uuid, media: CallMedia },
    /// Decline a ringing call (every socket of the user stops ringing).
    CallDecline { call_id: Uuid },
    /// Hang up (the caller's leave while ringing cancels the call).
    CallLeave { call_id: Uuid },
    /// After a reconnect: this socket takes back the place the same session's old socket held
    /// (within the resume grace).
    CallResume { call_id: Uuid },
    /// SDP or ICE for another participant's socket, or `"sfu"`; relayed unchanged.
    CallSignal {
        call_id: Uuid,
        to_conn: String,
        data: serde_json::Value,
    },
    /// This socket's mute state.
    CallMedia {
        call_id: Uuid,
        audio: bool,
        video: bool,
    },
    /// What each shown tile of a group call needs (the SFU picks layers from it).
    CallLayers {
        call_id: Uuid,
        wants: Vec<LayerWant>,
    },
    /// The sender leads the shared view of a study or photo.
    ViewShare {
        call_id: Uuid,
        target: ViewTarget,
        state: ViewState,
    },
    /// The sender stops leading the shared view.
    ViewStop { call_id: Uuid },
}

/// What a shared view shows: a study or a photo (a medium) of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewTarget {
    pub kind: ViewKind,
    pub id: Uuid,
}

/// The kind of thing a shared view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    Study,
    Media,
}

/// Where the leader's viewer is: only these fields, numbers but the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_center: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_width: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pan_x: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pan_y: Option<f64>,
    /// The leader's pointer in image coordinates (0..1), or none.
    #[serde(default)]
    pub pointer: Option<Pointer>,
}

/// A point on the image, 0..1 each way.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pointer {
    pub x: f64,
    pub y: f64,
}

/// A shared view's target as a participant receives it: the id only for those who may open it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SharedTarget {
    pub kind: ViewKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// Authenticated; replay follows.
    Welcome {
        user_id: Uuid,
        /// This socket's id: calls address sockets, not users.
        conn: String,
    },
    /// Every missed event has been sent; live events follow.
    Synced,
    Event {
        event: &'a Event,
    },
    Ack {
        conversation_id: Uuid,
        client_msg_id: &'a str,
        seq: i64,
        duplicate: bool,
    },
    Error {
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<&'a str>,
    },
    Receipt {
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
    },
    Typing {
        conversation_id: Uuid,
        user_id: Uuid,
    },
    /// How far members' devices got with the conversation: `pushed` (a push service took a
    /// push up to `seq`) or `delivered` (a device showed or received it); every mark of one
    /// conversation that moved in one write, in one frame.
    Delivery {
        conversation_id: Uuid,
        state: &'a str,
        marks: &'a [MarkMoved],
    },
    /// You were removed from this conversation: nothing more of it will come.
    Removed {
        conversation_id: Uuid,
    },
    Pong,
    /// A recipient acknowledged urgent message `seq` (the same `type` as a post's `ack`; this
    /// one names a `user_id` and no `client_msg_id`).
    #[serde(rename = "ack")]
    Acknowledged {
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
        acknowledged_at: Timestamp,
    },
    /// Urgent message `seq`, unacknowledged by `user_id`, was escalated to their covering
    /// colleague.
    Escalated {
        conversation_id: Uuid,
        seq: i64,
        user_id: Uuid,
        covering_user_id: Uuid,
    },
    /// The image inbox changed (a study arrived or grew): list it again. Carries no patient data.
    InboxChanged {
        study_id: Uuid,
    },
    /// A call in one of your conversations, on every change.
    Call {
        call: &'a Call,
    },
    /// SDP or ICE from another participant's socket (`from_conn = "sfu"`, no user: the SFU).
    CallSignal {
        call_id: Uuid,
        from_user: Option<Uuid>,
        from_conn: &'a str,
        data: &'a serde_json::Value,
    },
    /// A participant leads the shared view; `allowed = false` (and no id) when you may not
    /// open the target.
    ViewShare {
        call_id: Uuid,
        from_user: Uuid,
        target: SharedTarget,
        #[serde(skip_serializing_if = "Option::is_none")]
        state: Option<&'a ViewState>,
        allowed: bool,
    },
    /// The participant stopped leading the shared view.
    ViewStop {
        call_id: Uuid,
        from_user: Uuid,
    },
}

impl ServerFrame<'_> {
    /// The frame as JSON text, shared by every socket it goes to.
    pub fn text(&self) -> Arc<str> {
        serde_json::to_string(self).unwrap_or_default().into()
    }
}

/// Close codes beyond RFC 6455's, each with the reason sent alongside.
pub mod close {
    /// The session ended (signed out, suspended, retired, expired) or never authenticated.
    pub const UNAUTHENTICATED: u16 = 4001;
    /// The session is passcode-locked: unlock over HTTP, then reconnect.
    pub const LOCKED: u16 = 4023;
    /// The client fell behind; reconnect and send your positions to catch up.
    pub const RESYNC: u16 = 4008;
    /// Too many frames too fast.
    pub const RATE_LIMITED: u16 = 4029;
    /// Frames that are not the protocol.
    pub const PROTOCOL: u16 = 1008;
    /// Binary frames are not accepted.
    pub const UNSUPPORTED: u16 = 1003;
}

/// One member's mark in a `delivery` frame.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MarkMoved {
    pub user_id: Uuid,
    pub seq: i64,
}
