//! One frame as uncompressed little-endian bytes (WADO-RS `/frames`): whatever the transfer
//! syntax, the decoded stored values laid out as native pixel data would be.

use dicom_object::DefaultDicomObject;

use super::error::RenderError;
use super::frame::{Samples, decode_frame};

/// Frame `frame` (0-based) as native bytes: `rows × columns × samples` values of
/// Bits Allocated each (1-bit frames: one byte per pixel), little-endian, colour
/// pixel-interleaved. Compressed colour frames come out as RGB.
pub fn native_frame(obj: &DefaultDicomObject, frame: u32) -> Result<Vec<u8>, RenderError> {
    let decoded = decode_frame(obj, frame)?;
    Ok(le_bytes(decoded.data, decoded.bits_allocated))
}

/// Stored values as native little-endian bytes of `bits_allocated` each (8 or less: one byte).
pub(crate) fn le_bytes(data: Samples, bits_allocated: u16) -> Vec<u8> {
    let wide = bits_allocated > 8;
    match data {
        Samples::U8(v) if wide => v.iter().flat_map(|s| u16::from(*s).to_le_bytes()).collect(),
        Samples::U8(v) => v,
        Samples::I16(v) if !wide => v.iter().map(|s| *s as i8 as u8).collect(),
        Samples::I16(v) => v.iter().flat_map(|s| s.to_le_bytes()).collect(),
        Samples::U16(v) => v.iter().flat_map(|s| s.to_le_bytes()).collect(),
        Samples::U32(v) => v.iter().flat_map(|s| s.to_le_bytes()).collect(),
        Samples::I32(v) => v.iter().flat_map(|s| s.to_le_bytes()).collect(),
    }
}
