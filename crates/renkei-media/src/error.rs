//! Media errors: why a file was refused; each carries a stable machine code.

/// Why a media operation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The file has no bytes.
    #[error("the file is empty")]
    EmptyFile,
    /// The file is bigger than the limit for its kind.
    #[error("the file is {size} bytes; at most {max} bytes are accepted")]
    FileTooLarge { size: u64, max: u64 },
    /// The content is of a kind this operation does not handle (e.g. HEIC for `sanitize_photo`).
    #[error("{kind} files are not supported here")]
    UnsupportedType { kind: &'static str },
    /// The declared type or file name says one thing, the bytes another.
    #[error("the file is declared as {declared} but its content is {actual}")]
    TypeMismatch {
        declared: String,
        actual: &'static str,
    },
    /// HTML, SVG, XML or script: never accepted, whatever it is called.
    #[error("{what} files are not accepted")]
    DangerousType { what: String },
    /// The image's dimensions (from its header) or its decoded size exceed the limits.
    #[error("the image is too large: {detail}")]
    ImageTooLarge { detail: String },
    /// The image data ends before the image does.
    #[error("the image is truncated")]
    TruncatedImage,
    /// The image could not be decoded.
    #[error("the image could not be decoded: {detail}")]
    CorruptImage { detail: String },
    /// The image uses a feature the decoder does not support (e.g. 12-bit or arithmetic JPEG).
    #[error("the image uses an unsupported feature: {detail}")]
    UnsupportedImageFeature { detail: String },
    /// Re-encoding the cleaned pixels failed.
    #[error("the image could not be encoded: {detail}")]
    EncodeFailed { detail: String },
    /// The MP4/QuickTime box structure is broken or unsupported.
    #[error("the video is malformed: {detail}")]
    MalformedVideo { detail: String },
    /// The video's `moov` box (index and metadata) is bigger than the limit.
    #[error("the video's header is {size} bytes; at most {max} bytes are accepted")]
    VideoHeaderTooLarge { size: u64, max: u64 },
    /// The file name is unusable even after cleaning.
    #[error("invalid file name: {reason}")]
    InvalidFileName { reason: &'static str },
    /// Reading the input or writing the output failed (reader/writer APIs only).
    #[error("i/o error: {detail}")]
    Io { detail: String },
}

impl MediaError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::EmptyFile => "empty_file",
            MediaError::FileTooLarge { .. } => "file_too_large",
            MediaError::UnsupportedType { .. } => "unsupported_type",
            MediaError::TypeMismatch { .. } => "type_mismatch",
            MediaError::DangerousType { .. } => "dangerous_type",
            MediaError::ImageTooLarge { .. } => "image_too_large",
            MediaError::TruncatedImage => "truncated_image",
            MediaError::CorruptImage { .. } => "corrupt_image",
            MediaError::UnsupportedImageFeature { .. } => "unsupported_image_feature",
            MediaError::EncodeFailed { .. } => "encode_failed",
            MediaError::MalformedVideo { .. } => "malformed_video",
            MediaError::VideoHeaderTooLarge { .. } => "video_header_too_large",
            MediaError::InvalidFileName { .. } => "invalid_file_name",
            MediaError::Io { .. } => "io_error",
        }
    }

    pub(crate) fn corrupt(detail: impl Into<String>) -> Self {
        MediaError::CorruptImage {
            detail: detail.into(),
        }
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        MediaError::ImageTooLarge {
            detail: detail.into(),
        }
    }

    pub(crate) fn malformed_video(detail: impl Into<String>) -> Self {
        MediaError::MalformedVideo {
            detail: detail.into(),
        }
    }
}

impl From<std::io::Error> for MediaError {
    fn from(error: std::io::Error) -> Self {
        MediaError::Io {
            detail: error.to_string(),
        }
    }
}
