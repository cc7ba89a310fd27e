//! De-identification alone, on one core (ignored; run in release):
//!
//! ```sh
//! cargo test --release -p renkei-dicom --test deid_timing -- --ignored --nocapture
//! ```
//!
//! The instance is the ingest benchmark's: pydicom's `CT_small.dcm` with 512×512×16-bit pixel
//! data (512 KB), de-identified by `prepare` (parse, apply the profile, write the file back)
//! over and over on the test's one thread; the parse and the write are also timed alone.

mod common;

use std::time::Instant;

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::open_file;
use renkei_dicom::prepare::prepare;
use renkei_dicom::{DeidContext, deidentify};

use common::{from_bytes, pydicom_data_dir, to_bytes};

const RUNS: u32 = 2_000;

/// Runs `f` [`RUNS`] times (after a few to warm up) and prints the rate and the mean time.
fn time(label: &str, mut f: impl FnMut()) {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    for _ in 0..RUNS {
        f();
    }
    let each = start.elapsed() / RUNS;
    println!(
        "{label}: {:.0} instances/s on one core ({:.3} ms each)",
        1.0 / each.as_secs_f64(),
        each.as_secs_f64() * 1000.0
    );
}

#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn deidentification_alone_on_one_core() {
    let Some(dir) = pydicom_data_dir() else {
        return;
    };
    let mut ct = open_file(dir.join("test_files").join("CT_small.dcm")).unwrap();
    let pixels: Vec<u16> = (0..512u32 * 512).map(|i| (i * 7 % 4096) as u16).collect();
    ct.put(DataElement::new(
        tags::ROWS,
        VR::US,
        PrimitiveValue::from(512u16),
    ));
    ct.put(DataElement::new(
        tags::COLUMNS,
        VR::US,
        PrimitiveValue::from(512u16),
    ));
    ct.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(pixels.into()),
    ));
    let bytes = to_bytes(&ct);
    let ctx = DeidContext::new([7; 32]);
    println!("instance: {} bytes", bytes.len());
    time(
        "prepare (parse + de-identify + write; includes copying the input)",
        || {
            prepare(bytes.clone(), &ctx).unwrap();
        },
    );
    time("parse alone", || {
        from_bytes(&bytes);
    });
    let parsed = from_bytes(&bytes);
    time("de-identify alone (on a parsed copy)", || {
        let mut obj = parsed.clone();
        deidentify(&mut obj, &ctx).unwrap();
    });
    time(
        "clone of a parsed instance (subtract from the line above)",
        || {
            let _ = parsed.clone();
        },
    );
    time("write alone", || {
        to_bytes(&parsed);
    });
}
