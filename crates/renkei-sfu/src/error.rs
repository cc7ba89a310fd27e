//! The relay's errors, with the stable codes a participant sees in an error signal.

use serde_json::{Value, json};

/// Why the relay refused a signal. Sent back to the participant as
/// `{"error": {"code", "message"}}` (a `call_signal` from `"sfu"`); nothing here panics
/// or ends the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SfuError {
    /// `data` is neither a description nor a candidate, or its SDP does not parse.
    #[error("not a signal the relay understands: {0}")]
    InvalidSignal(String),
    /// str0m refused the offer or answer (no m-lines, no fingerprint, …).
    #[error("the relay cannot use this description: {0}")]
    SdpRejected(String),
    /// An answer, candidate or layers for a participant the relay has no offer from.
    #[error("no media session for this participant; send an offer first")]
    UnknownParticipant,
    /// The call already has the most participants the relay takes.
    #[error("the call has the most participants the relay takes")]
    CallFull,
    /// The call ended; the relay takes nothing more for it.
    #[error("the call has ended")]
    CallEnded,
}

impl SfuError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SfuError::InvalidSignal(_) => "invalid_signal",
            SfuError::SdpRejected(_) => "sdp_rejected",
            SfuError::UnknownParticipant => "unknown_participant",
            SfuError::CallFull => "call_full",
            SfuError::CallEnded => "call_ended",
        }
    }

    /// The `data` of the error signal.
    pub fn to_signal(&self) -> Value {
        json!({"error": {"code": self.code(), "message": self.to_string()}})
    }
}
