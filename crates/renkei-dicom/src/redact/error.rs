//! Redaction errors: a stable code each, messages that name rectangles and attributes only.

use crate::render::RenderError;

/// Why an image could not be redacted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RedactError {
    /// No rectangle was given.
    #[error("no rectangle to blank was given")]
    NoRectangles,
    /// More rectangles than [`super::MAX_RECTANGLES`].
    #[error("{count} rectangles were given; at most {limit} are allowed")]
    TooManyRectangles { count: usize, limit: usize },
    /// A rectangle with no width or no height.
    #[error("rectangle {index} is empty")]
    EmptyRectangle { index: usize },
    /// A rectangle that reaches past the image's columns or rows.
    #[error("rectangle {index} lies outside the {columns}×{rows} image")]
    OutsideImage {
        index: usize,
        columns: u32,
        rows: u32,
    },
    /// The new SOP Instance UID is not a valid UID (a defect of the caller).
    #[error("the derived instance's UID is invalid")]
    InvalidUid,
    /// The object's pixels cannot be read or have a layout redaction does not handle.
    #[error("{0}")]
    Pixels(#[from] RenderError),
}

impl RedactError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RedactError::NoRectangles => "redaction_no_rectangles",
            RedactError::TooManyRectangles { .. } => "redaction_too_many_rectangles",
            RedactError::EmptyRectangle { .. } => "redaction_empty_rectangle",
            RedactError::OutsideImage { .. } => "redaction_outside_image",
            RedactError::InvalidUid => "redaction_invalid_uid",
            RedactError::Pixels(e) => e.code(),
        }
    }

    /// Whether the caller's input is at fault (the rectangles or the image), not the server.
    pub fn is_input(&self) -> bool {
        !matches!(self, RedactError::InvalidUid)
    }
}
