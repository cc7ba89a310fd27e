//! Photo sanitising: decoding (JPEG, PNG, WebP, GIF) within limits, EXIF orientation, and the
//! re-encoded photo and thumbnail.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_media::{Limits, sanitize_photo_with_thumbnail};

fuzz_target!(|data: &[u8]| {
    // Smaller than the defaults, so that one input stays well under the time limit.
    let limits = Limits {
        max_width: 2048,
        max_height: 2048,
        max_pixels: 2048 * 2048,
        ..Limits::default()
    };
    let _ = sanitize_photo_with_thumbnail(data, &limits, 256);
});
