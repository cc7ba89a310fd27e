//! Finding burned-in text in pixels: which instances are scanned, which frames, at what size.
//!
//! Decided first as data ([`plan`]: scanned or not, and which frames), then run with any
//! [`TextDetector`]. Only rectangles (in the frame's own pixel coordinates) come out; the
//! text a detector may have read never leaves it, since it may be a patient's name.
//!
//! CT and MR are never scanned (their consoles put no names in the pixels, and their volume of
//! instances would pay for it). Ultrasound, secondary capture, angiography and fluoroscopy,
//! computed and digital radiography, endoscopy and photographs are.

pub mod tesseract;

use dicom_core::Tag;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};
use serde::{Deserialize, Serialize};

use crate::render::{DisplayImage, ImageFormat, RenderOptions, display_frame, frame_count};

const MODALITY: Tag = Tag(0x0008, 0x0060);
const SOP_CLASS_UID: Tag = Tag(0x0008, 0x0016);

/// Modalities scanned for text.
pub const SCANNED_MODALITIES: &[&str] = &[
    "US", "IVUS", "SC", "OT", "XA", "RF", "CR", "DX", "ES", "XC", "GM", "OP", "DOC",
];

/// Modalities never scanned, whatever their SOP class says.
pub const NEVER_SCANNED: &[&str] = &["CT", "MR", "PT", "NM"];

/// SOP classes scanned when the modality does not decide (secondary capture, visible light).
const SCANNED_SOP_CLASS_PREFIXES: &[&str] =
    &["1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.77.1"];

/// Longest side of the frame handed to the detector: larger frames are reduced to it.
pub const REDUCED_SIDE: u32 = 1280;

/// One frame in this many of a cine is scanned (the first, the eleventh, …).
pub const CINE_STEP: u32 = 10;

/// Frames scanned at most in one instance.
pub const MAX_SCANNED_FRAMES: usize = 12;

/// Rectangles kept for one instance at most (the rest are dropped; the instance is held
/// whatever their number).
pub const MAX_REGIONS: usize = 64;

/// A rectangle of detected text in a frame, in that frame's pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// The frame (0-based); 0 for a single-frame image or a photo.
    #[serde(default)]
    pub frame: u32,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Region {
    /// From a detector's left, top, right and bottom edges (frame 0).
    pub fn from_edges(left: i32, top: i32, right: i32, bottom: i32) -> Region {
        let (left, top) = (left.max(0) as u32, top.max(0) as u32);
        Region {
            frame: 0,
            x: left,
            y: top,
            width: (right.max(0) as u32).saturating_sub(left),
            height: (bottom.max(0) as u32).saturating_sub(top),
        }
    }

    /// This rectangle of a frame reduced by `scale` (≤ 1), in the full frame `frame`.
    fn unreduced(self, scale: f64, frame: u32) -> Region {
        let grow = |v: u32| (f64::from(v) / scale).round() as u32;
        Region {
            frame,
            x: grow(self.x),
            y: grow(self.y),
            width: grow(self.width),
            height: grow(self.height),
        }
    }
}

/// An 8-bit grey image, row by row, no padding.
#[derive(Debug, Clone, PartialEq)]
pub struct GreyImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl GreyImage {
    /// Grey from 1 (grey) or 3 (RGB) interleaved channels (ITU-R BT.601 luma).
    pub fn from_channels(width: u32, height: u32, channels: u8, pixels: &[u8]) -> GreyImage {
        let pixels = match channels {
            3 => pixels
                .chunks_exact(3)
                .map(|p| {
                    ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000)
                        as u8
                })
                .collect(),
            _ => pixels.to_vec(),
        };
        GreyImage {
            width,
            height,
            pixels,
        }
    }

    /// Reduced so that its longer side is at most `side`; returns the scale applied (≤ 1).
    pub fn reduced(self, side: u32) -> (GreyImage, f64) {
        let longer = self.width.max(self.height);
        if longer <= side || self.width == 0 || self.height == 0 {
            return (self, 1.0);
        }
        let scale = f64::from(side) / f64::from(longer);
        let (w, h) = (
            ((f64::from(self.width) * scale).round() as u32).max(1),
            ((f64::from(self.height) * scale).round() as u32).max(1),
        );
        let Some(buffer) = image::GrayImage::from_raw(self.width, self.height, self.pixels) else {
            return (
                GreyImage {
                    width: 0,
                    height: 0,
                    pixels: Vec::new(),
                },
                1.0,
            );
        };
        let small = image::imageops::resize(&buffer, w, h, image::imageops::FilterType::Triangle);
        let (width, height) = small.dimensions();
        (
            GreyImage {
                width,
                height,
                pixels: small.into_raw(),
            },
            scale,
        )
    }
}

/// Why a detector could not look at an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    /// The detector's library or models are missing.
    #[error("the text detector is not available")]
    Unavailable,
    /// The frame could not be decoded for the detector.
    #[error("the frame could not be decoded for text detection")]
    Undecodable,
}

