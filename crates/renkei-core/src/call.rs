//! Calls in a conversation: the seam to the media relay (the SFU) for group calls. No I/O.
//!
//! Part F's copy holds only the seam of the contract; part S's file (the call's state
//! machine) is a superset of it and wins at the merge.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
