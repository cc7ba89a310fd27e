//! The redaction engine over generated images: every layout it takes, sources compressed by
//! dcmtk, and the attributes of the derived instance.

use dicom_core::value::Value;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};

use super::*;
use crate::render::decode_frame;

const SOURCE_UID: &str = "2.25.1234567890";
const NEW_UID: &str = "2.25.987654321";
const SC: &str = "1.2.840.10008.5.1.4.1.1.7";

/// The shape of a generated image.
#[derive(Clone, Copy)]
struct Layout {
    photometric: &'static str,
    samples: u16,
    bits_allocated: u16,
    bits_stored: u16,
    signed: bool,
    planar: u16,
    frames: u32,
}

const ROWS: u32 = 24;
const COLUMNS: u32 = 20;

/// A non-black stored value for every sample of every pixel of every frame.
fn value(layout: &Layout, frame: u32, row: u32, column: u32, sample: u32) -> i64 {
    let span = 1i64 << (layout.bits_stored - 1).min(10);
    let v = 1 + i64::from(frame * 7 + row * 3 + column + sample * 11) % (span - 2);
    if layout.signed {
        v - span / 2
    } else {
        v + span / 2
    }
}

fn image(layout: Layout, transfer_syntax: &str) -> DefaultDicomObject {
    let mut bytes = Vec::new();
    let planes = if layout.planar == 1 {
        u32::from(layout.samples)
    } else {
        1
    };
    let per_pixel = if layout.planar == 1 {
        1
    } else {
        u32::from(layout.samples)
    };
    for f in 0..layout.frames {
        for plane in 0..planes {
            for r in 0..ROWS {
                for c in 0..COLUMNS {
                    for s in 0..per_pixel {
                        let v = value(&layout, f, r, c, plane + s);
                        if layout.bits_allocated == 8 {
                            bytes.push(v as u8);
                        } else {
                            bytes.extend_from_slice(&(v as u16).to_le_bytes());
                        }
                    }
                }
            }
        }
    }
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let obj = InMemDicomObject::from_element_iter([
        DataElement::new(tags::SOP_CLASS_UID, VR::UI, SC),
        DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, SOURCE_UID),
        DataElement::new(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY"),
        DataElement::new(tags::MODALITY, VR::CS, "US"),
        DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, "2.25.1"),
        DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, "2.25.2"),
        DataElement::new(tags::BURNED_IN_ANNOTATION, VR::CS, "YES"),
        DataElement::new(
            tags::SAMPLES_PER_PIXEL,
            VR::US,
            PrimitiveValue::from(layout.samples),
        ),
        DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, layout.photometric),
        DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(ROWS as u16)),
        DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(COLUMNS as u16)),
        DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, layout.frames.to_string()),
        DataElement::new(
            tags::BITS_ALLOCATED,
            VR::US,
            PrimitiveValue::from(layout.bits_allocated),
        ),
        DataElement::new(
            tags::BITS_STORED,
            VR::US,
            PrimitiveValue::from(layout.bits_stored),
        ),
        DataElement::new(
            tags::HIGH_BIT,
            VR::US,
            PrimitiveValue::from(layout.bits_stored - 1),
        ),
        DataElement::new(
            tags::PIXEL_REPRESENTATION,
            VR::US,
            PrimitiveValue::from(u16::from(layout.signed)),
        ),
        DataElement::new(
            tags::PLANAR_CONFIGURATION,
            VR::US,
            PrimitiveValue::from(layout.planar),
        ),
        DataElement::new(
            tags::PIXEL_DATA,
            if layout.bits_allocated == 8 {
                VR::OB
            } else {
                VR::OW
            },
            PrimitiveValue::U8(bytes.into()),
        ),
    ]);
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(transfer_syntax)
        .media_storage_sop_class_uid(SC)
        .media_storage_sop_instance_uid(SOURCE_UID)
        .build();
    match meta {
        Ok(meta) => obj.with_exact_meta(meta),
        Err(e) => panic!("meta: {e}"),
    }
}

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

fn grey8() -> Layout {
    Layout {
        photometric: "MONOCHROME2",
        samples: 1,
        bits_allocated: 8,
        bits_stored: 8,
        signed: false,
        planar: 0,
        frames: 3,
    }
}