impl DetectError {
    pub fn code(&self) -> &'static str {
        match self {
            DetectError::Unavailable => "text_detector_unavailable",
            DetectError::Undecodable => "text_frame_undecodable",
        }
    }
}

/// Finds text in an image: the rectangles of the words it is confident are text.
pub trait TextDetector: Send + Sync {
    fn detect(&self, image: &GreyImage) -> Result<Vec<Region>, DetectError>;
}

/// A detector that cannot look: what runs when Tesseract or its models are missing. Every
/// instance it would scan is then held (never called clean unseen).
pub struct Unavailable;

impl TextDetector for Unavailable {
    fn detect(&self, _: &GreyImage) -> Result<Vec<Region>, DetectError> {
        Err(DetectError::Unavailable)
    }
}

/// This machine's detector: Tesseract (`jpn+eng`) when it loads, else [`Unavailable`] (logged).
pub fn system_detector() -> std::sync::Arc<dyn TextDetector> {
    match tesseract::Tesseract::new() {
        Ok(tesseract) => std::sync::Arc::new(tesseract),
        Err(e) => {
            tracing::error!(
                code = e.code(),
                "Tesseract is missing (install tesseract-ocr-jpn and tesseract-ocr-eng): \
                 every image of a scanned modality will be held"
            );
            std::sync::Arc::new(Unavailable)
        }
    }
}

/// What to scan in an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Not scanned: a modality without burned-in text, or no pixels.
    Skip,
    /// These frames (0-based).
    Frames(Vec<u32>),
}

/// Whether instances of this modality and SOP class are scanned.
pub fn is_scanned(modality: Option<&str>, sop_class: &str) -> bool {
    let modality = modality.unwrap_or("").trim();
    if NEVER_SCANNED.contains(&modality) {
        return false;
    }
    SCANNED_MODALITIES.contains(&modality)
        || SCANNED_SOP_CLASS_PREFIXES
            .iter()
            .any(|prefix| sop_class.starts_with(prefix))
}

/// The frames scanned of an instance with `frames` frames: the first and one in
/// [`CINE_STEP`], at most [`MAX_SCANNED_FRAMES`].
pub fn frames_scanned(frames: u32) -> Vec<u32> {
    (0..frames)
        .step_by(CINE_STEP as usize)
        .take(MAX_SCANNED_FRAMES)
        .collect()
}

/// What to scan in `obj`.
pub fn plan(obj: &InMemDicomObject) -> Plan {
    let text = |tag: Tag| {
        obj.get(tag)
            .and_then(|e| e.value().to_str().ok())
            .map(|s| s.trim_matches([' ', '\0']).to_owned())
    };
    let sop_class = text(SOP_CLASS_UID).unwrap_or_default();
    if !is_scanned(text(MODALITY).as_deref(), &sop_class) {
        return Plan::Skip;
    }
    match frame_count(obj) {
        0 => Plan::Skip,
        frames => Plan::Frames(frames_scanned(frames)),
    }
}

/// The text regions of `obj` under `plan`, in full-frame coordinates (at most
/// [`MAX_REGIONS`]). A frame that cannot be decoded is an error: the caller holds the instance
/// rather than call it clean.
pub fn scan(
    obj: &DefaultDicomObject,
    plan: &Plan,
    detector: &dyn TextDetector,
) -> Result<Vec<Region>, DetectError> {
    let Plan::Frames(frames) = plan else {
        return Ok(Vec::new());
    };
    let options = RenderOptions {
        format: ImageFormat::Png,
        viewport: Some((REDUCED_SIDE, REDUCED_SIDE)),
        ..RenderOptions::default()
    };
    let mut regions = Vec::new();
    for &frame in frames {
        let shown = display_frame(obj, frame, &options).map_err(|_| DetectError::Undecodable)?;
        let image =
            GreyImage::from_channels(shown.width, shown.height, shown.channels, &shown.pixels);
        let rows = obj
            .get(Tag(0x0028, 0x0010))
            .and_then(|e| e.to_int::<u32>().ok())
            .unwrap_or(shown.height)
            .max(1);
        let scale = f64::from(shown.height) / f64::from(rows);
        regions.extend(
            detector
                .detect(&image)?
                .into_iter()
                .map(|r| r.unreduced(scale, frame)),
        );
        if regions.len() >= MAX_REGIONS {
            break;
        }
    }
    regions.truncate(MAX_REGIONS);
    Ok(regions)
}

/// The text regions of a Part 10 file (with or without its preamble), parsed only when its
/// modality and SOP class are scanned (see [`is_scanned`]).
pub fn scan_part10(
    bytes: &[u8],
    modality: Option<&str>,
    sop_class: &str,
    detector: &dyn TextDetector,
) -> Result<Vec<Region>, DetectError> {
    if !is_scanned(modality, sop_class) {
        return Ok(Vec::new());
    }
    let obj = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .map_err(|_| DetectError::Undecodable)?;
    scan(&obj, &plan(&obj), detector)
}

