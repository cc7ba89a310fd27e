//! The image pixel description, rescale, window presets and pixel spacing of one frame.

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use serde::{Deserialize, Serialize};

use super::attrs::{floats, frame_scoped, frame_scoped_text, int, text};
use super::error::RenderError;

/// Photometric Interpretation (0028,0004) of decoded samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Photometric {
    /// Grey scale, minimum sample value is white.
    Monochrome1,
    /// Grey scale, minimum sample value is black.
    Monochrome2,
    /// One sample per pixel, an index into the Red/Green/Blue Palette Color Lookup Tables.
    PaletteColor,
    /// Three samples per pixel, R G B, pixel-interleaved.
    Rgb,
    /// Three samples per pixel, Y Cb Cr with full range, pixel-interleaved (native
    /// YBR_FULL_422 is delivered up-sampled as this).
    YbrFull,
    /// Anything else, as written in the object.
    Other(String),
}

impl Photometric {
    pub(crate) fn parse(value: &str) -> Self {
        match value {
            "MONOCHROME1" => Photometric::Monochrome1,
            "MONOCHROME2" => Photometric::Monochrome2,
            "PALETTE COLOR" => Photometric::PaletteColor,
            "RGB" => Photometric::Rgb,
            "YBR_FULL" | "YBR_FULL_422" => Photometric::YbrFull,
            other => Photometric::Other(other.to_string()),
        }
    }

    /// The defined term, as the standard writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Photometric::Monochrome1 => "MONOCHROME1",
            Photometric::Monochrome2 => "MONOCHROME2",
            Photometric::PaletteColor => "PALETTE COLOR",
            Photometric::Rgb => "RGB",
            Photometric::YbrFull => "YBR_FULL",
            Photometric::Other(s) => s,
        }
    }

    /// MONOCHROME1 or MONOCHROME2.
    pub fn is_monochrome(&self) -> bool {
        matches!(self, Photometric::Monochrome1 | Photometric::Monochrome2)
    }
}

/// The Image Pixel module attributes that decide how pixel data bytes are read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PixelInfo {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub high_bit: u16,
    pub signed: bool,
    pub planar: bool,
    /// As written; `YBR_FULL_422` is kept here so that native data can be up-sampled.
    pub photometric: String,
    pub frames: u32,
}

/// Number of Frames (0028,0008): absent, empty or unparsable means one frame.
pub(crate) fn number_of_frames(obj: &InMemDicomObject) -> u32 {
    int(obj, tags::NUMBER_OF_FRAMES)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

impl PixelInfo {
    pub(crate) fn read(obj: &InMemDicomObject) -> Result<Self, RenderError> {
        let rows = positive_u16(obj, tags::ROWS, "(0028,0010)", "Rows")?;
        let columns = positive_u16(obj, tags::COLUMNS, "(0028,0011)", "Columns")?;
        let samples_per_pixel = match int(obj, tags::SAMPLES_PER_PIXEL) {
            None => 1,
            Some(1) => 1,
            Some(3) => 3,
            Some(_) => {
                return Err(RenderError::attribute(
                    "(0028,0002)",
                    "Samples per Pixel",
                    "must be 1 or 3",
                ));
            }
        };
        let bits_allocated = match int(obj, tags::BITS_ALLOCATED) {
            Some(b @ (1 | 8 | 16 | 32)) => b as u16,
            Some(_) => {
                return Err(RenderError::attribute(
                    "(0028,0100)",
                    "Bits Allocated",
                    "must be 1, 8, 16 or 32",
                ));
            }
            None => {
                return Err(RenderError::attribute(
                    "(0028,0100)",
                    "Bits Allocated",
                    "missing",
                ));
            }
        };
        let bits_stored = int(obj, tags::BITS_STORED)
            .and_then(|b| u16::try_from(b).ok())
            .filter(|b| (1..=bits_allocated).contains(b))
            .unwrap_or(bits_allocated);
        let high_bit = int(obj, tags::HIGH_BIT)
            .and_then(|b| u16::try_from(b).ok())
            .filter(|h| *h + 1 >= bits_stored && *h < bits_allocated)
            .unwrap_or(bits_stored - 1);
        let signed = int(obj, tags::PIXEL_REPRESENTATION) == Some(1);
        let planar = samples_per_pixel == 3 && int(obj, tags::PLANAR_CONFIGURATION) == Some(1);
        let photometric = text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_else(|| {
            if samples_per_pixel == 1 {
                "MONOCHROME2".to_string()
            } else {
                "RGB".to_string()
            }
        });
        Ok(PixelInfo {
            rows,
            columns,
            samples_per_pixel,
            bits_allocated,
            bits_stored,
            high_bit,
            signed,
            planar,
            photometric,
            frames: number_of_frames(obj),
        })
    }

    pub(crate) fn pixels(&self) -> usize {
        self.rows as usize * self.columns as usize
    }
}

fn positive_u16(
    obj: &InMemDicomObject,
    tag: dicom_core::Tag,
    tag_text: &'static str,
    name: &'static str,
) -> Result<u32, RenderError> {
    match int(obj, tag) {
        Some(v) if (1..=i64::from(u16::MAX)).contains(&v) => Ok(v as u32),
        Some(_) => Err(RenderError::attribute(tag_text, name, "must be 1 to 65535")),
        None => Err(RenderError::attribute(tag_text, name, "missing")),
    }
}

/// Modality LUT as a linear function: modality value = stored value × slope + intercept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rescale {
    pub slope: f64,
    pub intercept: f64,
}

