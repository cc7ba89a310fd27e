//! The organization policy's file-type rule, applied to uploads before anything is stored.

use crate::error::Kind;
use renkei_core::media::MediaKind;
use renkei_core::org::Policy;
use renkei_media::{Handling, MediaKind as Sniffed};

use crate::error::{ServiceError, ServiceResult};

/// What kind of medium an upload becomes, from how it is handled and what it is.
pub fn kind_of(handling: Handling, sniffed: Sniffed) -> MediaKind {
    match handling {
        Handling::SanitizePhoto => MediaKind::Photo,
        Handling::SanitizeVideo => MediaKind::Video,
        _ if sniffed == Sniffed::Pdf => MediaKind::Pdf,
        _ => MediaKind::File,
    }
}

/// Refuses an upload of a kind the organization does not accept (415 `file_type_not_allowed`).
pub fn check_kind_allowed(
    policy: &Policy,
    handling: Handling,
    sniffed: Sniffed,
) -> ServiceResult<()> {
    let kind = kind_of(handling, sniffed);
    if policy.allowed_file_kinds.allows(kind) {
        return Ok(());
    }
    Err(ServiceError::new(
        Kind::UnsupportedType,
        "file_type_not_allowed",
        format!(
            "your organization does not accept {} uploads",
            kind.as_str()
        ),
    ))
}
