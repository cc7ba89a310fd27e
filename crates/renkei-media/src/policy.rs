//! What to do with an upload of each sniffed kind.

use crate::kind::MediaKind;

/// How an upload of a given kind must be handled before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Run [`crate::sanitize_photo`] and store its output (and thumbnail) instead.
    SanitizePhoto,
    /// Run [`crate::sanitize_mp4`] and store its output instead.
    SanitizeVideo,
    /// Store the bytes unchanged as a downloadable file (PDF, DICOM, text, other files).
    /// PDFs may carry author/producer metadata and DICOM headers carry patient data:
    /// neither is cleaned by this crate (DICOM has `renkei-dicom`).
    StoreAsIs,
    /// Refuse the upload: markup/script (never served), or a photo format that carries
    /// metadata this crate cannot remove (HEIC/AVIF: clients must send JPEG).
    Refuse,
}

/// The handling for an upload whose bytes sniffed as `kind`.
pub fn handling(kind: MediaKind) -> Handling {
    match kind {
        MediaKind::Jpeg | MediaKind::Png | MediaKind::WebP | MediaKind::Gif => {
            Handling::SanitizePhoto
        }
        MediaKind::Mp4 | MediaKind::QuickTime => Handling::SanitizeVideo,
        MediaKind::Pdf | MediaKind::Dicom | MediaKind::Text | MediaKind::Other => {
            Handling::StoreAsIs
        }
        MediaKind::Heic | MediaKind::Avif | MediaKind::Dangerous(_) => Handling::Refuse,
    }
}
