//! De-identification errors: each carries a stable machine code and a message free of patient data.

use dicom_core::Tag;

/// Why an object could not be de-identified. Messages name tags and rules, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeidError {
    /// An element that the profile must rewrite does not have the shape its VR demands.
    #[error("element {tag} cannot be de-identified: {reason}")]
    MalformedElement { tag: String, reason: &'static str },
    /// An attribute that every de-identifiable instance needs is missing or empty.
    #[error("required attribute {tag} ({name}) is missing or empty")]
    MissingAttribute { tag: String, name: &'static str },
    /// The object nests sequences deeper than the engine accepts.
    #[error("sequences are nested more than {limit} levels deep")]
    TooDeep { limit: usize },
    /// An instance said to be de-identified already lacks renkei's markers or still holds
    /// what de-identification removes.
    #[error("the instance is not de-identified: {reason}")]
    NotDeidentified { reason: &'static str },
    /// An instance said to be de-identified holds an attribute that de-identification would
    /// still change (verify mode): named by its tag and the change, never its value.
    #[error("the instance is not de-identified: {tag} would be {change}")]
    Leftover { tag: String, change: &'static str },
    /// The bundled confidentiality profile table could not be parsed (a build defect).
    #[error("confidentiality profile table is invalid: {0}")]
    ProfileTable(String),
}

impl DeidError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DeidError::MalformedElement { .. } => "dicom_malformed_element",
            DeidError::MissingAttribute { .. } => "dicom_missing_attribute",
            DeidError::TooDeep { .. } => "dicom_too_deep",
            DeidError::NotDeidentified { .. } | DeidError::Leftover { .. } => {
                "dicom_not_deidentified"
            }
            DeidError::ProfileTable(_) => "deid_profile_table_invalid",
        }
    }

    pub(crate) fn malformed(tag: Tag, reason: &'static str) -> Self {
        DeidError::MalformedElement {
            tag: format_tag(tag),
            reason,
        }
    }

    pub(crate) fn missing(tag: Tag, name: &'static str) -> Self {
        DeidError::MissingAttribute {
            tag: format_tag(tag),
            name,
        }
    }
}

/// `(gggg,eeee)` in upper-case hex, as the standard writes tags.
pub fn format_tag(tag: Tag) -> String {
    format!("({:04X},{:04X})", tag.group(), tag.element())
}
