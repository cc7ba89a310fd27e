//! Blanking rectangles in one decoded frame: the value that shows as black, written into every
//! sample of every pixel inside.

use super::Rect;
use crate::render::{DecodedFrame, Photometric, Samples};

/// The value per sample (1 or 3) that shows as black in `frame`'s interpretation.
pub(super) fn black(frame: &DecodedFrame) -> [i64; 3] {
    let bits = u32::from(frame.bits_stored.clamp(1, 32));
    let signed = frame.pixel_representation == 1;
    let (lowest, highest) = if signed {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        (0, (1i64 << bits) - 1)
    };
    match frame.photometric {
        Photometric::Monochrome1 => [highest; 3],
        // Luminance lowest, chrominance at its middle (no colour).
        Photometric::YbrFull => [
            lowest,
            lowest + (1i64 << (bits - 1)),
            lowest + (1i64 << (bits - 1)),
        ],
        _ => [lowest; 3],
    }
}

/// Fills every rectangle of `rects` (inside the frame, checked by the plan) with `black`.
pub(super) fn blank(frame: &mut DecodedFrame, rects: &[Rect], black: [i64; 3]) {
    let shape = Shape {
        columns: frame.columns as usize,
        samples: usize::from(frame.samples_per_pixel),
    };
    match &mut frame.data {
        Samples::U8(v) => fill(v, shape, rects, black),
        Samples::U16(v) => fill(v, shape, rects, black),
        Samples::I16(v) => fill(v, shape, rects, black),
        Samples::U32(v) => fill(v, shape, rects, black),
        Samples::I32(v) => fill(v, shape, rects, black),
    }
}

#[derive(Clone, Copy)]
struct Shape {
    columns: usize,
    samples: usize,
}

fn fill<T: Copy + TryFrom<i64> + Default>(
    data: &mut [T],
    shape: Shape,
    rects: &[Rect],
    black: [i64; 3],
) {
    let mut pixel = [T::default(); 3];
    for (slot, value) in pixel.iter_mut().zip(black) {
        *slot = T::try_from(value).unwrap_or_default();
    }
    let pixel = &pixel[..shape.samples.min(3)];
    let stride = shape.columns * shape.samples;
    for r in rects {
        let (x, width) = (r.x as usize, r.width as usize);
        for row in r.y as usize..(r.y as usize + r.height as usize) {
            let start = row * stride + x * shape.samples;
            let end = start + width * shape.samples;
            let Some(span) = data.get_mut(start..end) else {
                continue;
            };
            for px in span.chunks_exact_mut(shape.samples) {
                px.copy_from_slice(pixel);
            }
        }
    }
}
