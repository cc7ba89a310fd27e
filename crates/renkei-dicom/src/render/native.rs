//! One frame for WADO-RS `/frames`: decoded to uncompressed little-endian bytes (whatever the
//! transfer syntax, the stored values laid out as native pixel data would be), or, when the
//! client accepts it, the compressed bytes exactly as stored.

use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::DefaultDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::error::RenderError;
use super::frame::{Samples, decode_frame, frame_fragment};
use super::info::PixelInfo;

/// Explicit VR Little Endian: the transfer syntax of decoded frames.
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";

/// How frames are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramesAs {
    /// Decoded to Explicit VR Little Endian bytes ([`native_frame`]).
    Uncompressed,
    /// The compressed bytes as stored ([`stored_frame`]), in this transfer syntax.
    Stored(String),
}

/// The form to answer frames of an instance stored in `stored` with, from the transfer
/// syntaxes the client accepts in its order of preference (`*`: any; none listed: Explicit VR
/// Little Endian). A compressed instance is sent as stored when the client accepts its syntax
/// or any; every instance can be sent decoded. `None`: nothing the client accepts.
pub fn frames_as(stored: &str, accepted: &[&str]) -> Option<FramesAs> {
    if accepted.is_empty() {
        return Some(FramesAs::Uncompressed);
    }
    let encapsulated = TransferSyntaxRegistry
        .get(stored)
        .is_some_and(|ts| ts.is_encapsulated_pixel_data());
    accepted.iter().find_map(|&wanted| match wanted {
        "*" if encapsulated => Some(FramesAs::Stored(stored.to_string())),
        _ if wanted == stored && encapsulated => Some(FramesAs::Stored(stored.to_string())),
        "*" | EXPLICIT_VR_LITTLE_ENDIAN => Some(FramesAs::Uncompressed),
        _ => None,
    })
}

/// Frame `frame` (0-based) of compressed pixel data as stored: its fragment, or every fragment
/// joined for a single-frame instance (PS3.5 A.4). Native pixel data has no stored frame to
/// send: ask [`frames_as`] first.
pub fn stored_frame(obj: &DefaultDicomObject, frame: u32) -> Result<Vec<u8>, RenderError> {
    let info = PixelInfo::read(obj)?;
    if frame >= info.frames {
        return Err(RenderError::FrameOutOfRange {
            frame,
            frames: info.frames,
        });
    }
    Ok(frame_fragment(obj, &info, frame, "compressed")?.into_owned())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG_LS: &str = "1.2.840.10008.1.2.4.80";
    const IMPLICIT_LE: &str = "1.2.840.10008.1.2";

    #[test]
    fn compressed_frames_go_as_stored_only_when_the_client_takes_them() {
        let stored = || Some(FramesAs::Stored(JPEG_LS.to_string()));
        assert_eq!(frames_as(JPEG_LS, &[]), Some(FramesAs::Uncompressed));
        assert_eq!(frames_as(JPEG_LS, &["*"]), stored());
        assert_eq!(frames_as(JPEG_LS, &[JPEG_LS]), stored());
        assert_eq!(
            frames_as(JPEG_LS, &[EXPLICIT_VR_LITTLE_ENDIAN, "*"]),
            Some(FramesAs::Uncompressed)
        );
        assert_eq!(frames_as(JPEG_LS, &["1.2.840.10008.1.2.4.50"]), None);
        assert_eq!(
            frames_as(JPEG_LS, &["1.2.840.10008.1.2.4.50", JPEG_LS]),
            stored()
        );
    }

    #[test]
    fn native_instances_always_go_decoded() {
        assert_eq!(frames_as(IMPLICIT_LE, &["*"]), Some(FramesAs::Uncompressed));
        assert_eq!(
            frames_as(IMPLICIT_LE, &[EXPLICIT_VR_LITTLE_ENDIAN]),
            Some(FramesAs::Uncompressed)
        );
        assert_eq!(frames_as(IMPLICIT_LE, &[JPEG_LS]), None);
    }
}
