//! Raw monochrome frames for client-side window/level: 16-bit little-endian samples plus what
//! the client needs to window them (rescale, presets, pixel spacing).
//!
//! Byte layout of [`RawFrame::data`]: `rows × columns` samples, row by row from the top-left
//! pixel, each 2 bytes little-endian, signed (`int16`) or unsigned (`uint16`) as
//! [`RawFrameInfo::sample_type`] says; no header and no padding, so the length is exactly
//! `rows × columns × 2`. The modality value (e.g. Hounsfield units) of a sample `v` is
//! `v × rescale_slope + rescale_intercept`. When the object's rescale maps every stored value of
//! the frame to an integer that fits in 16 bits (CT: slope 1, intercept −1024), it is applied on
//! the server and the frame reports slope 1, intercept 0 and `rescale_applied: true`; otherwise
//! the stored values are sent with the object's slope and intercept for the client to apply.

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use serde::Serialize;

use super::attrs::text;
use super::error::RenderError;
use super::frame::{Samples, decode_frame};
use super::info::{Photometric, Rescale, WindowPreset, pixel_spacing, window_presets};

/// The type of each 2-byte sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RawSampleType {
    Int16,
    Uint16,
}

/// Everything about a raw frame except its samples; serialisable for a JSON header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawFrameInfo {
    pub rows: u32,
    pub columns: u32,
    pub sample_type: RawSampleType,
    /// Modality value = sample × slope + intercept.
    pub rescale_slope: f64,
    pub rescale_intercept: f64,
    /// Whether the object's Rescale Slope/Intercept were already applied to the samples.
    pub rescale_applied: bool,
    /// Rescale Type (0028,1054), e.g. `HU`, when given.
    pub rescale_type: Option<String>,
    /// Smallest and largest modality value in the frame (for a full-range default window).
    pub min_value: f64,
    pub max_value: f64,
    /// MONOCHROME1: the client must invert after windowing (low values display white).
    pub invert: bool,
    /// The object's Window Center/Width pairs, in modality units.
    pub window_presets: Vec<WindowPreset>,
    /// (row spacing, column spacing) in mm: the distance between the centres of adjacent rows
    /// and of adjacent columns.
    pub pixel_spacing_mm: Option<(f64, f64)>,
}

/// A raw frame: [`RawFrameInfo`] plus the samples laid out as the module documentation says.
#[derive(Debug, Clone, PartialEq)]
pub struct RawFrame {
    pub info: RawFrameInfo,
    pub data: Vec<u8>,
}

/// Frame `frame` of a monochrome object as 16-bit modality (or stored) values.
pub fn raw_frame(obj: &DefaultDicomObject, frame: u32) -> Result<RawFrame, RenderError> {
    let decoded = decode_frame(obj, frame)?;
    if !decoded.photometric.is_monochrome() {
        return Err(RenderError::NotMonochrome(
            decoded.photometric.as_str().to_string(),
        ));
    }
    let stored: Vec<i64> = match &decoded.data {
        Samples::U8(v) => v.iter().map(|&s| i64::from(s)).collect(),
        Samples::U16(v) => v.iter().map(|&s| i64::from(s)).collect(),
        Samples::I16(v) => v.iter().map(|&s| i64::from(s)).collect(),
        Samples::U32(_) | Samples::I32(_) => {
            return Err(RenderError::UnsupportedPixelFormat(format!(
                "raw frames carry at most 16 bits per sample, the object stores {}",
                decoded.bits_stored
            )));
        }
    };
    let Some((lo, hi)) = decoded.data.min_max() else {
        return Err(RenderError::CorruptPixelData("empty frame".into()));
    };
    let rescale = Rescale::of_frame(obj, frame);
    let (m_lo, m_hi) = {
        let (a, b) = (rescale.apply(lo as f64), rescale.apply(hi as f64));
        (a.min(b), a.max(b))
    };
    let integral = rescale.slope.fract() == 0.0 && rescale.intercept.fract() == 0.0;
    let fits_i16 = m_lo >= f64::from(i16::MIN) && m_hi <= f64::from(i16::MAX);
    let fits_u16 = m_lo >= 0.0 && m_hi <= f64::from(u16::MAX);
    let identity = rescale == Rescale::IDENTITY;

    let (sample_type, values, applied): (RawSampleType, Vec<i64>, bool) =
        if integral && (fits_i16 || fits_u16) {
            let (slope, intercept) = (rescale.slope as i64, rescale.intercept as i64);
            let values = if identity {
                stored
            } else {
                stored
                    .iter()
                    .map(|&s| s.saturating_mul(slope).saturating_add(intercept))
                    .collect()
            };
            let sample_type = if m_lo < 0.0 {
                RawSampleType::Int16
            } else if fits_u16 && (decoded.pixel_representation == 0 || !fits_i16) {
                RawSampleType::Uint16
            } else {
                RawSampleType::Int16
            };
            (sample_type, values, !identity)
        } else {
            let sample_type = if decoded.pixel_representation == 1 {
                RawSampleType::Int16
            } else {
                RawSampleType::Uint16
            };
            (sample_type, stored, false)
        };

    let mut data = Vec::with_capacity(values.len() * 2);
    for v in values {
        let bytes = match sample_type {
            RawSampleType::Int16 => (v as i16).to_le_bytes(),
            RawSampleType::Uint16 => (v as u16).to_le_bytes(),
        };
        data.extend_from_slice(&bytes);
    }
    let (rescale_slope, rescale_intercept) = if applied || identity {
        (1.0, 0.0)
    } else {
        (rescale.slope, rescale.intercept)
    };
    Ok(RawFrame {
        info: RawFrameInfo {
            rows: decoded.rows,
            columns: decoded.columns,
            sample_type,
            rescale_slope,
            rescale_intercept,
            rescale_applied: applied,
            rescale_type: text(obj, tags::RESCALE_TYPE),
            min_value: m_lo,
            max_value: m_hi,
            invert: decoded.photometric == Photometric::Monochrome1,
            window_presets: window_presets(obj, frame),
            pixel_spacing_mm: pixel_spacing(obj, frame),
        },
        data,
    })
}
