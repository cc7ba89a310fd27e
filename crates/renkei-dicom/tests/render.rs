//! Rendering pydicom's test files: every image renders (or fails with a known code), windows,
//! inversion, multi-frame ultrasound, rescale, viewport fitting, raw frames, ECG waveforms, and
//! clean errors on missing or corrupt pixel data. Skipped, loudly, without pydicom.
//!
//! Reference values were computed once with pydicom 3.0.2 and numpy:
//!
//! ```python
//! import pydicom
//! ds = pydicom.dcmread(".../test_files/CT_small.dcm"); a = ds.pixel_array
//! [(r, c, int(a[r, c]), float(a[r, c] * ds.RescaleSlope + ds.RescaleIntercept))
//!  for r, c in [(0, 0), (10, 20), (64, 64), (100, 27), (127, 127)]]
//! ds = pydicom.dcmread(".../test_files/waveform_ecg.dcm")
//! [(g, t, c, float(ds.waveform_array(g)[t, c])) for g, t, c in ...]
//! ```

mod common;

use std::path::{Path, PathBuf};

use dicom_core::value::{PixelFragmentSequence, PrimitiveValue};
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, open_file};
use renkei_dicom::render::{
    ImageFormat, RawSampleType, RenderError, RenderOptions, Samples, decode_frame, display_frame,
    frame_count, raw_frame, render, waveforms,
};

use common::pydicom_data_dir;

/// pydicom's `test_files` folder, or `None` after printing why the test is skipped.
fn test_files(test: &str) -> Option<PathBuf> {
    match pydicom_data_dir() {
        Some(dir) => Some(dir.join("test_files")),
        None => {
            eprintln!("SKIPPED {test}: pydicom is not installed (pip install pydicom)");
            None
        }
    }
}

fn open(dir: &Path, name: &str) -> DefaultDicomObject {
    match open_file(dir.join(name)) {
        Ok(obj) => obj,
        Err(e) => panic!("{name} does not open: {e}"),
    }
}

fn ok<T>(result: Result<T, RenderError>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: {} ({e})", e.code()),
    }
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    match image::load_from_memory_with_format(bytes, image::ImageFormat::Png) {
        Ok(img) => (img.width(), img.height()),
        Err(e) => panic!("the PNG does not decode: {e}"),
    }
}

/// Files in pydicom's data folders that are not DICOM files.
fn is_candidate(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let skipped = [
        ".json", ".txt", ".icc", ".gz", ".dump", ".py", ".bz2", ".zip", ".pyc",
    ];
    !skipped.iter().any(|ext| name.ends_with(ext)) && !name.starts_with('.')
}

/// Files dicom-object 0.10 fails to open only after tens of seconds (see pydicom_files.rs).
const SLOW_TO_FAIL: &[&str] = &["SC_rgb_jpeg.dcm", "UN_sequence.dcm"];

/// Files that open but whose frame 0 cannot be rendered, with the error code expected.
const EXPECTED_FAILURES: &[(&str, &str, &str)] = &[
    (
        "JPEG2000-embedded-sequence-delimiter.dcm",
        "dicom_corrupt_pixel_data",
        "a sequence delimiter inside the fragments cuts the codestream (pydicom's parser test)",
    ),
    (
        "nested_priv_SQ.dcm",
        "dicom_invalid_pixel_attribute",
        "Pixel Data without Rows/Columns (a sequence-nesting test file)",
    ),
];

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if is_candidate(&path) {
            out.push(path);
        }
    }
}

