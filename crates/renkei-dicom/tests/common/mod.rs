//! Shared test helpers: locating pydicom's test files, writing and reading objects as bytes.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

/// pydicom's data folder, asked of python at test time; `None` (after saying so) without it.
pub fn pydicom_data_dir() -> Option<PathBuf> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import pydicom,os;print(os.path.join(os.path.dirname(pydicom.__file__),'data'))",
        ])
        .output();
    match output {
        Ok(out) if out.status.success() => {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            dir.is_dir().then_some(dir)
        }
        _ => None,
    }
}

/// The whole file as bytes: preamble, meta, data set.
pub fn to_bytes(obj: &DefaultDicomObject) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Err(e) = obj.write_all(&mut bytes) {
        panic!("writing the object failed: {e}");
    }
    bytes
}

/// Read a whole file written by [`to_bytes`].
pub fn from_bytes(bytes: &[u8]) -> DefaultDicomObject {
    match OpenFileOptions::new()
        .read_preamble(ReadPreamble::Always)
        .from_reader(bytes)
    {
        Ok(obj) => obj,
        Err(e) => panic!("reading the written object back failed: {e}"),
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