fn layouts() -> Vec<Layout> {
    let g = grey8();
    vec![
        g,
        Layout {
            signed: true,
            frames: 1,
            ..g
        },
        Layout {
            bits_allocated: 16,
            bits_stored: 12,
            signed: true,
            ..g
        },
        Layout {
            bits_allocated: 16,
            bits_stored: 16,
            ..g
        },
        Layout {
            photometric: "MONOCHROME1",
            bits_allocated: 16,
            bits_stored: 12,
            frames: 2,
            ..g
        },
        Layout {
            photometric: "RGB",
            samples: 3,
            ..g
        },
        Layout {
            photometric: "RGB",
            samples: 3,
            planar: 1,
            frames: 2,
            ..g
        },
        Layout {
            photometric: "RGB",
            samples: 3,
            bits_allocated: 16,
            bits_stored: 16,
            frames: 1,
            ..g
        },
    ]
}

fn rects() -> Vec<Rect> {
    vec![
        Rect {
            x: 0,
            y: 0,
            width: COLUMNS,
            height: 3,
        },
        Rect {
            x: 5,
            y: 10,
            width: 4,
            height: 6,
        },
        Rect {
            x: COLUMNS - 1,
            y: ROWS - 1,
            width: 1,
            height: 1,
        },
    ]
}

fn ok<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Every frame of `redacted`: inside a rectangle black, outside the values of `source`.
fn assert_blanked(
    source: &DefaultDicomObject,
    redacted: &DefaultDicomObject,
    rects: &[Rect],
    what: &str,
) {
    let frames = crate::render::frame_count(source);
    assert_eq!(
        crate::render::frame_count(redacted),
        frames,
        "{what}: frames"
    );
    for f in 0..frames {
        let before = ok(decode_frame(source, f), what);
        let after = ok(decode_frame(redacted, f), what);
        let black = pixels::black(&before);
        let spp = usize::from(before.samples_per_pixel);
        assert_eq!(after.data.len(), before.data.len(), "{what}");
        for row in 0..ROWS {
            for column in 0..COLUMNS {
                let inside = rects.iter().any(|r| r.contains(column, row));
                for (s, &value) in black.iter().enumerate().take(spp) {
                    let i = (row * COLUMNS + column) as usize * spp + s;
                    let expected = if inside {
                        Some(value)
                    } else {
                        before.data.get(i)
                    };
                    assert_eq!(
                        after.data.get(i),
                        expected,
                        "{what}: frame {f} ({column},{row}) sample {s}"
                    );
                }
            }
        }
    }
}

/// Written to bytes and read back, as the server stores it.
fn round_trip(obj: &DefaultDicomObject) -> DefaultDicomObject {
    let mut bytes = Vec::new();
    ok(obj.write_all(&mut bytes), "write");
    ok(
        OpenFileOptions::new()
            .read_preamble(dicom_object::file::ReadPreamble::Auto)
            .from_reader(&bytes[..]),
        "read back",
    )
}

#[test]
fn every_native_layout_is_blanked_in_every_frame_and_unchanged_elsewhere() {
    for layout in layouts() {
        let source = image(layout, EXPLICIT_LE);
        let what = format!(
            "{} {}-bit signed={} planar={}",
            layout.photometric, layout.bits_allocated, layout.signed, layout.planar
        );
        let redacted = round_trip(&ok(redact(&source, &rects(), NEW_UID), &what));
        assert_blanked(&source, &redacted, &rects(), &what);
    }
}

#[test]
fn black_is_the_darkest_value_of_each_interpretation() {
    let layouts = layouts();
    let black_of =
        |layout: Layout| pixels::black(&ok(decode_frame(&image(layout, EXPLICIT_LE), 0), "decode"));
    assert_eq!(black_of(layouts[0])[0], 0);
    assert_eq!(black_of(layouts[1])[0], -128);
    assert_eq!(black_of(layouts[2])[0], -2048);
    assert_eq!(
        black_of(layouts[4])[0],
        4095,
        "MONOCHROME1 shows its highest value black"
    );
    assert_eq!(black_of(layouts[5]), [0, 0, 0]);
}

