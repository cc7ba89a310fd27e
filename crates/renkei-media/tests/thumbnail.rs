//! Thumbnails: small, upright, metadata-free JPEGs, fast enough for 12-megapixel photos.

mod common;

use std::time::Instant;

use common::*;
use image::{DynamicImage, Rgb, RgbImage};
use renkei_media::{Limits, MediaKind, sanitize_photo, sanitize_photo_with_thumbnail, thumbnail};

#[test]
fn thumbnail_is_a_small_upright_jpeg_without_metadata() {
    let input = jpeg_with_metadata(&marked_picture(960, 640), 6);
    let thumb = thumbnail(&input, 320).expect("thumbnail");
    assert_eq!(thumb.mime, "image/jpeg");
    // 960×640 turned upright is 640×960; the longer side becomes 320.
    assert_eq!((thumb.width, thumb.height), (213, 320));
    assert_eq!(leaked_metadata(&thumb.bytes), Vec::<String>::new());
    for marker in jpeg_markers(&thumb.bytes) {
        assert!(
            matches!(marker, 0xE0 | 0xDB | 0xC0 | 0xC4 | 0xDA),
            "marker {marker:#04x}"
        );
    }
    let decoded = decode(&thumb.bytes);
    assert_eq!((decoded.width(), decoded.height()), (213, 320));
}

#[test]
fn small_images_keep_their_size() {
    let input = encode_png(&DynamicImage::ImageRgb8(marked_picture(48, 32)), None);
    let thumb = thumbnail(&input, 320).expect("thumbnail");
    assert_eq!((thumb.width, thumb.height), (48, 32));
}

#[test]
fn one_decode_gives_both_the_sanitised_photo_and_its_thumbnail() {
    let input = jpeg_with_metadata(&marked_picture(480, 320), 8);
    let (photo, thumb) =
        sanitize_photo_with_thumbnail(&input, &Limits::default(), 100).expect("both");
    assert_eq!(
        photo,
        sanitize_photo(&input, &Limits::default()).expect("photo")
    );
    assert_eq!(
        (photo.width, photo.height, photo.kind),
        (320, 480, MediaKind::Jpeg)
    );
    assert_eq!((thumb.width, thumb.height), (67, 100));
    assert_eq!(leaked_metadata(&photo.bytes), Vec::<String>::new());
    assert_eq!(leaked_metadata(&thumb.bytes), Vec::<String>::new());
}

/// A 4000×3000 photo-like JPEG (smooth gradients plus noise, so it compresses like a photo).
fn twelve_megapixel_jpeg() -> Vec<u8> {
    let mut seed = 0x2545_F491_u32;
    let picture = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed & 0x1F) as u8;
        Rgb([
            ((x * 255 / 4000) as u8).saturating_add(noise),
            ((y * 255 / 3000) as u8).saturating_add(noise),
            (((x + y) * 255 / 7000) as u8).saturating_add(noise),
        ])
    });
    encode_jpeg(&picture, 90)
}

/// Timing note: `cargo test --release -p renkei-media --test thumbnail -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: builds a 12 MP JPEG; run with --ignored --nocapture (best with --release)"]
fn thumbnail_of_a_12_megapixel_photo_timing() {
    let input = twelve_megapixel_jpeg();
    eprintln!("input: 4000x3000 JPEG, {} bytes", input.len());
    for _ in 0..3 {
        let started = Instant::now();
        let thumb = thumbnail(&input, 320).expect("thumbnail");
        let thumb_time = started.elapsed();
        let started = Instant::now();
        let photo = sanitize_photo(&input, &Limits::default()).expect("photo");
        let photo_time = started.elapsed();
        let started = Instant::now();
        let both = sanitize_photo_with_thumbnail(&input, &Limits::default(), 320).expect("both");
        let both_time = started.elapsed();
        assert_eq!((thumb.width, thumb.height), (320, 240));
        assert_eq!(both.1, thumb);
        eprintln!(
            "thumbnail(320): {thumb_time:?} ({} bytes); sanitize_photo: {photo_time:?} ({} bytes); both from one decode: {both_time:?}",
            thumb.bytes.len(),
            photo.bytes.len()
        );
    }
}