#[test]
fn every_pydicom_image_renders_frame_0_to_png() {
    let Some(dir) = pydicom_data_dir() else {
        eprintln!("SKIPPED every_pydicom_image_renders_frame_0_to_png: pydicom is not installed");
        return;
    };
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let (mut rendered, mut failed, mut unexpected) = (0, Vec::new(), Vec::new());
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if SLOW_TO_FAIL.contains(&name) {
            continue;
        }
        let Ok(obj) = open_file(path) else {
            continue;
        };
        if obj.get(tags::PIXEL_DATA).is_none() {
            continue;
        }
        let columns = obj.get(tags::COLUMNS).and_then(|e| e.to_int::<u32>().ok());
        let rows = obj.get(tags::ROWS).and_then(|e| e.to_int::<u32>().ok());
        match render(&obj, 0, &RenderOptions::default()) {
            Ok(png) => {
                let size = png_size(&png);
                assert_eq!(Some(size), columns.zip(rows), "{name}: PNG size");
                rendered += 1;
            }
            Err(e) => {
                let expected = EXPECTED_FAILURES
                    .iter()
                    .any(|(file, code, _)| *file == name && *code == e.code());
                let line = format!("{name}: {} ({e})", e.code());
                if expected {
                    failed.push(line);
                } else {
                    unexpected.push(line);
                }
            }
        }
    }
    eprintln!("rendered {rendered} pydicom files; expected failures:");
    for line in &failed {
        eprintln!("  {line}");
    }
    assert!(
        unexpected.is_empty(),
        "unexpected failures:\n{}",
        unexpected.join("\n")
    );
    assert!(rendered >= 80, "only {rendered} files rendered");
}

#[test]
fn ct_lung_and_bone_windows_differ() {
    let Some(dir) = test_files("ct_lung_and_bone_windows_differ") else {
        return;
    };
    let ct = open(&dir, "CT_small.dcm");
    let lung = RenderOptions {
        window: Some((-600.0, 1500.0)),
        ..Default::default()
    };
    let bone = RenderOptions {
        window: Some((300.0, 1500.0)),
        ..Default::default()
    };
    let lung_px = ok(display_frame(&ct, 0, &lung), "lung");
    let bone_px = ok(display_frame(&ct, 0, &bone), "bone");
    assert_eq!(
        (lung_px.width, lung_px.height, lung_px.channels),
        (128, 128, 1)
    );
    assert_ne!(lung_px.pixels, bone_px.pixels);
    // The lung window shows everything brighter than the bone window.
    let mean = |p: &[u8]| p.iter().map(|&v| u64::from(v)).sum::<u64>() / p.len() as u64;
    assert!(mean(&lung_px.pixels) > mean(&bone_px.pixels));
    let lung_png = ok(render(&ct, 0, &lung), "lung png");
    let bone_png = ok(render(&ct, 0, &bone), "bone png");
    assert_ne!(lung_png, bone_png);
    // Without a window (CT_small has no Window Center/Width): the frame's full range.
    let auto = ok(display_frame(&ct, 0, &RenderOptions::default()), "auto");
    assert_eq!(auto.pixels.iter().min(), Some(&0));
    assert_eq!(auto.pixels.iter().max(), Some(&255));
}

#[test]
fn monochrome1_is_inverted() {
    let Some(dir) = test_files("monochrome1_is_inverted") else {
        return;
    };
    let mut cr = open(&dir, "dicomdirtests/77654033/CR1/6154");
    let options = RenderOptions {
        window: Some((2000.0, 4000.0)),
        ..Default::default()
    };
    let inverted = ok(display_frame(&cr, 0, &options), "MONOCHROME1");
    cr.put(DataElement::new(
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "MONOCHROME2",
    ));
    let plain = ok(display_frame(&cr, 0, &options), "MONOCHROME2");
    assert!(plain.pixels.iter().any(|&v| v != 255 - v));
    for (a, b) in inverted.pixels.iter().zip(&plain.pixels) {
        assert_eq!(*a, 255 - *b);
    }
}