fn items(obj: &InMemDicomObject, tag: Tag) -> Vec<InMemDicomObject> {
    match obj.get(tag).map(|e| e.value()) {
        Some(Value::Sequence(s)) => s.items().to_vec(),
        _ => Vec::new(),
    }
}

fn text(obj: &InMemDicomObject, tag: Tag) -> String {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches([' ', '\0']).to_owned())
        .unwrap_or_default()
}

#[test]
fn the_derived_instance_is_new_clean_and_says_where_it_came_from() {
    let mut source = image(grey8(), EXPLICIT_LE);
    let method = InMemDicomObject::from_element_iter([
        DataElement::new(tags::CODE_VALUE, VR::SH, "113100"),
        DataElement::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "DCM"),
    ]);
    source.put(DataElement::new(
        tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
        VR::SQ,
        dicom_core::value::DataSetSequence::from(vec![method]),
    ));
    source.put(DataElement::new(
        tags::LARGEST_IMAGE_PIXEL_VALUE,
        VR::US,
        PrimitiveValue::from(200u16),
    ));
    let out = round_trip(&ok(redact(&source, &rects(), NEW_UID), "redact"));
    assert_eq!(text(&out, tags::SOP_INSTANCE_UID), NEW_UID);
    assert_eq!(out.meta().media_storage_sop_instance_uid(), NEW_UID);
    assert_eq!(out.meta().transfer_syntax(), EXPLICIT_LE);
    assert_eq!(text(&out, tags::BURNED_IN_ANNOTATION), "NO");
    assert_eq!(text(&out, tags::IMAGE_TYPE), "DERIVED\\PRIMARY");
    assert!(text(&out, tags::DERIVATION_DESCRIPTION).contains("3 region(s) blanked"));
    assert!(out.get(tags::LARGEST_IMAGE_PIXEL_VALUE).is_none());
    let derivation = items(&out, tags::DERIVATION_CODE_SEQUENCE);
    assert_eq!(text(&derivation[0], tags::CODE_VALUE), "113101");
    let sources = items(&out, tags::SOURCE_IMAGE_SEQUENCE);
    assert_eq!(sources.len(), 1);
    assert_eq!(
        text(&sources[0], tags::REFERENCED_SOP_INSTANCE_UID),
        SOURCE_UID
    );
    assert_eq!(text(&sources[0], tags::REFERENCED_SOP_CLASS_UID), SC);
    let purpose = items(&sources[0], tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE);
    assert_eq!(text(&purpose[0], tags::CODE_VALUE), "121322");
    let methods: Vec<String> = items(&out, tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .iter()
        .map(|i| text(i, tags::CODE_VALUE))
        .collect();
    assert_eq!(methods, ["113100", "113101"]);
    // Unrelated attributes travel unchanged.
    assert_eq!(text(&out, tags::SERIES_INSTANCE_UID), "2.25.2");
}

#[test]
fn bad_rectangles_are_refused_before_any_pixel_is_touched() {
    let source = image(grey8(), EXPLICIT_LE);
    let r = |x, y, width, height| Rect {
        x,
        y,
        width,
        height,
    };
    let cases = [
        (vec![], "redaction_no_rectangles"),
        (
            vec![r(0, 0, 1, 1); MAX_RECTANGLES + 1],
            "redaction_too_many_rectangles",
        ),
        (vec![r(0, 0, 0, 4)], "redaction_empty_rectangle"),
        (vec![r(1, 1, COLUMNS, 1)], "redaction_outside_image"),
        (vec![r(0, ROWS, 1, 1)], "redaction_outside_image"),
        (vec![r(u32::MAX, 0, 2, 1)], "redaction_outside_image"),
    ];
    for (rects, code) in cases {
        match plan(&source, &rects, NEW_UID) {
            Err(e) => assert_eq!(e.code(), code, "{rects:?}"),
            Ok(_) => panic!("{rects:?} was accepted"),
        }
    }
    assert_eq!(
        plan(&source, &rects(), "not a uid").err(),
        Some(RedactError::InvalidUid)
    );
    let mut no_pixels = source.clone();
    no_pixels.remove_element(tags::PIXEL_DATA);
    assert_eq!(
        plan(&no_pixels, &rects(), NEW_UID).err().map(|e| e.code()),
        Some("dicom_no_pixel_data")
    );
}

