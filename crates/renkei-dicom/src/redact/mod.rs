//! Pixel redaction: rectangles blanked in every frame of an image, as a new derived instance.
//!
//! Decided first ([`plan`]: the rectangles checked against the image, the attributes that record
//! the derivation), then applied ([`apply`]: every frame decoded, the rectangles filled, the
//! pixels written back).
//!
//! **Output transfer syntax: always Explicit VR Little Endian (native).** Whatever the source —
//! native, RLE, JPEG lossless, JPEG-LS lossless, or a lossy codec — every frame is decoded to its
//! stored values by [`crate::render::decode_frame`], blanked there, and stored uncompressed. This
//! is lossless for lossless sources (the values outside the rectangles are the decoded values,
//! bit for bit), never compresses a lossy source a second time (Lossy Image Compression stays as
//! the source said), and every receiver accepts it; the price is size, which matters little for
//! the images that carry burned-in text (ultrasound, secondary captures, X-ray consoles). One
//! layout is written: colour pixel-interleaved (Planar Configuration 0), High Bit = Bits Stored
//! − 1, colour from a compressed source as RGB (its codec's output), native YBR_FULL_422 as
//! YBR_FULL. 1-bit images are refused.
//!
//! The blanked value is what shows as black: the lowest stored value (the highest for
//! MONOCHROME1), RGB (0, 0, 0), YBR_FULL (0, mid, mid).

mod apply;
mod derive;
mod error;
mod pixels;
mod plan;

#[cfg(test)]
mod tests;

use dicom_object::DefaultDicomObject;
use serde::{Deserialize, Serialize};

pub use apply::apply;
pub use error::RedactError;
pub use plan::{Plan, plan};

/// The most rectangles one redaction may blank.
pub const MAX_RECTANGLES: usize = 64;

/// A rectangle in image coordinates: columns `x .. x + width`, rows `y .. y + height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    /// Whether pixel (`column`, `row`) lies inside.
    pub fn contains(&self, column: u32, row: u32) -> bool {
        column >= self.x
            && row >= self.y
            && u64::from(column) < u64::from(self.x) + u64::from(self.width)
            && u64::from(row) < u64::from(self.y) + u64::from(self.height)
    }
}

/// `obj` with `rects` blanked in every frame, as a derived instance whose SOP Instance UID is
/// `new_uid` (see [`crate::uid::derived_uid`]).
pub fn redact(
    obj: &DefaultDicomObject,
    rects: &[Rect],
    new_uid: &str,
) -> Result<DefaultDicomObject, RedactError> {
    let plan = plan(obj, rects, new_uid)?;
    apply(obj, &plan)
}
