//! Test photos: real encoded images with hand-built EXIF (GPS, maker note, thumbnail), XMP,
//! IPTC and comments injected, and helpers to look for any of it in the output.
#![allow(dead_code)]

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage};

/// Strings planted in the metadata; none may appear in a sanitised output.
pub const PLANTED_STRINGS: &[&str] = &[
    "SecretCam",
    "MAKERNOTE-SECRET",
    "GPS-SECRET-FIX",
    "2019:07:08 09:10:11",
    "EMBEDDED-THUMBNAIL-SECRET",
    "XMP-SECRET-PATIENT",
    "http://ns.adobe.com/xap/1.0/",
    "IPTC-SECRET-CAPTION",
    "Photoshop 3.0",
    "8BIM",
    "COMMENT-SECRET",
    "PNG-TEXT-SECRET",
    "Exif\0\0",
];

/// GPS latitude 35°39' as TIFF rationals (35/1, 39/1): the raw bytes of the fix.
pub const GPS_LATITUDE_BYTES: [u8; 16] = [0, 0, 0, 35, 0, 0, 0, 1, 0, 0, 0, 39, 0, 0, 0, 1];

pub const RED: [u8; 3] = [220, 20, 20];
pub const GREEN: [u8; 3] = [20, 200, 20];
pub const GREY: [u8; 3] = [128, 128, 128];

/// A W×H grey picture with a red block in the top-left corner and a green one in the top-right.
pub fn marked_picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let block = 8;
        if y < block && x < block {
            Rgb(RED)
        } else if y < block && x >= width - block {
            Rgb(GREEN)
        } else {
            Rgb(GREY)
        }
    })
}

pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            image,
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode jpeg");
    out
}

pub fn encode_png(image: &DynamicImage, icc_profile: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = PngEncoder::new(&mut out);
    if let Some(profile) = icc_profile {
        encoder.set_icc_profile(profile).expect("png takes icc");
    }
    image.write_with_encoder(encoder).expect("encode png");
    out
}

pub fn encode_webp_lossless(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .expect("encode webp");
    out
}

/// A TIFF IFD entry: tag, type, count and its big-endian value bytes.
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const UNDEFINED: u16 = 7;

fn ascii(tag: u16, text: &str) -> Entry {
    let mut value = text.as_bytes().to_vec();
    value.push(0);
    Entry {
        tag,
        kind: ASCII,
        count: value.len() as u32,
        value,
    }
}

fn long(tag: u16, value: u32) -> Entry {
    Entry {
        tag,
        kind: LONG,
        count: 1,
        value: value.to_be_bytes().to_vec(),
    }
}

fn rationals(tag: u16, pairs: &[(u32, u32)]) -> Entry {
    let value = pairs
        .iter()
        .flat_map(|(n, d)| n.to_be_bytes().into_iter().chain(d.to_be_bytes()))
        .collect();
    Entry {
        tag,
        kind: RATIONAL,
        count: pairs.len() as u32,
        value,
    }
}

fn ifd_len(entries: &[Entry]) -> u32 {
    let out_of_line: usize = entries
        .iter()
        .filter(|e| e.value.len() > 4)
        .map(|e| e.value.len() + e.value.len() % 2)
        .sum();
    (2 + 12 * entries.len() + 4 + out_of_line) as u32
}

/// Writes an IFD at `offset` (its out-of-line values right after it).
fn write_ifd(out: &mut Vec<u8>, offset: u32, entries: &[Entry], next_ifd: u32) {
    assert_eq!(out.len() as u32, offset);
    let mut data_at = offset + 2 + 12 * entries.len() as u32 + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for entry in entries {
        out.extend_from_slice(&entry.tag.to_be_bytes());
        out.extend_from_slice(&entry.kind.to_be_bytes());
        out.extend_from_slice(&entry.count.to_be_bytes());
        if entry.value.len() <= 4 {
            let mut inline = entry.value.clone();
            inline.resize(4, 0);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&data_at.to_be_bytes());
            data.extend_from_slice(&entry.value);
            if entry.value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += (entry.value.len() + entry.value.len() % 2) as u32;
        }
    }
    out.extend_from_slice(&next_ifd.to_be_bytes());
    out.extend_from_slice(&data);
}