#[test]
fn ultrasound_renders_all_30_frames() {
    let Some(dir) = test_files("ultrasound_renders_all_30_frames") else {
        return;
    };
    let us = open(&dir, "examples_ybr_color.dcm");
    assert_eq!(frame_count(&us), 30);
    let jpeg = RenderOptions {
        format: ImageFormat::Jpeg { quality: 85 },
        ..Default::default()
    };
    for frame in 0..30 {
        let bytes = ok(render(&us, frame, &jpeg), "ultrasound frame");
        assert!(
            bytes.starts_with(&[0xFF, 0xD8]),
            "frame {frame} is not a JPEG"
        );
    }
    let first = ok(display_frame(&us, 0, &RenderOptions::default()), "frame 0");
    let last = ok(
        display_frame(&us, 29, &RenderOptions::default()),
        "frame 29",
    );
    assert_eq!((first.width, first.height, first.channels), (320, 240, 3));
    assert_ne!(first.pixels, last.pixels);
    let decoded = ok(decode_frame(&us, 29), "decode 29");
    assert_eq!(decoded.photometric.as_str(), "RGB");
    match render(&us, 30, &RenderOptions::default()) {
        Err(e @ RenderError::FrameOutOfRange { .. }) => {
            assert_eq!(e.code(), "dicom_frame_out_of_range")
        }
        other => panic!("frame 30: {other:?}"),
    }
}

/// pydicom: `ds.pixel_array[r, c]` and `× RescaleSlope + RescaleIntercept` for CT_small.dcm.
const CT_SMALL_REFERENCE: &[(usize, usize, i64, f64)] = &[
    (0, 0, 175, -849.0),
    (10, 20, 185, -839.0),
    (64, 64, 1928, 904.0),
    (100, 27, 1066, 42.0),
    (127, 127, 909, -115.0),
];

#[test]
fn ct_rescale_matches_pydicom() {
    let Some(dir) = test_files("ct_rescale_matches_pydicom") else {
        return;
    };
    let ct = open(&dir, "CT_small.dcm");
    let decoded = ok(decode_frame(&ct, 0), "decode");
    assert_eq!((decoded.rows, decoded.columns), (128, 128));
    assert_eq!(decoded.pixel_representation, 1);
    assert!(matches!(decoded.data, Samples::I16(_)));
    let raw = ok(raw_frame(&ct, 0), "raw");
    assert_eq!(raw.info.sample_type, RawSampleType::Int16);
    assert!(raw.info.rescale_applied);
    assert_eq!(
        (raw.info.rescale_slope, raw.info.rescale_intercept),
        (1.0, 0.0)
    );
    assert_eq!(raw.data.len(), 128 * 128 * 2);
    let spacing = raw.info.pixel_spacing_mm.unwrap_or_default();
    assert!((spacing.0 - 0.661468).abs() < 1e-9 && (spacing.1 - 0.661468).abs() < 1e-9);
    assert_eq!((raw.info.min_value, raw.info.max_value), (-896.0, 1167.0));
    for &(r, c, stored, modality) in CT_SMALL_REFERENCE {
        let i = r * 128 + c;
        assert_eq!(decoded.data.get(i), Some(stored), "stored ({r},{c})");
        let v = i16::from_le_bytes([raw.data[2 * i], raw.data[2 * i + 1]]);
        assert_eq!(f64::from(v), modality, "modality ({r},{c})");
    }
    let json = serde_json::to_value(&raw.info).unwrap_or_default();
    assert_eq!(json["sample_type"], "int16");
}

#[test]
fn mr_raw_frame_is_unsigned_with_presets() {
    let Some(dir) = test_files("mr_raw_frame_is_unsigned_with_presets") else {
        return;
    };
    let mr = open(&dir, "MR_small.dcm");
    let raw = ok(raw_frame(&mr, 0), "raw");
    // MR_small: signed pixel representation, no rescale, values 127..=2145, window 600/1600.
    assert_eq!(raw.info.sample_type, RawSampleType::Int16);
    assert!(!raw.info.rescale_applied);
    assert_eq!((raw.info.min_value, raw.info.max_value), (127.0, 2145.0));
    assert_eq!(raw.info.window_presets.len(), 1);
    assert_eq!(raw.info.window_presets[0].center, 600.0);
    assert_eq!(raw.info.window_presets[0].width, 1600.0);
    let first = i16::from_le_bytes([raw.data[0], raw.data[1]]);
    assert_eq!(first, 905);
    let us = open(&dir, "examples_ybr_color.dcm");
    match raw_frame(&us, 0) {
        Err(e) => assert_eq!(e.code(), "dicom_not_monochrome"),
        Ok(_) => panic!("a colour frame gave a raw frame"),
    }
}

