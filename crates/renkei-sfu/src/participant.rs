//! One participant's WebRTC session with the relay: its `Rtc`, the tracks it sends in, the
//! tracks the relay sends it, and where their SDP negotiation is.
//!
//! Reasons:
//! - The relay is ICE-lite with one host candidate (the shared socket's public address):
//!   the browser does the checks, so no candidates are ever sent and NAT'd browsers work.
//! - The browser offers first (its camera and microphone); the relay answers. New tracks
//!   from others need the relay to offer; it does so only when no offer of its own is
//!   outstanding, and ignores a browser offer that crosses its own (the relay is the
//!   impolite side of perfect negotiation; the browser rolls back and answers).
//! - A sending track goes through `ToOpen → Negotiating → Open` and `ToStop →
//!   NegotiatingStop → gone`, so a track is only written to once the receiver agreed to it.

use std::time::{Duration, Instant};

use renkei_core::call::LayerWant;
use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, Mid, Rid};
use str0m::{Candidate, Event, Output, Rtc};

use crate::error::SfuError;
use crate::layers::Choice;
use crate::routing::{Plan, Source};
use crate::timeline::Timeline;
pub use crate::tracks::{OutState, TrackIn, TrackOut};

/// The estimate the bandwidth estimator starts from, before feedback arrives.
const INITIAL_BITRATE: Bitrate = Bitrate::kbps(1_000);
/// Keyframe requests for one layer at most this often: a keyframe costs the sender many
/// times a normal frame.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// An offer of the relay not answered in this time is given up and made again, so one lost
/// answer does not stop every later track from reaching the participant.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// Something a participant's session produced that concerns the others.
#[derive(Debug)]
pub enum Happened {
    /// The participant sends a new track, or stopped sending one.
    TracksChanged,
    /// A frame of one of its tracks arrived.
    Media(Box<MediaData>),
    /// It asks for a keyframe of a track the relay sends it (`mid` on its side).
    KeyframeRequest(Mid),
    /// A new bandwidth estimate towards it.
    Bandwidth,
}

/// One participant.
pub struct Participant {
    pub conn: String,
    pub rtc: Rtc,
    /// The relay's outstanding offer, and when it was made.
    pending: Option<(SdpPendingOffer, Instant)>,
    pub tracks_in: Vec<TrackIn>,
    pub tracks_out: Vec<TrackOut>,
    pub wants: Vec<LayerWant>,
    /// The estimated bandwidth towards this participant, bits per second.
    pub bandwidth: Option<u64>,
    /// Until when layers only go down or stay, after congestion (see `layers::budget`).
    pub held_until: Option<Instant>,
    /// Since when the estimate is below what is sent to this participant.
    pub below_since: Option<Instant>,
    measured_since: Instant,
}

