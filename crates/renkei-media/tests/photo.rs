//! Photo sanitising: metadata gone, orientation applied, limits and broken files refused.

mod common;

use common::*;
use image::{DynamicImage, ImageDecoder};
use renkei_media::{Limits, MediaError, MediaKind, sanitize_photo};

fn code<T>(result: Result<T, MediaError>) -> &'static str {
    result.err().map(|error| error.code()).unwrap_or("ok")
}

/// Where the stored top-left (red) and top-right (green) corners must be seen for each EXIF
/// orientation, and whether width and height swap. From the EXIF 2.32 definition of 0x0112.
const EXPECTED: [(u16, &str, &str, bool); 8] = [
    (1, "TL", "TR", false),
    (2, "TR", "TL", false), // mirrored horizontally
    (3, "BR", "BL", false), // rotated 180°
    (4, "BL", "BR", false), // mirrored vertically
    (5, "TL", "BL", true),  // transposed
    (6, "TR", "BR", true),  // rotated 90° clockwise to display
    (7, "BR", "TR", true),  // transversed
    (8, "BL", "TL", true),  // rotated 90° counter-clockwise to display
];

const W: u32 = 48;
const H: u32 = 32;

fn check_orientations(make: impl Fn(u16) -> Vec<u8>, format: &str) {
    for (orientation, red_at, green_at, swapped) in EXPECTED {
        let input = make(orientation);
        let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
        let (w, h) = if swapped { (H, W) } else { (W, H) };
        assert_eq!(
            (photo.width, photo.height),
            (w, h),
            "{format} orientation {orientation}: dimensions"
        );
        assert_eq!(photo.applied_orientation, orientation as u8);
        let output = decode(&photo.bytes);
        assert_eq!((output.width(), output.height()), (w, h));
        assert_eq!(
            corners_of(&output, RED),
            vec![red_at],
            "{format} orientation {orientation}: red corner"
        );
        assert_eq!(
            corners_of(&output, GREEN),
            vec![green_at],
            "{format} orientation {orientation}: green corner"
        );
    }
}

#[test]
fn jpeg_loses_exif_gps_makernote_thumbnail_xmp_iptc_and_comments() {
    let input = jpeg_with_metadata(&marked_picture(W, H), 1);
    // The planted metadata is really there before: every string but the PNG one, the GPS
    // rationals and the TIFF header.
    assert_eq!(leaked_metadata(&input).len(), PLANTED_STRINGS.len() - 1 + 2);
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    assert_eq!(leaked_metadata(&photo.bytes), Vec::<String>::new());
    assert_eq!((photo.kind, photo.mime), (MediaKind::Jpeg, "image/jpeg"));
    assert_eq!(photo.source_kind, MediaKind::Jpeg);
    // Only JFIF, tables and frame header before the scan: no APP1, APP13 or COM segment.
    for marker in jpeg_markers(&photo.bytes) {
        assert!(
            matches!(marker, 0xE0 | 0xDB | 0xC0 | 0xC4 | 0xDA),
            "unexpected marker {marker:#04x}"
        );
    }
    decode(&photo.bytes);
}

#[test]
fn png_loses_exif_xmp_and_text_chunks() {
    let input = png_with_metadata(&DynamicImage::ImageRgb8(marked_picture(W, H)), 1);
    assert!(!leaked_metadata(&input).is_empty());
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    assert_eq!(leaked_metadata(&photo.bytes), Vec::<String>::new());
    assert_eq!((photo.kind, photo.mime), (MediaKind::Png, "image/png"));
    for chunk in png_chunk_types(&photo.bytes) {
        assert!(
            ["IHDR", "IDAT", "IEND"].contains(&chunk.as_str()),
            "chunk {chunk}"
        );
    }
    // Lossless in, lossless out: every pixel is kept.
    assert_eq!(decode(&photo.bytes).to_rgb8(), marked_picture(W, H));
}