#[test]
fn viewport_downscaling_keeps_aspect() {
    let Some(dir) = test_files("viewport_downscaling_keeps_aspect") else {
        return;
    };
    let wide = open(&dir, "JPEG2000.dcm"); // 256 wide, 1024 high
    let fit = |obj: &DefaultDicomObject, w: u32, h: u32| {
        let options = RenderOptions {
            viewport: Some((w, h)),
            ..Default::default()
        };
        png_size(&ok(render(obj, 0, &options), "viewport render"))
    };
    assert_eq!(fit(&wide, 512, 512), (128, 512));
    assert_eq!(fit(&wide, 100, 2048), (100, 400));
    let ct = open(&dir, "CT_small.dcm"); // 128 × 128
    assert_eq!(fit(&ct, 64, 32), (32, 32));
    assert_eq!(fit(&ct, 1000, 1000), (128, 128), "never enlarged");
    let us = open(&dir, "examples_ybr_color.dcm"); // 320 × 240
    assert_eq!(fit(&us, 160, 160), (160, 120));
}

#[test]
fn missing_pixel_data_is_a_clean_error() {
    let Some(dir) = test_files("missing_pixel_data_is_a_clean_error") else {
        return;
    };
    let ecg = open(&dir, "waveform_ecg.dcm");
    assert_eq!(frame_count(&ecg), 0);
    for result in [
        render(&ecg, 0, &RenderOptions::default()).map(|_| ()),
        decode_frame(&ecg, 0).map(|_| ()),
        raw_frame(&ecg, 0).map(|_| ()),
    ] {
        match result {
            Err(e) => assert_eq!(e.code(), "dicom_no_pixel_data"),
            Ok(()) => panic!("an object without pixel data rendered"),
        }
    }
    let ct = open(&dir, "CT_small.dcm");
    match waveforms(&ct) {
        Err(e) => assert_eq!(e.code(), "dicom_no_waveform"),
        Ok(_) => panic!("CT_small has no waveform"),
    }
}

fn expect_corrupt(result: Result<Vec<u8>, RenderError>, what: &str) {
    match result {
        Err(e) => assert!(
            matches!(
                e.code(),
                "dicom_corrupt_pixel_data" | "dicom_invalid_pixel_attribute"
            ),
            "{what}: {} ({e})",
            e.code()
        ),
        Ok(_) => panic!("{what}: corrupt pixel data rendered"),
    }
}