impl Participant {
    /// A participant from its first offer; the answer to send back.
    pub fn from_offer(
        conn: &str,
        offer: SdpOffer,
        public: std::net::SocketAddr,
        now: Instant,
    ) -> Result<(Participant, SdpAnswer), SfuError> {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .enable_bwe(Some(INITIAL_BITRATE))
            .build(now);
        let host = Candidate::host(public, "udp")
            .map_err(|e| SfuError::SdpRejected(format!("host candidate: {e}")))?;
        rtc.add_local_candidate(host);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| SfuError::SdpRejected(e.to_string()))?;
        let participant = Participant {
            conn: conn.to_owned(),
            rtc,
            pending: None,
            tracks_in: Vec::new(),
            tracks_out: Vec::new(),
            wants: Vec::new(),
            bandwidth: None,
            held_until: None,
            below_since: None,
            measured_since: now,
        };
        Ok((participant, answer))
    }

    /// A later offer (a new track, an ICE restart). `None` when it crossed the relay's own
    /// offer and is ignored.
    pub fn offer(&mut self, offer: SdpOffer) -> Result<Option<SdpAnswer>, SfuError> {
        if self.pending.is_some() {
            tracing::debug!(conn = %self.conn, "browser offer crossed ours; ignored");
            return Ok(None);
        }
        self.rtc
            .sdp_api()
            .accept_offer(offer)
            .map(Some)
            .map_err(|e| SfuError::SdpRejected(e.to_string()))
    }

    /// The answer to the relay's offer.
    pub fn answer(&mut self, answer: SdpAnswer) -> Result<(), SfuError> {
        let (pending, _) = self
            .pending
            .take()
            .ok_or_else(|| SfuError::SdpRejected("no offer of the relay is outstanding".into()))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| SfuError::SdpRejected(e.to_string()))?;
        for track in &mut self.tracks_out {
            if let OutState::Negotiating(m) = track.state {
                track.state = OutState::Open(m);
            }
        }
        self.tracks_out
            .retain(|t| !matches!(t.state, OutState::NegotiatingStop(_)));
        Ok(())
    }

    /// A remote candidate (harmless for an ICE-lite relay; kept for completeness).
    pub fn candidate(&mut self, candidate: Candidate) {
        self.rtc.add_remote_candidate(candidate);
    }

    /// The sources of the tracks the relay sends or will send to this participant.
    pub fn sending(&self) -> Vec<Source> {
        self.tracks_out
            .iter()
            .filter(|t| t.kept())
            .map(|t| t.source.clone())
            .collect()
    }

    /// Applies a routing plan; `kind` says each opened source's media kind.
    pub fn apply(&mut self, plan: Plan, kind: impl Fn(&Source) -> Option<MediaKind>) {
        for source in plan.stop {
            self.tracks_out.retain_mut(|t| {
                if t.source != source || !t.kept() {
                    return true;
                }
                match t.state {
                    OutState::ToOpen => return false,
                    OutState::Negotiating(m) | OutState::Open(m) => t.state = OutState::ToStop(m),
                    _ => {}
                }
                true
            });
        }
        for source in plan.open {
            let Some(kind) = kind(&source) else { continue };
            self.tracks_out.push(TrackOut {
                source,
                kind,
                state: OutState::ToOpen,
                target: Choice::Pause,
                current: None,
                timeline: Timeline::default(),
            });
        }
    }

    /// The relay's offer, when tracks are to be opened or stopped and no offer is
    /// outstanding.
    pub fn negotiate(&mut self, now: Instant) -> Option<SdpOffer> {
        if let Some((_, since)) = &self.pending {
            if now.saturating_duration_since(*since) < ANSWER_WAIT {
                return None;
            }
            tracing::info!(conn = %self.conn, "no answer to the relay's offer; offering again");
            self.pending = None;
            for track in &mut self.tracks_out {
                track.state = match track.state {
                    OutState::Negotiating(_) => OutState::ToOpen,
                    OutState::NegotiatingStop(m) => OutState::ToStop(m),
                    other => other,
                };
            }
        }
        let mut change = self.rtc.sdp_api();
        let mut planned = Vec::new();
        for (i, track) in self.tracks_out.iter().enumerate() {
            match track.state {
                OutState::ToOpen => {
                    // The stream id is the sender's conn: the browser groups the tracks of one
                    // participant by it (`RTCTrackEvent.streams[0].id`).
                    let track_id = format!("{}-{}", track.source.conn, track.source.mid);
                    let mid = change.add_media(
                        track.kind,
                        Direction::SendOnly,
                        Some(track.source.conn.clone()),
                        Some(track_id),
                        None,
                    );
                    planned.push((i, OutState::Negotiating(mid)));
                }
                OutState::ToStop(mid) => {
                    change.stop_media(mid);
                    planned.push((i, OutState::NegotiatingStop(mid)));
                }
                _ => {}
            }
        }
        if !change.has_changes() {
            return None;
        }
        let (offer, pending) = change.apply()?;
        for (i, state) in planned {
            self.tracks_out[i].state = state;
        }
        self.pending = Some((pending, now));
        Some(offer)
    }

    /// Runs the session until it has nothing more to do now: sends what it has to send
    /// through `transmit` and collects what concerns the others. Returns when to call again.
    pub fn poll(
        &mut self,
        transmit: &mut impl FnMut(&str0m::net::Transmit),
        happened: &mut Vec<Happened>,
    ) -> Instant {
        loop {
            if !self.rtc.is_alive() {
                return Instant::now();
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return t,
                Ok(Output::Transmit(t)) => transmit(&t),
                Ok(Output::Event(event)) => {
                    if let Some(h) = self.event(event) {
                        happened.push(h);
                    }
                }
                Err(e) => {
                    tracing::warn!(conn = %self.conn, error = %e, "media session failed");
                    self.rtc.disconnect();
                }
            }
        }
    }

    fn event(&mut self, event: Event) -> Option<Happened> {
        match event {
            Event::MediaAdded(added) if added.direction.is_receiving() => {
                if self.tracks_in.iter().any(|t| t.mid == added.mid) {
                    return None;
                }
                self.tracks_in.push(TrackIn {
                    mid: added.mid,
                    kind: added.kind,
                    layers: Vec::new(),
                });
                Some(Happened::TracksChanged)
            }
            // The browser stopped a track (camera off: the transceiver goes `inactive` or is
            // stopped), or sends again on one.
            Event::MediaChanged(changed) => {
                let known = self.tracks_in.iter().position(|t| t.mid == changed.mid);
                match (known, changed.direction.is_receiving()) {
                    (Some(i), false) => {
                        self.tracks_in.remove(i);
                        Some(Happened::TracksChanged)
                    }
                    (None, true) => {
                        let kind = self.rtc.media(changed.mid)?.kind();
                        self.tracks_in.push(TrackIn {
                            mid: changed.mid,
                            kind,
                            layers: Vec::new(),
                        });
                        Some(Happened::TracksChanged)
                    }
                    _ => None,
                }
            }
            Event::MediaData(data) => {
                self.measure(&data);
                Some(Happened::Media(Box::new(data)))
            }
            Event::KeyframeRequest(req) => Some(Happened::KeyframeRequest(req.mid)),
            Event::EgressBitrateEstimate(BweKind::Twcc(bitrate)) => {
                self.bandwidth = Some(bitrate.as_u64());
                Some(Happened::Bandwidth)
            }
            Event::EgressBitrateEstimate(BweKind::Remb(_, bitrate)) => {
                self.bandwidth = Some(bitrate.as_u64());
                Some(Happened::Bandwidth)
            }
            _ => None,
        }
    }

    /// Counts a frame into its track's layer.
    fn measure(&mut self, data: &MediaData) {
        if let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == data.mid) {
            track.count(data);
        }
    }

    /// Turns the bytes counted since the last call into each layer's bitrate.
    pub fn update_bitrates(&mut self, now: Instant) {
        let secs = now
            .saturating_duration_since(self.measured_since)
            .as_secs_f64();
        if secs < 0.2 {
            return;
        }
        for layer in self.tracks_in.iter_mut().flat_map(|t| t.layers.iter_mut()) {
            layer.bitrate = (layer.bytes as f64 * 8.0 / secs) as u64;
            layer.bytes = 0;
        }
        self.measured_since = now;
    }

    /// Asks this participant for a keyframe of layer `rid` of its track `mid`, unless one
    /// was asked for very recently.
    pub fn request_keyframe(&mut self, mid: Mid, rid: Option<Rid>, now: Instant) {
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return;
        };
        let Some(layer) = track.layers.iter_mut().find(|l| l.rid == rid) else {
            return;
        };
        if layer
            .last_keyframe_request
            .is_some_and(|t| now.saturating_duration_since(t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        let Some(mut writer) = self.rtc.writer(mid) else {
            return;
        };
        let kind = if writer.is_request_keyframe_possible(KeyframeRequestKind::Pli) {
            KeyframeRequestKind::Pli
        } else {
            KeyframeRequestKind::Fir
        };
        if let Err(e) = writer.request_keyframe(rid, kind) {
            tracing::debug!(conn = %self.conn, error = %e, "keyframe request failed");
        }
        layer.last_keyframe_request = Some(now);
    }

    /// Writes a frame of another participant's track to this participant, if it receives
    /// that track and the frame is of the layer it gets. A layer switch waits for a
    /// keyframe of the new layer, and keeps forwarding the old layer until then.
    pub fn forward(&mut self, from: &str, data: &MediaData) {
        let Some(track) = self.tracks_out.iter_mut().find(|t| {
            t.source.conn == from
                && *t.source.mid == *data.mid
                && matches!(t.state, OutState::Open(_))
        }) else {
            return;
        };
        let Some(mid) = track.mid() else { return };
        if track.kind == MediaKind::Video {
            let Choice::Layer(target) = &track.target else {
                return;
            };
            let rid = data.rid.map(|r| r.to_string());
            let on_current = track
                .current
                .is_some_and(|c| c.map(|r| r.to_string()) == rid);
            if rid == *target && !on_current {
                if !data.is_keyframe() {
                    // Still on the old layer (or none) until the new one's keyframe.
                    return;
                }
                track.current = Some(data.rid);
                track.timeline.switch(data.time, data.network_time);
            } else if !on_current {
                return;
            }
        } else if track.current.is_none() {
            track.current = Some(data.rid);
            track.timeline.switch(data.time, data.network_time);
        }
        let time = track.timeline.map(data.time, data.network_time);
        let Some(writer) = self.rtc.writer(mid) else {
            return;
        };
        let Some(pt) = writer.match_params(data.params) else {
            return;
        };
        if let Err(e) = writer.write(pt, data.network_time, time, data.data.clone()) {
            tracing::debug!(conn = %self.conn, error = %e, "forwarding a frame failed");
        }
    }
}