impl Rescale {
    pub const IDENTITY: Rescale = Rescale {
        slope: 1.0,
        intercept: 0.0,
    };

    /// Rescale Slope/Intercept of `frame` (top level, else functional groups); identity when
    /// absent or when the slope is zero.
    pub(crate) fn of_frame(obj: &InMemDicomObject, frame: u32) -> Self {
        let seq = tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE;
        let slope = frame_scoped(obj, frame, seq, tags::RESCALE_SLOPE)
            .and_then(|v| v.first().copied())
            .filter(|s| *s != 0.0)
            .unwrap_or(1.0);
        let intercept = frame_scoped(obj, frame, seq, tags::RESCALE_INTERCEPT)
            .and_then(|v| v.first().copied())
            .unwrap_or(0.0);
        Rescale { slope, intercept }
    }

    #[inline]
    pub fn apply(&self, stored: f64) -> f64 {
        stored * self.slope + self.intercept
    }
}

/// VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum VoiFunction {
    #[default]
    Linear,
    LinearExact,
    Sigmoid,
}

/// One Window Center/Width pair (in modality units) that the object recommends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowPreset {
    pub center: f64,
    pub width: f64,
    /// Window Center & Width Explanation (0028,1055), e.g. `LUNG`, when given.
    pub explanation: Option<String>,
    pub function: VoiFunction,
}

/// The object's window presets for `frame`, in order; pairs with a width below 1 are dropped.
pub(crate) fn window_presets(obj: &InMemDicomObject, frame: u32) -> Vec<WindowPreset> {
    let seq = tags::FRAME_VOILUT_SEQUENCE;
    let (Some(centers), Some(widths)) = (
        frame_scoped(obj, frame, seq, tags::WINDOW_CENTER),
        frame_scoped(obj, frame, seq, tags::WINDOW_WIDTH),
    ) else {
        return Vec::new();
    };
    let explanations: Vec<String> =
        frame_scoped_text(obj, frame, seq, tags::WINDOW_CENTER_WIDTH_EXPLANATION)
            .map(|e| e.split('\\').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
    let function = match frame_scoped_text(obj, frame, seq, tags::VOILUT_FUNCTION).as_deref() {
        Some("LINEAR_EXACT") => VoiFunction::LinearExact,
        Some("SIGMOID") => VoiFunction::Sigmoid,
        _ => VoiFunction::Linear,
    };
    centers
        .iter()
        .zip(&widths)
        .enumerate()
        .filter(|(_, (_, w))| **w >= 1.0)
        .map(|(i, (c, w))| WindowPreset {
            center: *c,
            width: *w,
            explanation: explanations.get(i).filter(|e| !e.is_empty()).cloned(),
            function,
        })
        .collect()
}

/// Pixel Spacing (row spacing, column spacing) in mm for `frame`: Pixel Spacing (top level or
/// Pixel Measures functional group), else Imager Pixel Spacing.
pub(crate) fn pixel_spacing(obj: &InMemDicomObject, frame: u32) -> Option<(f64, f64)> {
    let values = frame_scoped(
        obj,
        frame,
        tags::PIXEL_MEASURES_SEQUENCE,
        tags::PIXEL_SPACING,
    )
    .or_else(|| floats(obj, tags::IMAGER_PIXEL_SPACING))?;
    match values.as_slice() {
        [row, col, ..] if *row > 0.0 && *col > 0.0 => Some((*row, *col)),
        _ => None,
    }
}