#[test]
fn truncated_and_corrupt_pixel_data_are_clean_errors() {
    let Some(dir) = test_files("truncated_and_corrupt_pixel_data_are_clean_errors") else {
        return;
    };
    let options = RenderOptions::default();

    // Native pixel data cut to half a frame.
    let mut ct = open(&dir, "CT_small.dcm");
    ct.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(vec![0u16; 128 * 64].into()),
    ));
    expect_corrupt(render(&ct, 0, &options), "truncated native");

    // pydicom's own truncated file, when dicom-object opens it.
    if let Ok(obj) = open_file(dir.join("MR_truncated.dcm")) {
        expect_corrupt(render(&obj, 0, &options), "MR_truncated.dcm");
    }

    // Compressed fragments replaced with garbage, cut short, or emptied.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for name in [
        "examples_ybr_color.dcm",
        "JPEG2000.dcm",
        "MR_small_RLE.dcm",
        "SC_rgb_jpeg_gdcm.dcm",
        "SC_rgb_rle_32bit_2frame.dcm",
    ] {
        let original = open(&dir, name);
        let frames = frame_count(&original) as usize;
        let first_fragment: Vec<u8> = original
            .get(tags::PIXEL_DATA)
            .and_then(|e| e.fragments().and_then(|f| f.first().cloned()))
            .unwrap_or_default();
        let variants: [(&str, Vec<u8>); 4] = [
            ("garbage", garbage.clone()),
            (
                "cut short",
                first_fragment
                    .get(..first_fragment.len() / 3)
                    .unwrap_or(&[])
                    .to_vec(),
            ),
            (
                "header only",
                first_fragment.get(..16).unwrap_or(&[]).to_vec(),
            ),
            ("empty", Vec::new()),
        ];
        for (how, fragment) in variants {
            let mut obj = original.clone();
            obj.put(DataElement::new(
                tags::PIXEL_DATA,
                VR::OB,
                PixelFragmentSequence::new(Vec::<u32>::new(), vec![fragment; frames]),
            ));
            let result = render(&obj, 0, &options);
            if let Ok(png) = &result {
                // Some decoders fill what is missing with grey rather than failing: accepted,
                // as long as nothing panics and the output is a well-formed image.
                let _ = png_size(png);
                eprintln!("{name} {how}: decoded without error (padded by the codec)");
                continue;
            }
            expect_corrupt(result, &format!("{name} {how}"));
        }
    }
}

/// pydicom: `ds.waveform_array(group)[sample, channel]` for waveform_ecg.dcm.
const ECG_REFERENCE: &[(usize, usize, usize, f32)] = &[
    (0, 0, 0, 100.0),
    (0, 0, 11, -50.0),
    (0, 1, 1, 106.25),
    (0, 500, 6, 156.25),
    (0, 9999, 5, 125.0),
    (1, 0, 0, 12.5),
    (1, 0, 11, 50.0),
    (1, 1, 1, 100.0),
    (1, 500, 6, -1175.0),
    (1, 1199, 5, 52.5),
];

#[test]
fn twelve_lead_ecg() {
    let Some(dir) = test_files("twelve_lead_ecg") else {
        return;
    };
    let ecg = open(&dir, "waveform_ecg.dcm");
    let groups = ok(waveforms(&ecg), "waveforms");
    assert_eq!(groups.len(), 2);
    let rhythm = &groups[0];
    assert_eq!(rhythm.label.as_deref(), Some("RHYTHM"));
    assert_eq!(rhythm.sampling_frequency_hz, 1000.0);
    assert_eq!(rhythm.number_of_samples, 10_000);
    assert_eq!(rhythm.channels.len(), 12);
    let labels: Vec<&str> = rhythm.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"
        ]
    );
    for channel in &rhythm.channels {
        assert_eq!(channel.units.as_deref(), Some("uV"));
        assert_eq!(channel.sample_unit.as_deref(), Some("uV"));
        assert_eq!(channel.samples.len(), 10_000);
    }
    assert_eq!(
        rhythm.channels[0].source.as_deref(),
        Some("Lead I (Einthoven)")
    );
    assert_eq!(
        rhythm.channels[0].source_code.as_deref(),
        Some("SCPECG:5.6.3-9-1")
    );
    assert_eq!(groups[1].label.as_deref(), Some("MEDIAN BEAT"));
    assert_eq!(groups[1].number_of_samples, 1200);
    for &(group, sample, channel, expected) in ECG_REFERENCE {
        let got = groups[group].channels[channel].samples[sample];
        assert!(
            (got - expected).abs() < 1e-3,
            "group {group} sample {sample} channel {channel}: {got} ≠ {expected}"
        );
    }
    let json = serde_json::to_string(&groups).unwrap_or_default();
    assert!(json.contains("\"label\":\"aVR\""));
}

