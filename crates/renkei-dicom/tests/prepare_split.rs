//! The fast path of `prepare` (parse only the attributes before a trailing Pixel Data element,
//! copy the element as received) gives the same de-identified object as parsing the whole
//! file (trailing padding aside), for every pydicom file it applies to; skipped, loudly,
//! without pydicom.

mod common;

use dicom_dictionary_std::tags;
use renkei_dicom::layout::trailing_pixel_data;
use renkei_dicom::prepare::prepare;
use renkei_dicom::{DeidContext, deidentify};

use common::{from_bytes, pydicom_data_dir, to_bytes};

#[test]
fn the_split_path_matches_parsing_the_whole_file() {
    let Some(data) = pydicom_data_dir() else {
        eprintln!("SKIPPED: pydicom is not installed (pip install pydicom)");
        return;
    };
    let mut split = Vec::new();
    for entry in std::fs::read_dir(data.join("test_files"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Some(layout) = trailing_pixel_data(&bytes) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Ok(mut whole) = dicom_object::OpenFileOptions::new().from_reader(&bytes[..]) else {
            continue;
        };
        let ctx = DeidContext::new([0x42; 32]);
        let Ok(whole_report) = deidentify(&mut whole, &ctx) else {
            assert!(
                prepare(bytes.clone(), &ctx).is_err(),
                "{name}: refused only when split"
            );
            continue;
        };
        if whole_report.study_instance_uid.is_none() || whole_report.series_instance_uid.is_none() {
            assert!(
                prepare(bytes.clone(), &ctx).is_err(),
                "{name}: refused without its UIDs"
            );
            continue;
        }
        // As stored: written, then read back.
        let whole = from_bytes(&to_bytes(&whole));
        let prepared = prepare(bytes.clone(), &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let stored = prepared.bytes.clone().into_vec();
        assert!(
            stored.ends_with(&bytes[layout.element_start..layout.element_end]),
            "{name}: the pixel data element is kept as received"
        );
        let fast = from_bytes(&stored);
        assert_eq!(
            prepared.report.sop_instance_uid, whole_report.sop_instance_uid,
            "{name}"
        );
        assert_eq!(
            prepared.report.number_of_frames, whole_report.number_of_frames,
            "{name}: frames"
        );
        assert_eq!(
            prepared.report.burned_in_risk, whole_report.burned_in_risk,
            "{name}"
        );
        let tags_of = |obj: &dicom_object::DefaultDicomObject| {
            obj.iter()
                .map(|e| e.header().tag)
                .filter(|tag| *tag != tags::DATA_SET_TRAILING_PADDING)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            tags_of(&fast),
            tags_of(&whole),
            "{name}: the same attributes"
        );
        for element in whole.iter() {
            let tag = element.header().tag;
            if tag == tags::DATA_SET_TRAILING_PADDING {
                continue;
            }
            let ours = fast.element(tag).unwrap();
            if tag == tags::PIXEL_DATA {
                assert_eq!(
                    ours.value().to_bytes().ok(),
                    element.value().to_bytes().ok(),
                    "{name}: pixel data unchanged"
                );
            } else {
                // Compared as printed: equal values may differ in cached lengths.
                assert_eq!(
                    format!("{:?}", ours.value()),
                    format!("{:?}", element.value()),
                    "{name}: {tag}"
                );
            }
        }
        split.push(name);
    }
    eprintln!("split path taken for {} files", split.len());
    assert!(
        split.len() >= 20,
        "only {} files took the split path: {split:?}",
        split.len()
    );
    assert!(split.iter().any(|n| n == "CT_small.dcm"));
}