/// A small real JPEG with a comment: the kind of preview cameras embed in IFD1.
pub fn embedded_thumbnail() -> Vec<u8> {
    let tiny = encode_jpeg(&marked_picture(16, 16), 70);
    insert_after_soi(&tiny, &[segment(0xFE, b"EMBEDDED-THUMBNAIL-SECRET")])
}

/// A big-endian EXIF TIFF structure: IFD0 (Make, Orientation, pointers), Exif IFD (maker note,
/// date), GPS IFD (latitude, longitude, processing method) and IFD1 with an embedded JPEG.
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    let thumbnail = embedded_thumbnail();
    let exif_entries = vec![
        ascii(0x9003, "2019:07:08 09:10:11"),
        Entry {
            tag: 0x927C,
            kind: UNDEFINED,
            count: 24,
            value: b"MAKERNOTE-SECRET-0042\0\0\0".to_vec(),
        },
    ];
    let gps_entries = vec![
        ascii(0x0001, "N"),
        rationals(0x0002, &[(35, 1), (39, 1), (2958, 100)]),
        ascii(0x0003, "E"),
        rationals(0x0004, &[(139, 1), (44, 1), (2854, 100)]),
        Entry {
            tag: 0x001B,
            kind: UNDEFINED,
            count: 22,
            value: b"ASCII\0\0\0GPS-SECRET-FIX".to_vec(),
        },
    ];
    let ifd0_template = |exif_at: u32, gps_at: u32| {
        vec![
            ascii(0x010F, "SecretCam"),
            Entry {
                tag: 0x0112,
                kind: SHORT,
                count: 1,
                value: orientation.to_be_bytes().to_vec(),
            },
            long(0x8769, exif_at),
            long(0x8825, gps_at),
        ]
    };
    let ifd1_template = |thumb_at: u32| {
        vec![
            Entry {
                tag: 0x0103,
                kind: SHORT,
                count: 1,
                value: 6u16.to_be_bytes().to_vec(),
            },
            long(0x0201, thumb_at),
            long(0x0202, thumbnail.len() as u32),
        ]
    };
    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd_len(&ifd0_template(0, 0));
    let gps_at = exif_at + ifd_len(&exif_entries);
    let ifd1_at = gps_at + ifd_len(&gps_entries);
    let thumb_at = ifd1_at + ifd_len(&ifd1_template(0));

    let mut tiff = b"MM\0\x2a".to_vec();
    tiff.extend_from_slice(&ifd0_at.to_be_bytes());
    write_ifd(&mut tiff, ifd0_at, &ifd0_template(exif_at, gps_at), ifd1_at);
    write_ifd(&mut tiff, exif_at, &exif_entries, 0);
    write_ifd(&mut tiff, gps_at, &gps_entries, 0);
    write_ifd(&mut tiff, ifd1_at, &ifd1_template(thumb_at), 0);
    tiff.extend_from_slice(&thumbnail);
    tiff
}

pub fn xmp_packet() -> Vec<u8> {
    br#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="35,39.4929N" exif:UserComment="XMP-SECRET-PATIENT"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#.to_vec()
}

/// A JPEG marker segment: marker, 16-bit length, payload.
pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

