//! One call's participants, and what passes between them: tracks, frames, keyframe
//! requests, and each receiver's layer choice.
//!
//! The decisions are the pure functions of `routing` (who receives what) and `layers`
//! (which layer); this module gathers their inputs from the sessions and applies them.

use std::time::Instant;

use str0m::bwe::Bitrate;
use str0m::change::SdpOffer;
use str0m::media::{MediaData, MediaKind, Mid, Rid};

use crate::layers::{self, Choice, Need, Shown};
use crate::participant::{Happened, OutState, Participant};
use crate::routing::{self, Source};

/// A call's participants, by conn.
#[derive(Default)]
pub struct Room {
    pub participants: Vec<Participant>,
}

impl Room {
    pub fn get_mut(&mut self, conn: &str) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.conn == conn)
    }

    pub fn remove(&mut self, conn: &str) -> bool {
        let before = self.participants.len();
        self.participants.retain(|p| p.conn != conn);
        before != self.participants.len()
    }

    /// Brings every participant's sending tracks in line with every incoming track, and
    /// returns the offers that need to go out.
    pub fn route(&mut self, now: Instant) -> Vec<(String, SdpOffer)> {
        let sources: Vec<(Source, MediaKind)> = self
            .participants
            .iter()
            .flat_map(|p| {
                p.tracks_in.iter().map(|t| {
                    (
                        Source {
                            conn: p.conn.clone(),
                            mid: t.mid.to_string(),
                        },
                        t.kind,
                    )
                })
            })
            .collect();
        let only_sources: Vec<Source> = sources.iter().map(|(s, _)| s.clone()).collect();
        let kind_of = |s: &Source| sources.iter().find(|(x, _)| x == s).map(|(_, k)| *k);
        let mut offers = Vec::new();
        for p in &mut self.participants {
            let plan = routing::plan(&p.conn, &only_sources, &p.sending());
            if !plan.is_empty() {
                p.apply(plan, kind_of);
            }
            if let Some(offer) = p.negotiate(now) {
                offers.push((p.conn.clone(), offer));
            }
        }
        offers
    }

    /// Acts on what participant `from` produced.
    pub fn happened(&mut self, from: &str, happened: Happened, now: Instant) {
        match happened {
            Happened::TracksChanged | Happened::Bandwidth => {}
            Happened::Media(data) => self.forward(from, &data),
            Happened::KeyframeRequest(mid) => self.keyframe_for(from, mid, now),
        }
    }

    fn forward(&mut self, from: &str, data: &MediaData) {
        for p in self.participants.iter_mut().filter(|p| p.conn != from) {
            p.forward(from, data);
        }
    }

    /// Receiver `receiver` asks for a keyframe on its `mid`: ask the track's sender for the
    /// layer the receiver gets.
    fn keyframe_for(&mut self, receiver: &str, mid: Mid, now: Instant) {
        let Some(r) = self.participants.iter().find(|p| p.conn == receiver) else {
            return;
        };
        let Some(track) = r.tracks_out.iter().find(|t| t.mid() == Some(mid)) else {
            return;
        };
        let rid = match (&track.current, &track.target) {
            (Some(current), _) => *current,
            (None, Choice::Layer(rid)) => rid.as_deref().map(Rid::from),
            (None, Choice::Pause) => return,
        };
        let source = track.source.clone();
        self.request_keyframe(&source, rid, now);
    }

    fn request_keyframe(&mut self, source: &Source, rid: Option<Rid>, now: Instant) {
        if let Some(sender) = self.get_mut(&source.conn) {
            sender.request_keyframe(Mid::from(source.mid.as_str()), rid, now);
        }
    }

    /// Re-decides every receiver's layers from its wants, its bandwidth and the measured
    /// layers, and asks senders for the keyframes the new choices wait for.
    pub fn allocate(&mut self, now: Instant) {
        for p in &mut self.participants {
            p.update_bitrates(now);
        }
        let mut requests: Vec<(Source, Option<Rid>)> = Vec::new();
        for r in 0..self.participants.len() {
            let receiver = &self.participants[r];
            // The video tracks this receiver gets, with their sources' layers.
            let videos: Vec<(usize, Vec<layers::Layer>, Shown)> = receiver
                .tracks_out
                .iter()
                .enumerate()
                .filter(|(_, t)| t.kind == MediaKind::Video && matches!(t.state, OutState::Open(_)))
                .map(|(i, t)| {
                    let layers = self
                        .participants
                        .iter()
                        .find(|p| p.conn == t.source.conn)
                        .and_then(|p| p.tracks_in.iter().find(|x| *x.mid == *t.source.mid))
                        .map(|x| x.layers(now))
                        .unwrap_or_default();
                    (i, layers, shown(receiver, t.source.conn.as_str(), t.mid()))
                })
                .collect();
            // The audio it gets, as measured at the senders: audio is never cut, so it comes
            // off the estimate first.
            let audio: u64 = receiver
                .tracks_out
                .iter()
                .filter(|t| t.kind == MediaKind::Audio && matches!(t.state, OutState::Open(_)))
                .filter_map(|t| {
                    let sender = self.participants.iter().find(|p| p.conn == t.source.conn)?;
                    let track = sender.tracks_in.iter().find(|x| *x.mid == *t.source.mid)?;
                    Some(track.layers.iter().map(|l| l.bitrate).sum::<u64>())
                })
                .sum();
            // What is forwarded now: the bitrate of each video's current layer.
            let sending: u64 = videos
                .iter()
                .filter_map(|(i, layers, _)| {
                    let current = receiver.tracks_out[*i].current?;
                    let rid = current.map(|r| r.to_string());
                    layers.iter().find(|l| l.rid == rid).map(|l| l.bitrate)
                })
                .sum();
            let below = receiver
                .bandwidth
                .is_some_and(|e| layers::below(e, sending + audio));
            let estimate = receiver.bandwidth.map(|b| b.saturating_sub(audio));
            let held = receiver.held_until.is_some_and(|t| now < t);
            let below_since = if below {
                Some(receiver.below_since.unwrap_or(now))
            } else {
                None
            };
            let congested =
                below_since.is_some_and(|t| now.duration_since(t) >= layers::CONGESTED_AFTER);
            let budget = layers::budget(estimate, sending, congested, held);
            tracing::debug!(
                conn = %receiver.conn, ?estimate, sending, audio, congested, held, ?budget,
                "layer budget"
            );
            let needs: Vec<Need<'_>> = videos
                .iter()
                .map(|(_, layers, shown)| Need {
                    layers,
                    shown: *shown,
                })
                .collect();
            let choices = layers::allocate(&needs, budget);
            // What the receiver would take with unlimited bandwidth: the estimator probes
            // towards it.
            let desired: u64 = layers::allocate(&needs, None)
                .iter()
                .zip(&videos)
                .filter_map(|(c, (_, layers, _))| match c {
                    Choice::Layer(rid) => layers.iter().find(|l| l.rid == *rid).map(|l| l.bitrate),
                    Choice::Pause => None,
                })
                .sum::<u64>()
                + audio;
            let receiver = &mut self.participants[r];
            receiver.below_since = below_since;
            if congested {
                receiver.held_until = Some(now + layers::HOLD);
            }
            if desired > 0 {
                receiver
                    .rtc
                    .bwe()
                    .set_desired_bitrate(Bitrate::bps(desired));
            }
            for ((i, _, _), choice) in videos.iter().zip(choices) {
                let track = &mut receiver.tracks_out[*i];
                if choice == Choice::Pause {
                    track.current = None;
                }
                track.target = choice;
                if let Choice::Layer(rid) = &track.target {
                    let on_target = track
                        .current
                        .is_some_and(|c| c.map(|r| r.to_string()) == *rid);
                    if !on_target {
                        requests.push((track.source.clone(), rid.as_deref().map(Rid::from)));
                    }
                }
            }
        }
        for (source, rid) in requests {
            self.request_keyframe(&source, rid, now);
        }
    }
}

/// How `receiver` shows the video it gets from `conn` on its `mid`: the want naming that
/// mid, else the want naming only the conn, else the default.
fn shown(receiver: &Participant, conn: &str, mid: Option<Mid>) -> Shown {
    let mid = mid.map(|m| m.to_string());
    let for_conn = receiver.wants.iter().filter(|w| w.conn == conn);
    let want = for_conn
        .clone()
        .find(|w| w.mid.is_some() && w.mid == mid)
        .or_else(|| for_conn.clone().find(|w| w.mid.is_none()));
    match want {
        Some(w) => Shown {
            width: w.width,
            height: w.height,
            visible: w.visible,
        },
        None => Shown::DEFAULT,
    }
}
