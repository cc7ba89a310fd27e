//! DICOM de-identification.
