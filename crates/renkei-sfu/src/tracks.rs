//! The tracks of a participant's session: those it sends in (with each simulcast layer's
//! measured size, bitrate and liveness) and those the relay sends it (with where their
//! negotiation is and which layer they carry).
//!
//! Kept apart from `participant` (the session and its negotiation) because the room reads
//! these to decide, and only the session writes them.

use std::time::{Duration, Instant};

use str0m::media::{MediaData, MediaKind, Mid, Rid};

use crate::layers::{Choice, Layer};
use crate::routing::Source;
use crate::timeline::Timeline;
use crate::vp8;

/// A simulcast layer with no frame for this long is off (the browser's encoder drops top
/// layers when its own uplink or CPU is short) and is not chosen: a receiver switched to it
/// would wait for a keyframe that never comes.
const LAYER_OFF_AFTER: Duration = Duration::from_secs(1);

/// One simulcast layer (or the only stream) of an incoming track, as measured.
#[derive(Debug)]
pub struct LayerIn {
    pub rid: Option<Rid>,
    pub width: u32,
    pub height: u32,
    /// Bits per second over the last measuring period.
    pub bitrate: u64,
    pub(crate) bytes: u64,
    pub(crate) last_frame: Instant,
    pub(crate) last_keyframe_request: Option<Instant>,
}

/// A track the participant sends to the relay.
#[derive(Debug)]
pub struct TrackIn {
    pub mid: Mid,
    pub kind: MediaKind,
    pub layers: Vec<LayerIn>,
}

impl TrackIn {
    /// Counts a frame into its layer's bytes, and learns the layer's size from a keyframe.
    pub fn count(&mut self, data: &MediaData) {
        let layer = match self.layers.iter().position(|l| l.rid == data.rid) {
            Some(i) => &mut self.layers[i],
            None => {
                self.layers.push(LayerIn {
                    rid: data.rid,
                    width: 0,
                    height: 0,
                    bitrate: 0,
                    bytes: 0,
                    last_keyframe_request: None,
                    last_frame: data.network_time,
                });
                self.layers.last_mut().expect("just pushed")
            }
        };
        layer.bytes += data.data.len() as u64;
        layer.last_frame = data.network_time;
        if let Some((width, height)) = vp8::keyframe_size(&data.data) {
            layer.width = width;
            layer.height = height;
        }
    }

    /// The layers that are flowing, as the layer choice sees them, smallest first.
    pub fn layers(&self, now: Instant) -> Vec<Layer> {
        let mut layers: Vec<Layer> = self
            .layers
            .iter()
            .filter(|l| now.saturating_duration_since(l.last_frame) < LAYER_OFF_AFTER)
            .map(|l| Layer {
                rid: l.rid.map(|r| r.to_string()),
                width: l.width,
                height: l.height,
                bitrate: l.bitrate,
            })
            .collect();
        crate::layers::order(&mut layers);
        crate::layers::assume_sizes(&mut layers);
        layers
    }
}

/// Where one sending track's negotiation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutState {
    ToOpen,
    Negotiating(Mid),
    Open(Mid),
    ToStop(Mid),
    NegotiatingStop(Mid),
}

/// A track the relay sends to the participant: another participant's track.
#[derive(Debug)]
pub struct TrackOut {
    pub source: Source,
    pub kind: MediaKind,
    pub state: OutState,
    /// The layer to forward (video), decided by the layer choice.
    pub target: Choice,
    /// The layer being forwarded now; `None` until a keyframe of the target arrived.
    pub current: Option<Option<Rid>>,
    pub timeline: Timeline,
}

impl TrackOut {
    /// The mid on the participant's side, once there is one.
    pub fn mid(&self) -> Option<Mid> {
        match self.state {
            OutState::ToOpen => None,
            OutState::Negotiating(m)
            | OutState::Open(m)
            | OutState::ToStop(m)
            | OutState::NegotiatingStop(m) => Some(m),
        }
    }

    /// Whether the track is kept (not on its way out).
    pub fn kept(&self) -> bool {
        !matches!(
            self.state,
            OutState::ToStop(_) | OutState::NegotiatingStop(_)
        )
    }
}
