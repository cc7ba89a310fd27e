//! Private attributes: all are removed except those on a short allow-list (empty today).

use dicom_core::Tag;

/// A private attribute that is known to carry no identity and may be kept: its private creator
/// and its element number within that creator's block (the low byte of the element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafePrivateAttribute {
    pub creator: &'static str,
    pub element_offset: u8,
}

/// The allow-list. It is empty: no vendor attribute has been reviewed yet, so every private
/// attribute goes. Add an entry only with a review of what the vendor stores there.
pub const SAFE_PRIVATE_ATTRIBUTES: &[SafePrivateAttribute] = &[];

/// Whether the private attribute `tag`, whose block belongs to `creator`, may be kept.
pub fn is_safe_private(tag: Tag, creator: Option<&str>) -> bool {
    let Some(creator) = creator else {
        return false;
    };
    let offset = (tag.element() & 0x00FF) as u8;
    SAFE_PRIVATE_ATTRIBUTES
        .iter()
        .any(|safe| safe.creator == creator.trim() && safe.element_offset == offset)
}

/// Whether `tag` is private (odd group).
pub fn is_private(tag: Tag) -> bool {
    tag.group() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_private_is_kept_while_the_list_is_empty() {
        assert!(is_private(Tag(0x0009, 0x1001)));
        assert!(is_private(Tag(0x0029, 0x0010)));
        assert!(!is_private(Tag(0x0010, 0x0010)));
        assert!(!is_safe_private(Tag(0x0009, 0x1001), Some("GEMS_IDEN_01")));
        assert!(!is_safe_private(Tag(0x0009, 0x1001), None));
    }
}