/// `source` compressed by a dcmtk tool with `args`; `None` (said) when dcmtk is missing.
fn dcmtk(tool: &str, args: &[&str], source: &DefaultDicomObject) -> Option<DefaultDicomObject> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("renkei-redact-{}-{n}", std::process::id()));
    ok(std::fs::create_dir_all(&dir), "temp dir");
    let (input, output) = (dir.join("in.dcm"), dir.join("out.dcm"));
    ok(source.write_to_file(&input), "write input");
    let status = std::process::Command::new(tool)
        .args(args)
        .arg(&input)
        .arg(&output)
        .status();
    let result = match status {
        Ok(s) if s.success() => Some(ok(OpenFileOptions::new().open_file(&output), "read output")),
        Ok(s) => panic!("{tool} failed: {s}"),
        Err(_) => {
            eprintln!("SKIPPED: {tool} (dcmtk) is not installed");
            None
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[test]
fn lossless_sources_keep_every_value_outside_the_rectangles() {
    let grey16 = Layout {
        bits_allocated: 16,
        bits_stored: 12,
        ..grey8()
    };
    let rgb = Layout {
        photometric: "RGB",
        samples: 3,
        frames: 2,
        ..grey8()
    };
    let cases = [
        ("dcmcrle", vec![], grey16, "1.2.840.10008.1.2.5"),
        ("dcmcrle", vec![], rgb, "1.2.840.10008.1.2.5"),
        ("dcmcjpeg", vec!["+e1"], grey16, "1.2.840.10008.1.2.4.70"),
        ("dcmcjpeg", vec!["+e1"], grey8(), "1.2.840.10008.1.2.4.70"),
    ];
    for (tool, args, layout, ts) in cases {
        let native = image(layout, EXPLICIT_LE);
        let Some(compressed) = dcmtk(tool, &args, &native) else {
            return;
        };
        assert_eq!(compressed.meta().transfer_syntax(), ts);
        let what = format!(
            "{tool} {} {}-bit",
            layout.photometric, layout.bits_allocated
        );
        let redacted = round_trip(&ok(redact(&compressed, &rects(), NEW_UID), &what));
        assert_eq!(redacted.meta().transfer_syntax(), EXPLICIT_LE, "{what}");
        // Outside the rectangles: the values of the uncompressed original, bit for bit.
        assert_blanked(&native, &redacted, &rects(), &what);
    }
}

#[test]
fn a_lossy_source_is_blanked_in_its_decoded_pixels_and_not_compressed_again() {
    let rgb = Layout {
        photometric: "RGB",
        samples: 3,
        frames: 2,
        ..grey8()
    };
    let mut native = image(rgb, EXPLICIT_LE);
    native.put(DataElement::new(
        tags::LOSSY_IMAGE_COMPRESSION,
        VR::CS,
        "01",
    ));
    let Some(lossy) = dcmtk("dcmcjpeg", &["+eb"], &native) else {
        return;
    };
    assert_eq!(lossy.meta().transfer_syntax(), "1.2.840.10008.1.2.4.50");
    let redacted = round_trip(&ok(redact(&lossy, &rects(), NEW_UID), "lossy"));
    assert_eq!(redacted.meta().transfer_syntax(), EXPLICIT_LE);
    assert_eq!(text(&redacted, tags::LOSSY_IMAGE_COMPRESSION), "01");
    assert_eq!(text(&redacted, tags::PHOTOMETRIC_INTERPRETATION), "RGB");
    // Outside: exactly the decoded lossy values (no second loss); inside: black.
    assert_blanked(&lossy, &redacted, &rects(), "lossy");
}

#[test]
fn one_bit_images_are_refused() {
    let mut source = image(grey8(), EXPLICIT_LE);
    source.put(DataElement::new(
        tags::BITS_ALLOCATED,
        VR::US,
        PrimitiveValue::from(1u16),
    ));
    source.put(DataElement::new(
        tags::BITS_STORED,
        VR::US,
        PrimitiveValue::from(1u16),
    ));
    source.put(DataElement::new(
        tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(0u16),
    ));
    let err = redact(&source, &rects(), NEW_UID).err();
    assert_eq!(
        err.map(|e| e.code()),
        Some("dicom_unsupported_pixel_format")
    );
}
