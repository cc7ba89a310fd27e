//! The `call_signal` data the relay reads and writes, in the browser's own JSON shapes.
//!
//! Inbound: `{"description": {"type": "offer"|"answer", "sdp"}}` (what
//! `RTCPeerConnection.localDescription` serialises to) or `{"candidate": {"candidate", …}}`
//! (an `RTCIceCandidate`'s JSON; `null` or an empty string ends the candidates).
//! Outbound: the same `description` shape, and `SfuError::to_signal` for errors. The relay
//! is ICE-lite with one host candidate written into every SDP, so it never sends candidates.

use serde_json::{Value, json};
use str0m::Candidate;
use str0m::change::{SdpAnswer, SdpOffer};

use crate::error::SfuError;

/// A signal from a participant, parsed.
#[derive(Debug)]
pub enum Inbound {
    Offer(SdpOffer),
    Answer(SdpAnswer),
    /// A remote candidate; `None` for the end of candidates or one the relay cannot use
    /// (an mDNS `.local` name): the relay is ICE-lite and learns the address from the
    /// browser's checks anyway.
    Candidate(Option<Candidate>),
}

/// Parses `data`.
pub fn parse(data: &Value) -> Result<Inbound, SfuError> {
    if let Some(description) = data.get("description") {
        let kind = description.get("type").and_then(Value::as_str);
        let sdp = description
            .get("sdp")
            .and_then(Value::as_str)
            .ok_or_else(|| SfuError::InvalidSignal("description without sdp".into()))?;
        let bad = |e: str0m::error::SdpError| SfuError::InvalidSignal(format!("bad SDP: {e}"));
        return match kind {
            Some("offer") => SdpOffer::from_sdp_string(sdp)
                .map(Inbound::Offer)
                .map_err(bad),
            Some("answer") => SdpAnswer::from_sdp_string(sdp)
                .map(Inbound::Answer)
                .map_err(bad),
            other => Err(SfuError::InvalidSignal(format!(
                "description type {other:?} (want offer or answer)"
            ))),
        };
    }
    if let Some(candidate) = data.get("candidate") {
        let line = match candidate {
            Value::Null => "",
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("candidate").and_then(Value::as_str).unwrap_or(""),
            _ => return Err(SfuError::InvalidSignal("candidate is not an object".into())),
        };
        let line = line.trim().trim_start_matches("a=");
        return Ok(Inbound::Candidate(
            (!line.is_empty())
                .then(|| Candidate::from_sdp_string(line).ok())
                .flatten(),
        ));
    }
    Err(SfuError::InvalidSignal(
        "want a description or a candidate".into(),
    ))
}

/// The data of an offer or answer the relay sends.
pub fn description(kind: &str, sdp: String) -> Value {
    json!({"description": {"type": kind, "sdp": sdp}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_invalid_signal() {
        for data in [
            json!({}),
            json!("offer"),
            json!({"description": {"type": "offer"}}),
            json!({"description": {"type": "pranswer", "sdp": "v=0"}}),
            json!({"description": {"type": "offer", "sdp": "not sdp at all"}}),
            json!({"candidate": 5}),
        ] {
            let err = parse(&data).unwrap_err();
            assert_eq!(err.code(), "invalid_signal", "{data}");
        }
    }

    #[test]
    fn the_end_of_candidates_and_mdns_names_are_no_candidate() {
        for data in [
            json!({"candidate": null}),
            json!({"candidate": {"candidate": "", "sdpMid": "0"}}),
            json!({"candidate": {"candidate": "candidate:1 1 udp 2122260223 3b1e6c4a-4f0d.local 50000 typ host"}}),
        ] {
            assert!(
                matches!(parse(&data), Ok(Inbound::Candidate(None))),
                "{data}"
            );
        }
    }

    #[test]
    fn a_host_candidate_parses() {
        let data = json!({"candidate": {"candidate": "candidate:1 1 udp 2122260223 192.0.2.7 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}});
        let Ok(Inbound::Candidate(Some(c))) = parse(&data) else {
            panic!("no candidate");
        };
        assert_eq!(c.addr().to_string(), "192.0.2.7:50000");
    }
}
