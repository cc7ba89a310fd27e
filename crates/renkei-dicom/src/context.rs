//! What the organization decided: its secret, its Patient ID rule and the profile options.

use std::fmt;

/// How dates and times are treated (PS3.15 Retain Longitudinal Temporal Information options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateMode {
    /// Basic profile only: dates and times are removed, emptied or replaced by dummies.
    Remove,
    /// Retain Longitudinal Temporal Information with Full Dates: keep them as they are.
    Keep,
    /// Retain Longitudinal Temporal Information with Modified Dates: shift every date by the
    /// patient's own whole-day offset, derived from the keyed hash of the original Patient ID.
    #[default]
    ShiftPerPatient,
}

/// Everything the engine needs besides the object itself.
#[derive(Clone)]
pub struct DeidContext {
    /// Key of the UID mapping and the date-shift derivation. Keep it secret and stable: the same
    /// key maps the same UID to the same new UID across resends and restarts.
    pub org_secret: [u8; 32],
    /// How many trailing digits of the Patient ID are kept (organization policy).
    pub patient_id_digits: u8,
    /// How dates and times are treated.
    pub retain_dates: DateMode,
    /// Retain Patient Characteristics Option: keep sex, age, size, weight, smoking and pregnancy
    /// status, ethnic group and the few others the option lists.
    pub retain_patient_characteristics: bool,
    /// Clean Descriptors Option: keep descriptions and comments, with identifiers removed.
    pub clean_descriptors: bool,
}

/// The Patient ID digits kept when the organization has not said otherwise.
pub const DEFAULT_PATIENT_ID_DIGITS: u8 = 4;

impl DeidContext {
    /// The defaults: last 4 digits, per-patient date shift, patient characteristics retained,
    /// descriptors cleaned.
    pub fn new(org_secret: [u8; 32]) -> Self {
        DeidContext {
            org_secret,
            patient_id_digits: DEFAULT_PATIENT_ID_DIGITS,
            retain_dates: DateMode::default(),
            retain_patient_characteristics: true,
            clean_descriptors: true,
        }
    }
}

impl fmt::Debug for DeidContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeidContext")
            .field("org_secret", &"<redacted>")
            .field("patient_id_digits", &self.patient_id_digits)
            .field("retain_dates", &self.retain_dates)
            .field(
                "retain_patient_characteristics",
                &self.retain_patient_characteristics,
            )
            .field("clean_descriptors", &self.clean_descriptors)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let ctx = DeidContext::new([0xAB; 32]);
        let shown = format!("{ctx:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("171"), "{shown}"); // 0xAB
    }
}
