//! What de-identification produced: the facts the indexer and study card need, no identifiers.

use serde::Serialize;

/// The outcome of one de-identification. Every value is taken from the object after the
/// profile was applied, so it never holds an original identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeidReport {
    /// The new Study Instance UID.
    pub study_instance_uid: Option<String>,
    /// The new Series Instance UID.
    pub series_instance_uid: Option<String>,
    /// The new SOP Instance UID.
    pub sop_instance_uid: String,
    /// The Patient ID that remains: its last N digits.
    pub patient_id_tail: String,
    /// Modality (0008,0060).
    pub modality: Option<String>,
    /// Body Part Examined (0018,0015).
    pub body_part: Option<String>,
    /// Study Date after the date rule (shifted, kept, or absent).
    pub study_date: Option<String>,
    /// Number of Frames; 1 for a single-frame image, 0 without pixel data, `None` when the
    /// attribute is there but is not a number (the object is still de-identified).
    pub number_of_frames: Option<u32>,
    /// Whether the pixels (or the encapsulated document) may show identifying text.
    pub burned_in_risk: bool,
    /// Whether it says Burned In Annotation `YES` (it is then held, see `text`).
    pub burned_in_declared: bool,
    /// Attributes removed, private ones included.
    pub attributes_removed: u32,
    /// Of those, private attributes.
    pub private_attributes_removed: u32,
    /// Attributes whose value was replaced, emptied, cleaned, shifted or remapped.
    pub attributes_replaced: u32,
    /// The edition of PS3.15 whose Table E.1-1 was applied.
    pub profile_edition: &'static str,
}