#[test]
fn webp_loses_exif_and_xmp_and_lossless_webp_becomes_png() {
    let input = webp_with_metadata(&DynamicImage::ImageRgb8(marked_picture(W, H)), 1);
    assert!(!leaked_metadata(&input).is_empty());
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    assert_eq!(leaked_metadata(&photo.bytes), Vec::<String>::new());
    assert_eq!(photo.source_kind, MediaKind::WebP);
    assert_eq!(photo.kind, MediaKind::Png);
    assert_eq!(decode(&photo.bytes).to_rgb8(), marked_picture(W, H));
}

#[test]
fn every_jpeg_orientation_is_applied() {
    check_orientations(|o| jpeg_with_metadata(&marked_picture(W, H), o), "jpeg");
}

#[test]
fn every_png_orientation_is_applied() {
    let picture = DynamicImage::ImageRgb8(marked_picture(W, H));
    check_orientations(|o| png_with_metadata(&picture, o), "png");
}

#[test]
fn every_webp_orientation_is_applied() {
    let picture = DynamicImage::ImageRgb8(marked_picture(W, H));
    check_orientations(|o| webp_with_metadata(&picture, o), "webp");
}

#[test]
fn output_carries_no_orientation_so_viewers_do_not_rotate_again() {
    let input = jpeg_with_metadata(&marked_picture(W, H), 6);
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    let mut decoder =
        image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&photo.bytes)).expect("jpeg");
    assert_eq!(decoder.exif_metadata().expect("read"), None);
    // Sanitising again changes nothing: already upright.
    let again = sanitize_photo(&photo.bytes, &Limits::default()).expect("again");
    assert_eq!(
        (again.width, again.height, again.applied_orientation),
        (H, W, 1)
    );
}

#[test]
fn transparency_is_kept_as_png() {
    let mut rgba = DynamicImage::ImageRgb8(marked_picture(W, H)).to_rgba8();
    rgba.get_pixel_mut(20, 20).0[3] = 0;
    let input = encode_png(&DynamicImage::ImageRgba8(rgba.clone()), None);
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    assert_eq!(photo.kind, MediaKind::Png);
    assert_eq!(decode(&photo.bytes).to_rgba8(), rgba);
}

#[test]
fn gif_first_frame_becomes_png() {
    let mut input = Vec::new();
    let frame = image::Frame::new(DynamicImage::ImageRgb8(marked_picture(W, H)).to_rgba8());
    image::codecs::gif::GifEncoder::new(&mut input)
        .encode_frames([frame])
        .expect("gif");
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    assert_eq!(
        (photo.kind, photo.source_kind),
        (MediaKind::Png, MediaKind::Gif)
    );
    let output = decode(&photo.bytes);
    assert_eq!(corners_of(&output, RED), vec!["TL"]);
}

#[test]
fn colour_profile_is_the_one_thing_carried_over() {
    // A minimal well-formed ICC header: size, 'acsp' signature, no tags.
    let mut profile = vec![0u8; 132];
    profile[0..4].copy_from_slice(&132u32.to_be_bytes());
    profile[36..40].copy_from_slice(b"acsp");
    let png = encode_png(
        &DynamicImage::ImageRgb8(marked_picture(W, H)),
        Some(profile.clone()),
    );
    let photo = sanitize_photo(&png, &Limits::default()).expect("sanitised");
    let mut decoder =
        image::codecs::png::PngDecoder::new(std::io::Cursor::new(&photo.bytes)).expect("png");
    assert_eq!(decoder.icc_profile().expect("read"), Some(profile));

    // A blob that is not an ICC profile is dropped.
    let mut fake = b"not a colour profile but a place to hide text".to_vec();
    fake.resize(200, b' ');
    let png = encode_png(&DynamicImage::ImageRgb8(marked_picture(W, H)), Some(fake));
    let photo = sanitize_photo(&png, &Limits::default()).expect("sanitised");
    assert_eq!(png_chunk_types(&photo.bytes), ["IHDR", "IDAT", "IEND"]);
}

