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
mod rules;

#[cfg(test)]
mod tests;

use dicom_object::DefaultDicomObject;

pub use apply::apply;
pub use error::RedactError;
pub use plan::{Edit, Plan, check_rects, plan};
pub use rules::{by_rule, device_of};

/// The most rectangles one redaction may blank.
pub const MAX_RECTANGLES: usize = 64;

/// A rectangle in image coordinates: columns `x .. x + width`, rows `y .. y + height`.
pub use renkei_core::redaction::Area as Rect;

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