/// The text regions of a prepared (de-identified) instance; see [`scan_part10`].
pub fn scan_prepared(
    prepared: &crate::prepare::Prepared,
    detector: &dyn TextDetector,
) -> Result<Vec<Region>, DetectError> {
    let modality = prepared.report.modality.as_deref();
    if !is_scanned(modality, &prepared.sop_class_uid) {
        return Ok(Vec::new());
    }
    scan_part10(
        &prepared.bytes.to_vec(),
        modality,
        &prepared.sop_class_uid,
        detector,
    )
}

/// `image` (a frame shown `image.width` wide of one `columns` wide) with `regions` outlined
/// in red, two pixels thick; grey images become RGB.
pub fn outline(image: DisplayImage, regions: &[Region], columns: u32) -> DisplayImage {
    if regions.is_empty() || columns == 0 || image.width == 0 || image.height == 0 {
        return image;
    }
    let mut rgb = match image.channels {
        1 => DisplayImage {
            pixels: image.pixels.iter().flat_map(|&v| [v, v, v]).collect(),
            channels: 3,
            ..image
        },
        _ => image,
    };
    let (w, h) = (rgb.width, rgb.height);
    let scale = f64::from(w) / f64::from(columns);
    let at = |v: u32| (f64::from(v) * scale).round() as u32;
    for r in regions {
        let (x0, y0) = (at(r.x).min(w - 1), at(r.y).min(h - 1));
        let (x1, y1) = (
            at(r.x + r.width).clamp(x0, w - 1),
            at(r.y + r.height).clamp(y0, h - 1),
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                let edge = x <= x0 + 1 || x + 1 >= x1 || y <= y0 + 1 || y + 1 >= y1;
                if edge {
                    let p = ((y * w + x) * 3) as usize;
                    rgb.pixels[p..p + 3].copy_from_slice(&[230, 30, 30]);
                }
            }
        }
    }
    rgb
}

/// The text regions of an encoded photo (JPEG, PNG), in its pixel coordinates.
pub fn scan_encoded(bytes: &[u8], detector: &dyn TextDetector) -> Result<Vec<Region>, DetectError> {
    let decoded = image::load_from_memory(bytes).map_err(|_| DetectError::Undecodable)?;
    let grey = decoded.to_luma8();
    let (width, height) = grey.dimensions();
    scan_image(
        GreyImage {
            width,
            height,
            pixels: grey.into_raw(),
        },
        detector,
    )
}

/// The text regions of an image that is not DICOM (a photo), reduced first.
pub fn scan_image(
    image: GreyImage,
    detector: &dyn TextDetector,
) -> Result<Vec<Region>, DetectError> {
    let (small, scale) = image.reduced(REDUCED_SIDE);
    let mut regions: Vec<Region> = detector
        .detect(&small)?
        .into_iter()
        .map(|r| r.unreduced(scale, 0))
        .collect();
    regions.truncate(MAX_REGIONS);
    Ok(regions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_scanned() {
        let sc = "1.2.840.10008.5.1.4.1.1.7";
        let photo = "1.2.840.10008.5.1.4.1.1.77.1.4";
        let ct = "1.2.840.10008.5.1.4.1.1.2";
        let cases = [
            (Some("US"), "1.2.840.10008.5.1.4.1.1.6.1", true),
            (Some("CR"), "1.2.840.10008.5.1.4.1.1.1", true),
            (Some("DX"), "1.2.840.10008.5.1.4.1.1.1.1", true),
            (Some("XA"), "1.2.840.10008.5.1.4.1.1.12.1", true),
            (Some("XC"), photo, true),
            (None, photo, true),
            (Some("OT"), sc, true),
            (Some("CT"), ct, false),
            (Some("MR"), "1.2.840.10008.5.1.4.1.1.4", false),
            // A CT screenshot saved as secondary capture keeps its modality: not scanned (its
            // Burned In Annotation, if YES, still holds it).
            (Some("CT"), sc, false),
        ];
        for (modality, class, expected) in cases {
            assert_eq!(
                is_scanned(modality, class),
                expected,
                "{modality:?} {class}"
            );
        }
    }

    #[test]
    fn one_frame_in_ten() {
        assert_eq!(frames_scanned(1), vec![0]);
        assert_eq!(frames_scanned(25), vec![0, 10, 20]);
        assert_eq!(frames_scanned(1000).len(), MAX_SCANNED_FRAMES);
        assert!(frames_scanned(0).is_empty());
    }

    #[test]
    fn regions_grow_back_to_the_full_frame() {
        let (small, scale) = GreyImage {
            width: 2560,
            height: 2048,
            pixels: vec![0; 2560 * 2048],
        }
        .reduced(REDUCED_SIDE);
        assert_eq!((small.width, small.height), (1280, 1024));
        let r = Region::from_edges(10, 20, 110, 40).unreduced(scale, 3);
        assert_eq!(
            r,
            Region {
                frame: 3,
                x: 20,
                y: 40,
                width: 200,
                height: 40
            }
        );
    }
}
