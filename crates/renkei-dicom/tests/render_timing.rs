//! Rendering latency (ignored; run in release):
//!
//! ```sh
//! cargo test --release -p renkei-dicom --test render_timing -- --ignored --nocapture
//! ```
//!
//! The 512×512 CT is pydicom's `693_J2KI.dcm` (a real 512×512 16-bit CT slice, JPEG 2000)
//! decoded once, given CT-like noise and re-wrapped as native Explicit VR Little Endian. Set `RENKEI_RENDER_DUMP` to
//! a folder to also write frame 0 of every pydicom image there as PNG, for looking at.

mod common;

use std::time::{Duration, Instant};

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, open_file};
use renkei_dicom::render::{ImageFormat, RenderOptions, Samples, decode_frame, render};

use common::pydicom_data_dir;

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    (at(0.50), at(0.99))
}

fn time(label: &str, runs: usize, mut f: impl FnMut() -> usize) {
    let mut bytes = 0;
    for _ in 0..3 {
        bytes = f();
    }
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            bytes = f();
            start.elapsed()
        })
        .collect();
    let (p50, p99) = percentiles(samples);
    eprintln!(
        "{label:<34} p50 {:>7.2} ms  p99 {:>7.2} ms  ({runs} runs, {bytes} bytes out)",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

fn native_ct(j2k: &DefaultDicomObject) -> DefaultDicomObject {
    let frame = match decode_frame(j2k, 0) {
        Ok(f) => f,
        Err(e) => panic!("693_J2KI.dcm does not decode: {e}"),
    };
    // The source is compressed 338:1 and very smooth; CT noise (here ±24 stored values,
    // deterministic) makes the PNG as hard to compress as a real slice.
    let mut seed = 0x2545_F491_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed % 49) as i16 - 24
    };
    let words: Vec<u16> = match frame.data {
        Samples::I16(v) => v
            .iter()
            .map(|&s| s.saturating_add(noise()).clamp(-8192, 8191) as u16)
            .collect(),
        other => panic!("unexpected samples {other:?}"),
    };
    let mut ct = j2k.clone();
    ct.update_meta(|meta| {
        meta.transfer_syntax = "1.2.840.10008.1.2.1".to_string();
    });
    ct.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(words.into()),
    ));
    ct
}

#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn render_latency() {
    let Some(dir) = pydicom_data_dir() else {
        eprintln!("SKIPPED render_latency: pydicom is not installed");
        return;
    };
    let j2k = match open_file(dir.join("test_files/693_J2KI.dcm")) {
        Ok(obj) => obj,
        Err(e) => panic!("693_J2KI.dcm does not open: {e}"),
    };
    let ct = native_ct(&j2k);
    let window = Some((40.0, 400.0));
    let png = RenderOptions {
        window,
        ..Default::default()
    };
    let jpeg = RenderOptions {
        window,
        format: ImageFormat::Jpeg { quality: 90 },
        ..Default::default()
    };
    let fitted = RenderOptions {
        window,
        viewport: Some((256, 256)),
        ..Default::default()
    };
    let run = |obj: &DefaultDicomObject, options: &RenderOptions| match render(obj, 0, options) {
        Ok(bytes) => bytes.len(),
        Err(e) => panic!("render failed: {e}"),
    };
    time("512x512 CT native -> PNG", 300, || run(&ct, &png));
    time("512x512 CT native -> JPEG q90", 300, || run(&ct, &jpeg));
    time("512x512 CT native -> PNG 256x256", 300, || {
        run(&ct, &fitted)
    });
    time("512x512 CT JPEG 2000 (338:1) -> PNG", 30, || {
        run(&j2k, &png)
    });
    if let Ok(wide) = open_file(dir.join("test_files/JPEG2000.dcm")) {
        time("256x1024 16-bit JPEG 2000 -> PNG", 30, || run(&wide, &png));
    }
    if let Ok(us) = open_file(dir.join("test_files/examples_ybr_color.dcm")) {
        time("320x240 US JPEG frame 29 -> JPEG", 100, || {
            match render(&us, 29, &jpeg) {
                Ok(bytes) => bytes.len(),
                Err(e) => panic!("render failed: {e}"),
            }
        });
    }
}

#[test]
#[ignore = "writes PNGs to $RENKEI_RENDER_DUMP for looking at"]
fn dump_renders() {
    let (Some(dir), Ok(out)) = (pydicom_data_dir(), std::env::var("RENKEI_RENDER_DUMP")) else {
        eprintln!("SKIPPED dump_renders: needs pydicom and RENKEI_RENDER_DUMP");
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir.join("test_files")) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".dcm") || name == "SC_rgb_jpeg.dcm" || name == "UN_sequence.dcm" {
            continue;
        }
        let Ok(obj) = open_file(&path) else {
            continue;
        };
        if let Ok(png) = render(&obj, 0, &RenderOptions::default()) {
            let _ = std::fs::write(format!("{out}/{name}.png"), png);
        }
    }
}
