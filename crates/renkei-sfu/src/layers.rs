//! Which simulcast layer each forwarded video gets: from the shown size and the bandwidth.
//!
//! Pure decisions, no str0m state: the relay feeds in what it measured (each layer's size
//! and bitrate) and what the receiver asked for (`call_layers` wants), and applies the
//! answer. Reasons:
//! - A tile needs the *smallest* layer at least as big as it is shown: anything bigger is
//!   decoded and thrown away by a phone that cannot afford it.
//! - The receiver's bandwidth estimate is shared by all its videos. When the wanted layers
//!   do not fit, the most expensive video steps down first, one layer at a time, so one big
//!   tile does not starve the others; a video never drops below its lowest layer (pausing is
//!   the client's call, through `visible: false`).
//! - The estimate is a ceiling only under congestion. A link that is not full (a few small
//!   videos) is "application limited": the estimator then trails what is sent, and after a
//!   layer goes up it lags until its probes answer, so taking it as a ceiling would never
//!   let a layer go up. Congestion is an estimate that *stays* below what is being sent
//!   (for [`CONGESTED_AFTER`]); then the videos fit into the estimate, and for a while
//!   ([`HOLD`]) they do not grow past what is proven, so layers do not flap. Audio is
//!   never cut: its measured bitrate comes off the estimate before the videos share it.
//! - A hidden video (`visible: false`) is paused: nothing is forwarded and no keyframe is
//!   asked for, so it costs neither the sender nor the receiver anything.

use std::cmp::Ordering;
use std::time::Duration;

/// How long the estimate must stay below what is sent to count as congestion.
pub const CONGESTED_AFTER: Duration = Duration::from_secs(3);
/// How long layers do not grow past what is being sent after congestion.
pub const HOLD: Duration = Duration::from_secs(10);

/// Whether an estimate is below what is being sent (85 % of it, for the estimator's noise).
pub fn below(estimate: u64, sending: u64) -> bool {
    estimate < sending / 100 * 85
}

/// The bandwidth a receiver's videos may take: `None` (only the shown sizes count) unless
/// the link is `congested` (the estimate stayed [`below`] what is sent), or was recently
/// (`held`).
pub fn budget(estimate: Option<u64>, sending: u64, congested: bool, held: bool) -> Option<u64> {
    let estimate = estimate?;
    if congested {
        Some(estimate)
    } else if held {
        Some(estimate.max(sending))
    } else {
        None
    }
}

/// One simulcast layer of an incoming video, as measured. `rid` is `None` for a video sent
/// without simulcast (it then has exactly one layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub rid: Option<String>,
    /// Pixels, from the last keyframe; 0 when not known yet.
    pub width: u32,
    pub height: u32,
    /// Bits per second over the last second; 0 when not known yet.
    pub bitrate: u64,
}

/// What a receiver shows of one video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub width: u32,
    pub height: u32,
    pub visible: bool,
}

impl Shown {
    /// A tile the client said nothing about: shown, at a typical grid size.
    pub const DEFAULT: Shown = Shown {
        width: 640,
        height: 360,
        visible: true,
    };
}

/// What to forward of one video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Nothing (hidden, or no layer has arrived yet).
    Pause,
    /// This layer (its rid; `None` for a video without simulcast).
    Layer(Option<String>),
}

/// The rank of a rid among the two naming schemes browsers and apps use: `l`/`m`/`h`
/// (low, medium, high) and `q`/`h`/`f` (quarter, half, full). `h` is the top of the first
/// scheme and the middle of the second, hence `full_scheme`.
fn rid_rank(rid: Option<&str>, full_scheme: bool) -> u8 {
    match rid {
        None => 1,
        Some("l" | "q" | "0") => 0,
        Some("m" | "1") => 1,
        Some("h") if full_scheme => 1,
        Some("h" | "f" | "2") => 2,
        Some(_) => 1,
    }
}

/// `layers` from smallest to largest: by measured size when both are known, else by the
/// rid's name, else by bitrate.
pub fn order(layers: &mut [Layer]) {
    let full_scheme = layers
        .iter()
        .any(|l| matches!(l.rid.as_deref(), Some("q" | "f")));
    layers.sort_by(|a, b| {
        let area = |l: &Layer| u64::from(l.width) * u64::from(l.height);
        let by_size = if area(a) > 0 && area(b) > 0 {
            area(a).cmp(&area(b))
        } else {
            Ordering::Equal
        };
        by_size
            .then_with(|| {
                rid_rank(a.rid.as_deref(), full_scheme)
                    .cmp(&rid_rank(b.rid.as_deref(), full_scheme))
            })
            .then_with(|| a.bitrate.cmp(&b.bitrate))
    });
}

