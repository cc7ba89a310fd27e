//! Grey-scale display: Modality LUT, VOI window and MONOCHROME1 inversion folded into one 8-bit
//! lookup table indexed by stored value, so each pixel costs one table read.

use super::frame::Samples;
use super::info::{Rescale, VoiFunction};

/// A window in modality units with the function that maps it to display values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    pub center: f64,
    pub width: f64,
    pub function: VoiFunction,
}

impl Window {
    /// Display value in 0.0..=1.0 for modality value `x` (PS3.3 C.11.2.1.2 and C.11.2.1.3).
    pub(crate) fn apply(&self, x: f64) -> f64 {
        let (c, w) = (self.center, self.width);
        let y = match self.function {
            VoiFunction::Linear => {
                if w <= 1.0 {
                    if x < c - 0.5 { 0.0 } else { 1.0 }
                } else if x <= c - 0.5 - (w - 1.0) / 2.0 {
                    0.0
                } else if x > c - 0.5 + (w - 1.0) / 2.0 {
                    1.0
                } else {
                    (x - (c - 0.5)) / (w - 1.0) + 0.5
                }
            }
            VoiFunction::LinearExact => {
                if w <= 0.0 {
                    if x < c { 0.0 } else { 1.0 }
                } else {
                    (x - c) / w + 0.5
                }
            }
            VoiFunction::Sigmoid => 1.0 / (1.0 + (-4.0 * (x - c) / w.max(f64::MIN_POSITIVE)).exp()),
        };
        y.clamp(0.0, 1.0)
    }

    /// The window spanning modality values `lo..=hi` exactly.
    pub(crate) fn spanning(lo: f64, hi: f64) -> Self {
        Window {
            center: (lo + hi) / 2.0,
            width: (hi - lo).max(1.0),
            function: VoiFunction::LinearExact,
        }
    }
}

fn to_u8(y: f64, invert: bool) -> u8 {
    let v = (y * 255.0 + 0.5) as u8;
    if invert { 255 - v } else { v }
}

/// Largest lookup table built (entries); wider stored ranges are mapped pixel by pixel.
const MAX_LUT: i64 = 1 << 20;

/// Map a monochrome frame to 8-bit display values.
pub(crate) fn to_display(
    data: &Samples,
    rescale: Rescale,
    window: Window,
    invert: bool,
    range: (i64, i64),
) -> Vec<u8> {
    let (lo, hi) = range;
    if hi - lo >= MAX_LUT {
        return per_pixel(data, rescale, window, invert);
    }
    let lut: Vec<u8> = (lo..=hi)
        .map(|s| to_u8(window.apply(rescale.apply(s as f64)), invert))
        .collect();
    let look = |s: i64| lut.get((s - lo) as usize).copied().unwrap_or(0);
    match data {
        Samples::U8(v) => v.iter().map(|&s| look(i64::from(s))).collect(),
        Samples::U16(v) => v.iter().map(|&s| look(i64::from(s))).collect(),
        Samples::I16(v) => v.iter().map(|&s| look(i64::from(s))).collect(),
        Samples::U32(v) => v.iter().map(|&s| look(i64::from(s))).collect(),
        Samples::I32(v) => v.iter().map(|&s| look(i64::from(s))).collect(),
    }
}

fn per_pixel(data: &Samples, rescale: Rescale, window: Window, invert: bool) -> Vec<u8> {
    (0..data.len())
        .map(|i| {
            let s = data.get(i).unwrap_or(0) as f64;
            to_u8(window.apply(rescale.apply(s)), invert)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_window_matches_the_standard() {
        let w = Window {
            center: 40.0,
            width: 400.0,
            function: VoiFunction::Linear,
        };
        assert_eq!(w.apply(-1000.0), 0.0);
        assert_eq!(w.apply(1000.0), 1.0);
        assert!((w.apply(39.5) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn lut_and_inversion() {
        let data = Samples::I16(vec![-1024, 0, 40, 3000]);
        let w = Window {
            center: 40.0,
            width: 400.0,
            function: VoiFunction::Linear,
        };
        let out = to_display(&data, Rescale::IDENTITY, w, false, (-1024, 3000));
        assert_eq!(out[0], 0);
        assert_eq!(out[3], 255);
        assert!((127..=129).contains(&out[2]));
        let inv = to_display(&data, Rescale::IDENTITY, w, true, (-1024, 3000));
        assert_eq!(inv[0], 255);
        assert_eq!(inv[3], 0);
    }

    #[test]
    fn rescale_is_applied_before_the_window() {
        let data = Samples::U16(vec![0, 1024, 2048]);
        let r = Rescale {
            slope: 1.0,
            intercept: -1024.0,
        };
        let w = Window::spanning(-1024.0, 1024.0);
        let out = to_display(&data, r, w, false, (0, 2048));
        assert_eq!(out, vec![0, 128, 255]);
    }

    #[test]
    fn wide_ranges_fall_back_to_per_pixel() {
        let data = Samples::I32(vec![-2_000_000_000, 0, 2_000_000_000]);
        let w = Window::spanning(-2e9, 2e9);
        let out = to_display(
            &data,
            Rescale::IDENTITY,
            w,
            false,
            (-2_000_000_000, 2_000_000_000),
        );
        assert_eq!(out, vec![0, 128, 255]);
    }
}
