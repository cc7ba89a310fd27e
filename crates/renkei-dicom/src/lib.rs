//! DICOM de-identification: the PS3.15 Annex E Basic Application Level Confidentiality Profile
//! with the Retain Patient Characteristics, Retain Longitudinal Temporal Information and Clean
//! Descriptors options, keyed UID remapping, and the organization's Patient ID rule. No I/O.

pub mod burned_in;
pub mod charset;
pub mod context;
pub mod dates;
pub mod engine;
pub mod error;
pub mod gsps;
pub mod inflight;
pub mod json;
pub mod layout;
pub mod leftover;
pub mod patient_id;
pub mod prepare;
pub mod private;
pub mod profile;
pub mod qido;
pub mod redact;
pub mod render;
pub mod report;
pub mod scp;
pub mod scrub;
pub mod text;
pub mod uid;
pub mod verify;

pub use context::{DateMode, DeidContext};
pub use engine::{Deidentify, deidentify};
pub use error::DeidError;
pub use report::DeidReport;