/// The size assumed for the top layer when no keyframe told it (a browser's usual camera).
const ASSUMED_TOP: (u32, u32) = (1280, 720);

/// Gives layers of unknown size (a codec other than VP8, or no keyframe yet) the size
/// browsers send by default: the top layer [`ASSUMED_TOP`], each lower one half as wide and
/// high (`scaleResolutionDownBy` 2 and 4). `layers` are ordered smallest first.
pub fn assume_sizes(layers: &mut [Layer]) {
    let n = layers.len();
    for (i, layer) in layers.iter_mut().enumerate() {
        if layer.width == 0 || layer.height == 0 {
            let shift = (n - 1 - i).min(8);
            layer.width = ASSUMED_TOP.0 >> shift;
            layer.height = ASSUMED_TOP.1 >> shift;
        }
    }
}

/// The index of the smallest layer at least as big as `shown` in `layers` (ordered smallest
/// first); the largest layer when none is. A layer of size 0 would count as too small:
/// [`assume_sizes`] first.
pub fn fitting(layers: &[Layer], shown: Shown) -> usize {
    layers
        .iter()
        .position(|l| l.width >= shown.width && l.height >= shown.height)
        .unwrap_or(layers.len().saturating_sub(1))
}

/// One forwarded video of a receiver: its source's layers (ordered by [`order`]) and how the
/// receiver shows it.
#[derive(Debug, Clone)]
pub struct Need<'a> {
    pub layers: &'a [Layer],
    pub shown: Shown,
}

