//! Rendering errors: each carries a stable machine code and a message free of patient data.

/// Why a frame or waveform could not be decoded, rendered or extracted.
///
/// Messages name attributes, transfer syntaxes and limits, never element values that could
/// identify a patient.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// The object has no Pixel Data (7FE0,0010).
    #[error("the object has no pixel data")]
    NoPixelData,
    /// The requested frame does not exist.
    #[error("frame {frame} is out of range: the object has {frames} frame(s)")]
    FrameOutOfRange { frame: u32, frames: u32 },
    /// An image pixel attribute needed to read the pixels is missing or unusable.
    #[error("attribute {tag} ({name}) is missing or invalid: {reason}")]
    InvalidAttribute {
        tag: &'static str,
        name: &'static str,
        reason: &'static str,
    },
    /// The pixel data is compressed with a transfer syntax this build cannot decode.
    #[error("transfer syntax {uid} ({name}) cannot be decoded by this build")]
    UnsupportedTransferSyntax { uid: String, name: String },
    /// The pixels have a layout the renderer does not handle (e.g. float pixel data).
    #[error("unsupported pixel format: {0}")]
    UnsupportedPixelFormat(String),
    /// The pixel data is shorter than the attributes promise, or the codec rejected it.
    #[error("pixel data is corrupt or truncated: {0}")]
    CorruptPixelData(String),
    /// A frame whose decoded size exceeds the renderer's limit.
    #[error("frame of {bytes} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge { bytes: u64, limit: u64 },
    /// The operation needs a monochrome image (raw frames for client-side windowing).
    #[error("the operation needs a MONOCHROME1/MONOCHROME2 image, found {0}")]
    NotMonochrome(String),
    /// The request's options are out of range (window width, JPEG quality, viewport).
    #[error("invalid render option: {0}")]
    InvalidOptions(&'static str),
    /// The object has no Waveform Sequence (5400,0100) or it is empty.
    #[error("the object has no waveform")]
    NoWaveform,
    /// A multiplex group's attributes or data do not agree.
    #[error("waveform multiplex group {group} is invalid: {reason}")]
    InvalidWaveform { group: usize, reason: String },
    /// The output image could not be encoded (a defect, not an input problem).
    #[error("image encoding failed: {0}")]
    Encode(String),
}

impl RenderError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RenderError::NoPixelData => "dicom_no_pixel_data",
            RenderError::FrameOutOfRange { .. } => "dicom_frame_out_of_range",
            RenderError::InvalidAttribute { .. } => "dicom_invalid_pixel_attribute",
            RenderError::UnsupportedTransferSyntax { .. } => "dicom_unsupported_transfer_syntax",
            RenderError::UnsupportedPixelFormat(_) => "dicom_unsupported_pixel_format",
            RenderError::CorruptPixelData(_) => "dicom_corrupt_pixel_data",
            RenderError::FrameTooLarge { .. } => "dicom_frame_too_large",
            RenderError::NotMonochrome(_) => "dicom_not_monochrome",
            RenderError::InvalidOptions(_) => "dicom_invalid_render_options",
            RenderError::NoWaveform => "dicom_no_waveform",
            RenderError::InvalidWaveform { .. } => "dicom_invalid_waveform",
            RenderError::Encode(_) => "dicom_render_encode_failed",
        }
    }

    pub(crate) fn attribute(tag: &'static str, name: &'static str, reason: &'static str) -> Self {
        RenderError::InvalidAttribute { tag, name, reason }
    }
}
