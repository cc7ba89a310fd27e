//! The WebSocket protocol's frames, both directions (see docs/PROTOCOL.md).

use std::collections::HashMap;
use std::sync::Arc;

use renkei_core::Uuid;
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
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// Authenticated; replay follows.
    Welcome {
        user_id: Uuid,
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
    /// How far a member's devices got with the conversation: `pushed` (a push service took
    /// a push up to `seq`) or `delivered` (a device showed or received it).
    Delivery {
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
        state: &'a str,
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