/// The layer of each of a receiver's videos, given its bandwidth for video (`None` when no
/// estimate has arrived yet: then only the shown sizes count).
pub fn allocate(needs: &[Need<'_>], budget: Option<u64>) -> Vec<Choice> {
    // Index into each need's layers, or None for a paused video.
    let mut picks: Vec<Option<usize>> = needs
        .iter()
        .map(|n| (n.shown.visible && !n.layers.is_empty()).then(|| fitting(n.layers, n.shown)))
        .collect();
    if let Some(budget) = budget {
        let cost = |picks: &[Option<usize>]| -> u64 {
            picks
                .iter()
                .zip(needs)
                .filter_map(|(p, n)| p.map(|i| n.layers[i].bitrate))
                .sum()
        };
        while cost(&picks) > budget {
            // The most expensive video that can still step down.
            let Some(k) = picks
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    p.filter(|i| *i > 0)
                        .map(|i| (k, needs[k].layers[i].bitrate))
                })
                .max_by_key(|(_, bitrate)| *bitrate)
                .map(|(k, _)| k)
            else {
                break;
            };
            picks[k] = picks[k].map(|i| i - 1);
        }
    }
    picks
        .iter()
        .zip(needs)
        .map(|(p, n)| match p {
            Some(i) => Choice::Layer(n.layers[*i].rid.clone()),
            None => Choice::Pause,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(rid: &str, width: u32, height: u32, bitrate: u64) -> Layer {
        Layer {
            rid: Some(rid.into()),
            width,
            height,
            bitrate,
        }
    }

    fn simulcast() -> Vec<Layer> {
        vec![
            layer("l", 320, 180, 150_000),
            layer("m", 640, 360, 500_000),
            layer("h", 1280, 720, 1_500_000),
        ]
    }

    fn shown(width: u32, height: u32) -> Shown {
        Shown {
            width,
            height,
            visible: true,
        }
    }

    fn pick(c: &str) -> Choice {
        Choice::Layer(Some(c.into()))
    }

    #[test]
    fn a_tile_gets_the_smallest_layer_at_least_as_big_as_it_is_shown() {
        let layers = simulcast();
        let one = |s| {
            allocate(
                &[Need {
                    layers: &layers,
                    shown: s,
                }],
                None,
            )
        };
        assert_eq!(one(shown(160, 90)), vec![pick("l")]);
        assert_eq!(one(shown(320, 180)), vec![pick("l")]);
        assert_eq!(one(shown(321, 180)), vec![pick("m")]);
        assert_eq!(one(shown(1280, 720)), vec![pick("h")]);
        // Bigger than anything sent: the largest there is.
        assert_eq!(one(shown(1920, 1080)), vec![pick("h")]);
    }

    #[test]
    fn a_hidden_video_is_paused_and_a_video_without_layers_yet_too() {
        let layers = simulcast();
        let hidden = Shown {
            visible: false,
            ..shown(1280, 720)
        };
        let needs = [
            Need {
                layers: &layers,
                shown: hidden,
            },
            Need {
                layers: &[],
                shown: shown(320, 180),
            },
        ];
        assert_eq!(allocate(&needs, None), vec![Choice::Pause, Choice::Pause]);
    }

    #[test]
    fn a_small_budget_steps_the_most_expensive_video_down_first() {
        let layers = simulcast();
        let needs = [
            Need {
                layers: &layers,
                shown: shown(1280, 720),
            },
            Need {
                layers: &layers,
                shown: shown(640, 360),
            },
        ];
        // Wanted: h + m = 2.0 Mbit/s.
        assert_eq!(
            allocate(&needs, Some(2_000_000)),
            vec![pick("h"), pick("m")]
        );
        // 1.2 Mbit/s: the big tile steps down to m (m + m = 1.0).
        assert_eq!(
            allocate(&needs, Some(1_200_000)),
            vec![pick("m"), pick("m")]
        );
        // 0.7 Mbit/s: one of them (the later of equals) steps down again.
        assert_eq!(allocate(&needs, Some(700_000)), vec![pick("m"), pick("l")]);
        // Nothing fits: everyone at the lowest layer, nobody paused.
        assert_eq!(allocate(&needs, Some(10_000)), vec![pick("l"), pick("l")]);
    }

    #[test]
    fn the_estimate_limits_only_under_congestion_and_holds_a_while_after() {
        // A link that is not full: the estimate trails what is sent; the wants decide.
        assert!(below(200_000, 320_000));
        assert!(!below(300_000, 320_000));
        assert_eq!(budget(Some(200_000), 320_000, false, false), None);
        assert_eq!(budget(None, 320_000, false, false), None);
        // Congested (below for a while): fit into the estimate.
        assert_eq!(budget(Some(200_000), 320_000, true, false), Some(200_000));
        // Just after: do not grow past what is being sent (or a higher estimate).
        assert_eq!(budget(Some(300_000), 320_000, false, true), Some(320_000));
        assert_eq!(budget(Some(900_000), 320_000, false, true), Some(900_000));
    }

    #[test]
    fn a_video_without_simulcast_is_forwarded_as_it_comes() {
        let single = [Layer {
            rid: None,
            width: 0,
            height: 0,
            bitrate: 900_000,
        }];
        let needs = [Need {
            layers: &single,
            shown: shown(320, 180),
        }];
        assert_eq!(allocate(&needs, Some(100_000)), vec![Choice::Layer(None)]);
    }

    #[test]
    fn layers_of_unknown_size_are_assumed_to_halve_from_720p() {
        let mut ls = vec![
            layer("q", 0, 0, 0),
            layer("h", 0, 0, 0),
            layer("f", 0, 0, 0),
        ];
        assume_sizes(&mut ls);
        let sizes: Vec<_> = ls.iter().map(|l| (l.width, l.height)).collect();
        assert_eq!(sizes, [(320, 180), (640, 360), (1280, 720)]);
        // So an H.264 tile of 320×180 still gets the low layer.
        let needs = [Need {
            layers: &ls,
            shown: shown(320, 180),
        }];
        assert_eq!(allocate(&needs, None), vec![pick("q")]);
        // Known sizes stay.
        let mut known = vec![layer("l", 160, 90, 0)];
        assume_sizes(&mut known);
        assert_eq!((known[0].width, known[0].height), (160, 90));
    }

    #[test]
    fn layers_are_ordered_by_size_then_by_the_rid_scheme() {
        let mut by_size = vec![
            layer("h", 1280, 720, 0),
            layer("l", 320, 180, 0),
            layer("m", 640, 360, 0),
        ];
        order(&mut by_size);
        let rids = |ls: &[Layer]| {
            ls.iter()
                .map(|l| l.rid.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(rids(&by_size), ["l", "m", "h"]);
        // Sizes unknown: `h` is the top of l/m/h but the middle of q/h/f.
        let mut lmh = vec![
            layer("h", 0, 0, 0),
            layer("m", 0, 0, 0),
            layer("l", 0, 0, 0),
        ];
        order(&mut lmh);
        assert_eq!(rids(&lmh), ["l", "m", "h"]);
        let mut qhf = vec![
            layer("f", 0, 0, 0),
            layer("h", 0, 0, 0),
            layer("q", 0, 0, 0),
        ];
        order(&mut qhf);
        assert_eq!(rids(&qhf), ["q", "h", "f"]);
    }
}