#[test]
fn lossless_and_big_endian_match_native() {
    let Some(dir) = test_files("rle_matches_native_at_8_16_and_32_bits") else {
        return;
    };
    for (rle, native) in [
        ("MR_small_RLE.dcm", "MR_small.dcm"),
        ("rtdose_rle.dcm", "rtdose.dcm"),
        ("rtdose_rle_1frame.dcm", "rtdose_1frame.dcm"),
        ("MR_small_jp2klossless.dcm", "MR_small.dcm"),
        ("rtdose_expb.dcm", "rtdose.dcm"),
        ("MR_small_bigendian.dcm", "MR_small.dcm"),
        ("rtdose_expb_1frame.dcm", "rtdose_1frame.dcm"),
        ("liver_expb_1frame.dcm", "liver_1frame.dcm"),
        ("SC_rgb_small_odd_big_endian.dcm", "SC_rgb_small_odd.dcm"),
    ] {
        let (a, b) = (open(&dir, rle), open(&dir, native));
        assert_eq!(frame_count(&a), frame_count(&b), "{rle}");
        for frame in 0..frame_count(&a) {
            let x = ok(decode_frame(&a, frame), rle);
            let y = ok(decode_frame(&b, frame), native);
            assert_eq!(x, y, "{rle} frame {frame}");
        }
    }
    // 32-bit RGB: both frames decode, and the second differs from the first.
    let obj = open(&dir, "SC_rgb_rle_32bit_2frame.dcm");
    let first = ok(decode_frame(&obj, 0), "32-bit RGB frame 0");
    let second = ok(decode_frame(&obj, 1), "32-bit RGB frame 1");
    assert!(matches!(first.data, Samples::U32(_)));
    assert_eq!(first.data.len(), 100 * 100 * 3);
    assert_ne!(first.data, second.data);
}

/// pydicom: `ds.pixel_array[r, c]` (YBR converted to RGB by pydicom) and, for the palette,
/// `apply_color_lut(ds.pixel_array, ds)[r, c] >> 8`.
const COLOUR_REFERENCE: &[(&str, usize, usize, [u8; 3])] = &[
    ("ExplVR_BigEnd.dcm", 0, 0, [171, 171, 171]),
    ("ExplVR_BigEnd.dcm", 30, 40, [255, 255, 0]),
    ("ExplVR_BigEnd.dcm", 59, 79, [255, 232, 0]),
    ("SC_ybr_full_422_uncompressed.dcm", 5, 50, [254, 0, 0]),
    ("SC_ybr_full_422_uncompressed.dcm", 15, 50, [255, 127, 127]),
    ("SC_ybr_full_422_uncompressed.dcm", 25, 50, [0, 255, 5]),
    ("SC_ybr_full_422_uncompressed.dcm", 45, 50, [0, 0, 254]),
    ("SC_ybr_full_422_uncompressed.dcm", 95, 50, [255, 255, 255]),
    ("examples_palette.dcm", 10, 10, [37, 62, 94]),
    ("examples_palette.dcm", 300, 460, [1, 1, 1]),
    ("examples_palette.dcm", 100, 400, [162, 162, 162]),
];

#[test]
fn colour_matches_pydicom() {
    let Some(dir) = test_files("colour_matches_pydicom") else {
        return;
    };
    for &(name, r, c, expected) in COLOUR_REFERENCE {
        let obj = open(&dir, name);
        let image = ok(display_frame(&obj, 0, &RenderOptions::default()), name);
        assert_eq!(image.channels, 3, "{name}");
        let i = (r * image.width as usize + c) * 3;
        let got = &image.pixels[i..i + 3];
        for (g, e) in got.iter().zip(expected) {
            assert!(
                g.abs_diff(e) <= 2,
                "{name} ({r},{c}): {got:?} ≠ {expected:?}"
            );
        }
    }
}

#[test]
fn jpeg_ls_lossless_matches_native() {
    let Some(dir) = test_files("jpeg_ls_lossless_matches_native") else {
        return;
    };
    let jls = ok(
        decode_frame(&open(&dir, "MR_small_jpeg_ls_lossless.dcm"), 0),
        "JPEG-LS",
    );
    let native = ok(decode_frame(&open(&dir, "MR_small.dcm"), 0), "native");
    assert_eq!(jls, native);
}
