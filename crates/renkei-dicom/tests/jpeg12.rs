//! 12-bit JPEG Extended (process 4), common for CT and MR: pydicom's two 12-bit files decode to
//! exactly the stored values dcmtk's `dcmdjpeg` (IJG's 12-bit decoder) gives, and render.
//! Skipped, loudly, without pydicom or dcmtk.

mod common;

use std::path::PathBuf;
use std::process::Command;

use dicom_object::open_file;
use renkei_dicom::render::{RenderOptions, Samples, decode_frame, render};

use common::pydicom_data_dir;

/// The stored values of frame 0 as i64.
fn values(samples: &Samples) -> Vec<i64> {
    (0..samples.len()).filter_map(|i| samples.get(i)).collect()
}

#[test]
fn twelve_bit_jpeg_matches_dcmtk() {
    let Some(dir) = pydicom_data_dir().map(|d| d.join("test_files")) else {
        eprintln!("SKIPPED twelve_bit_jpeg_matches_dcmtk: pydicom is not installed");
        return;
    };
    for name in ["JPEG-lossy.dcm", "JPGExtended.dcm"] {
        let native: PathBuf =
            std::env::temp_dir().join(format!("renkei-jpeg12-{}-{name}", std::process::id()));
        let Ok(status) = Command::new("dcmdjpeg")
            .arg(dir.join(name))
            .arg(&native)
            .status()
        else {
            eprintln!("SKIPPED twelve_bit_jpeg_matches_dcmtk: dcmtk is not installed");
            return;
        };
        assert!(status.success(), "dcmdjpeg {name}");
        let jpeg = open_file(dir.join(name)).unwrap();
        let reference = open_file(&native).unwrap();
        let _ = std::fs::remove_file(&native);
        let ours = decode_frame(&jpeg, 0).unwrap_or_else(|e| panic!("{name}: {} ({e})", e.code()));
        let theirs = decode_frame(&reference, 0).unwrap();
        assert_eq!(
            (ours.rows, ours.columns, ours.bits_stored),
            (1024, 256, 12),
            "{name}"
        );
        let (a, b) = (values(&ours.data), values(&theirs.data));
        assert_eq!(a.len(), b.len(), "{name}");
        let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert_eq!(differing, 0, "{name}: samples differ from dcmtk's");
        assert!(
            a.iter().max() > a.iter().min(),
            "{name}: the image is not flat"
        );
        let png = render(&jpeg, 0, &RenderOptions::default()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name} renders");
    }
}
