//! A file an export hands to the caller: the name to save it as, and its bytes.

/// An exported file (CSV, UTF-8 with BOM, from `csv_codec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub file_name: String,
    pub body: Vec<u8>,
}