pub fn insert_after_soi(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    for segment in segments {
        out.extend_from_slice(segment);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A JPEG with EXIF (orientation, GPS, maker note, thumbnail), XMP, IPTC and a comment.
pub fn jpeg_with_metadata(image: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&exif_tiff(orientation));
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(&xmp_packet());
    let caption = b"IPTC-SECRET-CAPTION";
    let mut iptc = vec![0x1C, 0x02, 0x78];
    iptc.extend_from_slice(&(caption.len() as u16).to_be_bytes());
    iptc.extend_from_slice(caption);
    let mut photoshop = b"Photoshop 3.0\0".to_vec();
    photoshop.extend_from_slice(b"8BIM\x04\x04\0\0");
    photoshop.extend_from_slice(&(iptc.len() as u32).to_be_bytes());
    photoshop.extend_from_slice(&iptc);
    if iptc.len() % 2 == 1 {
        photoshop.push(0);
    }
    insert_after_soi(
        &encode_jpeg(image, 95),
        &[
            segment(0xE1, &exif),
            segment(0xE1, &xmp),
            segment(0xED, &photoshop),
            segment(0xFE, b"COMMENT-SECRET"),
        ],
    )
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
    out
}

/// Inserts chunks right after IHDR (8-byte signature + 25-byte IHDR chunk).
pub fn insert_after_ihdr(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    for chunk in chunks {
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&png[33..]);
    out
}

/// A PNG with an `eXIf` chunk, XMP in `iTXt` and a `tEXt` comment.
pub fn png_with_metadata(image: &DynamicImage, orientation: u16) -> Vec<u8> {
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(&xmp_packet());
    insert_after_ihdr(
        &encode_png(image, None),
        &[
            png_chunk(b"eXIf", &exif_tiff(orientation)),
            png_chunk(b"iTXt", &itxt),
            png_chunk(b"tEXt", b"Comment\0PNG-TEXT-SECRET"),
        ],
    )
}

fn riff_chunk(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = fourcc.to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// An extended WebP (VP8X) with the lossless image, an `EXIF` chunk and an `XMP ` chunk.
pub fn webp_with_metadata(image: &DynamicImage, orientation: u16) -> Vec<u8> {
    let simple = encode_webp_lossless(image);
    assert_eq!(&simple[12..16], b"VP8L");
    extend_webp(&simple, image.width(), image.height(), orientation)
}

/// Turns a simple WebP (one `VP8 ` or `VP8L` chunk) into an extended one with `EXIF` and `XMP `.
pub fn extend_webp(simple: &[u8], width: u32, height: u32, orientation: u16) -> Vec<u8> {
    assert!(&simple[12..16] == b"VP8L" || &simple[12..16] == b"VP8 ");
    let image_chunk = &simple[12..];
    let mut vp8x = vec![0x08 | 0x04, 0, 0, 0];
    vp8x.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(&riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(image_chunk);
    body.extend_from_slice(&riff_chunk(b"EXIF", &exif_tiff(orientation)));
    body.extend_from_slice(&riff_chunk(b"XMP ", &xmp_packet()));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every planted string or byte pattern found in `bytes`.
pub fn leaked_metadata(bytes: &[u8]) -> Vec<String> {
    let mut found: Vec<String> = PLANTED_STRINGS
        .iter()
        .filter(|s| contains(bytes, s.as_bytes()))
        .map(|s| s.escape_debug().to_string())
        .collect();
    if contains(bytes, &GPS_LATITUDE_BYTES) {
        found.push("GPS latitude rationals".to_owned());
    }
    if contains(bytes, b"MM\0\x2a") || contains(bytes, b"II\x2a\0") {
        found.push("TIFF header".to_owned());
    }
    found
}

/// The JPEG's marker segments before the first scan.
pub fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        let length = u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]) as usize;
        pos += 2 + length;
    }
    markers
}

/// The PNG's chunk types in order.
pub fn png_chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut pos = 8;
    while pos + 8 <= png.len() {
        let length = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        types.push(String::from_utf8_lossy(&png[pos + 4..pos + 8]).into_owned());
        pos += 12 + length;
    }
    types
}

pub fn decode(bytes: &[u8]) -> DynamicImage {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .expect("guess")
        .decode()
        .expect("output decodes")
}

/// Which corner of `image` shows `color` (within a tolerance for JPEG), as "TL"/"TR"/"BL"/"BR".
pub fn corners_of(image: &DynamicImage, color: [u8; 3]) -> Vec<&'static str> {
    let rgb = image.to_rgb8();
    let (w, h) = (rgb.width(), rgb.height());
    let inset = 3;
    let corners = [
        ("TL", inset, inset),
        ("TR", w - 1 - inset, inset),
        ("BL", inset, h - 1 - inset),
        ("BR", w - 1 - inset, h - 1 - inset),
    ];
    corners
        .into_iter()
        .filter(|(_, x, y)| {
            let pixel = rgb.get_pixel(*x, *y).0;
            pixel
                .iter()
                .zip(color)
                .all(|(a, b)| (i16::from(*a) - i16::from(b)).abs() <= 40)
        })
        .map(|(name, _, _)| name)
        .collect()
}

/// Whether `ffmpeg` can be run; when not, says so on the real stderr (not captured by the
/// test harness) so that the skip is visible in every test run.
pub fn ffmpeg_available() -> bool {
    use std::io::Write;
    let found = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: ffmpeg is not installed; `apt-get install ffmpeg` to run the ffmpeg tests"
        );
    }
    found
}