#[test]
fn truncated_jpeg_and_png_are_refused() {
    let jpeg = encode_jpeg(&marked_picture(W, H), 90);
    assert_eq!(
        code(sanitize_photo(
            &jpeg[..jpeg.len() * 6 / 10],
            &Limits::default()
        )),
        "truncated_image"
    );
    assert_eq!(
        code(sanitize_photo(&jpeg[..jpeg.len() - 2], &Limits::default())),
        "truncated_image"
    );
    let png = encode_png(&DynamicImage::ImageRgb8(marked_picture(W, H)), None);
    assert_eq!(
        code(sanitize_photo(&png[..png.len() - 20], &Limits::default())),
        "truncated_image"
    );
    let webp = encode_webp_lossless(&DynamicImage::ImageRgb8(marked_picture(W, H)));
    assert_eq!(
        code(sanitize_photo(&webp[..webp.len() - 10], &Limits::default())),
        "truncated_image"
    );
}

#[test]
fn empty_and_non_photo_files_are_refused() {
    assert_eq!(code(sanitize_photo(&[], &Limits::default())), "empty_file");
    assert_eq!(
        code(sanitize_photo(b"%PDF-1.4\n1 0 obj", &Limits::default())),
        "unsupported_type"
    );
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free";
    assert_eq!(
        code(sanitize_photo(heic, &Limits::default())),
        "unsupported_type"
    );
}

#[test]
fn cut_or_corrupted_photos_are_refused_with_a_code_never_a_panic() {
    let picture = DynamicImage::ImageRgb8(marked_picture(W, H));
    let inputs = [
        jpeg_with_metadata(&marked_picture(W, H), 6),
        png_with_metadata(&picture, 6),
        webp_with_metadata(&picture, 6),
    ];
    let expected = [
        "ok",
        "truncated_image",
        "corrupt_image",
        "image_too_large",
        "unsupported_image_feature",
        "unsupported_type",
    ];
    for input in &inputs {
        for cut in (1..input.len()).step_by(7) {
            let outcome = code(sanitize_photo(&input[..cut], &Limits::default()));
            assert!(expected.contains(&outcome), "cut at {cut}: {outcome}");
        }
        for at in (0..input.len()).step_by(11) {
            let mut flipped = input.clone();
            flipped[at] ^= 0x5A;
            let outcome = code(sanitize_photo(&flipped, &Limits::default()));
            assert!(expected.contains(&outcome), "flip at {at}: {outcome}");
        }
    }
}

#[test]
fn photos_over_the_byte_limit_are_refused() {
    let jpeg = encode_jpeg(&marked_picture(W, H), 90);
    let limits = Limits {
        max_photo_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(code(sanitize_photo(&jpeg, &limits)), "file_too_large");
}

#[test]
fn lossy_webp_becomes_an_upright_jpeg_when_ffmpeg_can_make_one() {
    if !ffmpeg_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("renkei-media-webp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let png_path = dir.join("in.png");
    let webp_path = dir.join("lossy.webp");
    std::fs::write(
        &png_path,
        encode_png(&DynamicImage::ImageRgb8(marked_picture(W, H)), None),
    )
    .expect("write png");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(&png_path)
        .args(["-c:v", "libwebp", "-lossless", "0", "-quality", "95"])
        .arg(&webp_path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let simple = std::fs::read(&webp_path).expect("read webp");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(&simple[12..16], b"VP8 ", "ffmpeg made a lossy WebP");

    let input = extend_webp(&simple, W, H, 6);
    assert!(!leaked_metadata(&input).is_empty());
    let photo = sanitize_photo(&input, &Limits::default()).expect("sanitised");
    assert_eq!(
        (photo.source_kind, photo.kind),
        (MediaKind::WebP, MediaKind::Jpeg)
    );
    assert_eq!((photo.width, photo.height), (H, W));
    assert_eq!(leaked_metadata(&photo.bytes), Vec::<String>::new());
    let output = decode(&photo.bytes);
    assert_eq!(corners_of(&output, RED), vec!["TR"]);
    assert_eq!(corners_of(&output, GREEN), vec!["BR"]);
}
