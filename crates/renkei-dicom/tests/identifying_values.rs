//! A generated object with identifying values everywhere: after de-identification none of them
//! may be found anywhere in the written file's bytes.

mod common;

use dicom_core::header::Header;
use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Length, Tag, VR};
use dicom_object::{DefaultDicomObject, FileMetaTableBuilder, InMemDicomObject};
use encoding::EncoderTrap;
use encoding::all::{ISO_2022_JP, WINDOWS_31J};
use renkei_dicom::dates::{date_shift_days, shift_da};
use renkei_dicom::{DateMode, DeidContext, deidentify};

use common::{contains, from_bytes, to_bytes};

const SECRET: [u8; 32] = [0x5A; 32];
const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const STUDY_UID: &str = "1.2.392.200036.9116.2.6.1.48.1215.20240315.1";
const SERIES_UID: &str = "1.2.392.200036.9116.2.6.1.48.1215.20240315.2";
const SOP_UID: &str = "1.2.392.200036.9116.2.6.1.48.1215.20240315.3";
const FRAME_OF_REFERENCE_UID: &str = "1.2.392.200036.9116.2.6.1.48.1215.20240315.4";
const PRIOR_STUDY_UID: &str = "1.2.392.200036.9116.2.6.1.48.1215.20230101.9";
const LOCALIZER_UID: &str = "1.2.392.200036.9116.2.6.1.48.1215.20240315.7";
const PATIENT_ID: &str = "ABC-001234567";

fn el(group: u16, element: u16, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(Tag(group, element), vr, value)
}

fn sq(group: u16, element: u16, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(
        Tag(group, element),
        VR::SQ,
        DataSetSequence::new(items, Length::UNDEFINED),
    )
}

fn item(elements: Vec<DataElement<InMemDicomObject>>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter(elements)
}

fn pixel_bytes() -> Vec<u8> {
    (0u8..32).map(|i| i.wrapping_mul(37)).collect()
}

/// Every identifying value planted in the object, as text.
const PLANTED: &[&str] = &[
    "Yamada",
    "Tarou",
    "山田",
    "太郎",
    "やまだ",
    "たろう",
    PATIENT_ID,
    "001234567",
    "19700305",
    "1-2-3 Kasumigaseki",
    "Suzuki",
    "Hanako",
    "Sato^Keiko",
    "03-5555-0199",
    "090-1111-2222",
    "OTHER-ID-777",
    "LEGACY-55555",
    "MRL-31415",
    "KASUMI-HOSP",
    "Captain Nemo",
    "Tanaka",
    "田中",
    "一郎",
    "Kobayashi",
    "Watanabe",
    "Ito^Shiro",
    "Nakamura",
    "Kimura",
    "Hayashi",
    "Kasumigaseki General Hospital",
    "9-9-9 Toranomon",
    "Radiology West Wing",
    "CTSCAN-ROOM7",
    "SN-8675309",
    "ACC20240042",
    "STUDY4242",
    "RP-99887",
    "SPS-55443",
    "ACME_PRIVATE",
    "PRIV-SECRET",
    "PRIVSEQ-hidden",
    "OVERLAY-NOTE",
    "CURVE-LABEL",
    "20240315",
    STUDY_UID,
    SERIES_UID,
    SOP_UID,
    FRAME_OF_REFERENCE_UID,
    PRIOR_STUDY_UID,
    LOCALIZER_UID,
];

// Not planted as identifiers, because the options keep them on purpose: times (the date shift
// is whole days), Occupation (Clean Descriptors keeps it), sex, age, size, weight.

fn identifying_object() -> DefaultDicomObject {
    let elements = vec![
        el(0x0008, 0x0005, VR::CS, "ISO_IR 192"),
        el(0x0008, 0x0016, VR::UI, CT_IMAGE_STORAGE),
        el(0x0008, 0x0018, VR::UI, SOP_UID),
        el(0x0008, 0x0020, VR::DA, "20240315"),
        el(0x0008, 0x0021, VR::DA, "20240315"),
        el(0x0008, 0x0030, VR::TM, "083000"),
        el(0x0008, 0x002A, VR::DT, "20240315083000+0900"),
        el(0x0008, 0x0050, VR::SH, "ACC20240042"),
        el(0x0008, 0x0060, VR::CS, "CT"),
        el(0x0008, 0x0080, VR::LO, "Kasumigaseki General Hospital"),
        el(0x0008, 0x0081, VR::ST, "9-9-9 Toranomon Minato-ku"),
        el(0x0008, 0x0090, VR::PN, "Tanaka^Ichiro=田中^一郎"),
        el(0x0008, 0x1010, VR::SH, "CTSCAN-ROOM7"),
        el(
            0x0008,
            0x1030,
            VR::LO,
            "CT chest for Yamada Tarou ABC-001234567",
        ),
        el(0x0008, 0x103E, VR::LO, "山田太郎 follow-up 19700305"),
        el(0x0008, 0x1040, VR::LO, "Radiology West Wing"),
        el(0x0008, 0x1050, VR::PN, "Kobayashi^Jiro"),
        el(0x0008, 0x1060, VR::PN, "Watanabe^Saburo"),
        el(0x0008, 0x1070, VR::PN, "Nakamura^Goro"),
        sq(
            0x0008,
            0x1110,
            vec![item(vec![
                el(0x0008, 0x1150, VR::UI, "1.2.840.10008.3.1.2.3.1"),
                el(0x0008, 0x1155, VR::UI, PRIOR_STUDY_UID),
            ])],
        ),
        sq(
            0x0008,
            0x1140,
            vec![item(vec![
                el(0x0008, 0x1150, VR::UI, CT_IMAGE_STORAGE),
                el(0x0008, 0x1155, VR::UI, LOCALIZER_UID),
            ])],
        ),
        el(
            0x0010,
            0x0010,
            VR::PN,
            "Yamada^Tarou=山田^太郎=やまだ^たろう",
        ),
        el(0x0010, 0x0020, VR::LO, PATIENT_ID),
        el(0x0010, 0x0021, VR::LO, "KASUMI-HOSP"),
        el(0x0010, 0x0030, VR::DA, "19700305"),
        el(0x0010, 0x0040, VR::CS, "M"),
        el(0x0010, 0x1000, VR::LO, "LEGACY-55555"),
        el(0x0010, 0x1001, VR::PN, "Suzuki^Hanako"),
        sq(
            0x0010,
            0x1002,
            vec![item(vec![
                el(0x0010, 0x0020, VR::LO, "OTHER-ID-777"),
                el(0x0010, 0x0021, VR::LO, "KASUMI-HOSP"),
            ])],
        ),
        el(0x0010, 0x1010, VR::AS, "054Y"),
        el(0x0010, 0x1020, VR::DS, "1.70"),
        el(0x0010, 0x1030, VR::DS, "65.5"),
        el(0x0010, 0x1040, VR::LO, "1-2-3 Kasumigaseki Chiyoda-ku"),
        el(0x0010, 0x1060, VR::PN, "Sato^Keiko"),
        el(0x0010, 0x1080, VR::LO, "Captain Nemo"),
        el(0x0010, 0x1090, VR::LO, "MRL-31415"),
        el(0x0010, 0x2154, VR::SH, "03-5555-0199"),
        el(0x0010, 0x2180, VR::SH, "Lighthouse keeper"),
        el(
            0x0010,
            0x4000,
            VR::LT,
            "Call daughter Yamada Hanako at 090-1111-2222",
        ),
        el(0x0018, 0x0015, VR::CS, "CHEST"),
        el(0x0018, 0x1000, VR::LO, "SN-8675309"),
        el(0x0018, 0x1030, VR::LO, "Tarou protocol"),
        el(0x0020, 0x000D, VR::UI, STUDY_UID),
        el(0x0020, 0x000E, VR::UI, SERIES_UID),
        el(0x0020, 0x0010, VR::SH, "STUDY4242"),
        el(0x0020, 0x0052, VR::UI, FRAME_OF_REFERENCE_UID),
        el(0x0020, 0x4000, VR::LT, "patient YAMADA, see STUDY4242"),
        DataElement::new(Tag(0x0028, 0x0002), VR::US, PrimitiveValue::from(1_u16)),
        el(0x0028, 0x0004, VR::CS, "MONOCHROME2"),
        DataElement::new(Tag(0x0028, 0x0010), VR::US, PrimitiveValue::from(4_u16)),
        DataElement::new(Tag(0x0028, 0x0011), VR::US, PrimitiveValue::from(4_u16)),
        DataElement::new(Tag(0x0028, 0x0100), VR::US, PrimitiveValue::from(16_u16)),
        DataElement::new(Tag(0x0028, 0x0101), VR::US, PrimitiveValue::from(16_u16)),
        DataElement::new(Tag(0x0028, 0x0102), VR::US, PrimitiveValue::from(15_u16)),
        DataElement::new(Tag(0x0028, 0x0103), VR::US, PrimitiveValue::from(0_u16)),
        el(0x0032, 0x1032, VR::PN, "Ito^Shiro"),
        sq(
            0x0040,
            0x0275,
            vec![item(vec![
                el(0x0032, 0x1032, VR::PN, "Ito^Shiro"),
                el(0x0032, 0x1060, VR::LO, "CT for Yamada"),
                el(0x0040, 0x0006, VR::PN, "Kimura^Rokuro"),
                el(0x0040, 0x0009, VR::SH, "SPS-55443"),
                el(0x0040, 0x1001, VR::SH, "RP-99887"),
            ])],
        ),
        sq(
            0x0040,
            0xA730,
            vec![item(vec![
                el(0x0040, 0xA010, VR::CS, "CONTAINS"),
                el(0x0040, 0xA040, VR::CS, "TEXT"),
                el(0x0040, 0xA123, VR::PN, "Hayashi^Shichiro"),
                el(
                    0x0040,
                    0xA160,
                    VR::UT,
                    "Patient Yamada Tarou (ABC-001234567) reports pain",
                ),
            ])],
        ),
        el(0x5000, 0x2500, VR::LO, "CURVE-LABEL-XYZ"),
        el(0x6000, 0x4000, VR::LT, "OVERLAY-NOTE Yamada"),
        el(0x0009, 0x0010, VR::LO, "ACME_PRIVATE"),
        el(0x0009, 0x1001, VR::LO, "PRIV-SECRET-Yamada-ID"),
        sq(
            0x0009,
            0x1002,
            vec![item(vec![el(
                0x0009,
                0x1003,
                VR::LO,
                "PRIVSEQ-hidden-name",
            )])],
        ),
        DataElement::new(
            Tag(0x7FE0, 0x0010),
            VR::OW,
            PrimitiveValue::from(pixel_bytes()),
        ),
    ];
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax("1.2.840.10008.1.2.1")
        .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
        .media_storage_sop_instance_uid(SOP_UID);
    match InMemDicomObject::from_element_iter(elements).with_meta(meta) {
        Ok(obj) => obj,
        Err(e) => panic!("building the test object failed: {e}"),
    }
}

/// The text in every encoding it could be written in.
fn encodings(text: &str) -> Vec<Vec<u8>> {
    let mut all = vec![text.as_bytes().to_vec()];
    for codec in [ISO_2022_JP as encoding::EncodingRef, WINDOWS_31J] {
        if let Ok(bytes) = codec.encode(text, EncoderTrap::Strict) {
            // ISO 2022 JP wraps in escapes; the inner bytes alone are too short to be
            // meaningful for two-letter words, so search the escaped form.
            all.push(bytes);
        }
    }
    all
}

fn deidentified_bytes(
    ctx: &DeidContext,
) -> (DefaultDicomObject, renkei_dicom::DeidReport, Vec<u8>) {
    let mut obj = identifying_object();
    // Round-trip through bytes first, so the engine sees what a receiver would read.
    let mut obj_read = from_bytes(&to_bytes(&obj));
    std::mem::swap(&mut obj, &mut obj_read);
    let report = match deidentify(&mut obj, ctx) {
        Ok(r) => r,
        Err(e) => panic!("de-identification failed: {e} ({})", e.code()),
    };
    let bytes = to_bytes(&obj);
    (obj, report, bytes)
}

fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    obj.get(tag)
        .and_then(|e| e.value().to_str().ok())
        .map(|s| s.trim_matches([' ', '\0']).to_string())
}

#[test]
fn no_planted_identifier_survives_in_the_written_bytes() {
    let ctx = DeidContext::new(SECRET);
    let original = to_bytes(&identifying_object());
    let (_, _, bytes) = deidentified_bytes(&ctx);
    let mut found = Vec::new();
    for planted in PLANTED {
        let variants = encodings(planted);
        // The planted value is really in the original, in at least one encoding.
        assert!(
            variants.iter().any(|v| contains(&original, v)),
            "test setup: {planted} not in the original"
        );
        if variants.iter().any(|v| contains(&bytes, v)) {
            found.push(*planted);
        }
    }
    assert!(found.is_empty(), "still in the output: {found:?}");
}

#[test]
fn patient_name_and_id_follow_the_organization_rules() {
    let ctx = DeidContext::new(SECRET);
    let (obj, report, bytes) = deidentified_bytes(&ctx);
    let reread = from_bytes(&bytes);
    assert_eq!(
        text(&reread, Tag(0x0010, 0x0010)).as_deref(),
        Some("ANONYMOUS")
    );
    assert_eq!(text(&reread, Tag(0x0010, 0x0020)).as_deref(), Some("4567"));
    assert_eq!(report.patient_id_tail, "4567");

    let mut eight = DeidContext::new(SECRET);
    eight.patient_id_digits = 8;
    let (_, report8, _) = deidentified_bytes(&eight);
    assert_eq!(report8.patient_id_tail, "01234567");

    // Kept characteristics, cleaned descriptors.
    assert_eq!(text(&obj, Tag(0x0010, 0x0040)).as_deref(), Some("M"));
    assert_eq!(text(&obj, Tag(0x0010, 0x1010)).as_deref(), Some("054Y"));
    assert_eq!(text(&obj, Tag(0x0010, 0x1030)).as_deref(), Some("65.5"));
    assert_eq!(
        text(&obj, Tag(0x0008, 0x1030)).as_deref(),
        Some("CT chest for * *")
    );
    assert_eq!(
        text(&obj, Tag(0x0008, 0x103E)).as_deref(),
        Some("* follow-up *")
    );
    // Removed by the basic profile.
    for tag in [
        Tag(0x0010, 0x1040),
        Tag(0x0010, 0x1000),
        Tag(0x0010, 0x1002),
        Tag(0x0008, 0x1050),
        Tag(0x0008, 0x1060),
        Tag(0x0009, 0x1002),
        Tag(0x0009, 0x0010),
        Tag(0x5000, 0x2500),
    ] {
        assert!(obj.get(tag).is_none(), "{tag} should be removed");
    }
    assert!(report.private_attributes_removed >= 3, "{report:?}");
}

#[test]
fn marks_the_object_as_deidentified_with_the_method() {
    let ctx = DeidContext::new(SECRET);
    let (obj, report, _) = deidentified_bytes(&ctx);
    assert_eq!(text(&obj, Tag(0x0012, 0x0062)).as_deref(), Some("YES"));
    let method = obj
        .get(Tag(0x0012, 0x0063))
        .and_then(|e| e.value().to_multi_str().ok().map(|v| v.to_vec()))
        .unwrap_or_default();
    assert!(
        method.iter().any(|m| m.contains("DICOM PS3.15 2024b")),
        "{method:?}"
    );
    assert!(
        method
            .iter()
            .any(|m| m == "Patient ID reduced to last 4 digits"),
        "{method:?}"
    );
    assert!(
        method.iter().all(|m| m.len() <= 64),
        "LO values: {method:?}"
    );
    let codes: Vec<String> = obj
        .get(Tag(0x0012, 0x0064))
        .and_then(|e| e.items())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| text(i, Tag(0x0008, 0x0100)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(codes, ["113100", "113105", "113107", "113108"]);
    assert_eq!(text(&obj, Tag(0x0028, 0x0303)).as_deref(), Some("MODIFIED"));
    assert_eq!(report.profile_edition, "DICOM PS3.15 2024b");
}

#[test]
fn uids_are_consistent_per_secret_and_the_meta_follows() {
    let ctx = DeidContext::new(SECRET);
    let (a, report_a, _) = deidentified_bytes(&ctx);
    let (b, report_b, _) = deidentified_bytes(&ctx);
    let (c, report_c, _) = deidentified_bytes(&DeidContext::new([0x11; 32]));
    assert_eq!(report_a, report_b);
    assert_ne!(report_a.study_instance_uid, report_c.study_instance_uid);
    assert_ne!(report_a.sop_instance_uid, report_c.sop_instance_uid);
    for report in [&report_a, &report_c] {
        for uid in [
            report.study_instance_uid.as_deref().unwrap_or(""),
            report.series_instance_uid.as_deref().unwrap_or(""),
            &report.sop_instance_uid,
        ] {
            assert!(renkei_dicom::uid::is_valid_uid(uid), "{uid}");
            assert!(uid.starts_with("2.25."));
        }
    }
    assert_eq!(
        a.meta().media_storage_sop_instance_uid(),
        report_a.sop_instance_uid
    );
    assert_eq!(
        c.meta().media_storage_sop_instance_uid(),
        report_c.sop_instance_uid
    );
    // SOP Class and Transfer Syntax are never changed.
    assert_eq!(
        text(&a, Tag(0x0008, 0x0016)).as_deref(),
        Some(CT_IMAGE_STORAGE)
    );
    assert_eq!(a.meta().transfer_syntax(), "1.2.840.10008.1.2.1");
    // Referenced Study Sequence is X/Z: emptied.
    assert_eq!(
        a.get(Tag(0x0008, 0x1110))
            .and_then(|e| e.items())
            .map(<[_]>::len),
        Some(0)
    );
    // Referenced Image Sequence is X/Z/U*: kept, and the reference inside maps exactly as the
    // referenced image's own SOP Instance UID does, so the link survives de-identification.
    let referenced = |obj: &DefaultDicomObject| {
        obj.get(Tag(0x0008, 0x1140))
            .and_then(|e| e.items())
            .and_then(|items| items.first())
            .and_then(|i| text(i, Tag(0x0008, 0x1155)))
    };
    let expected = renkei_dicom::uid::remap_uid(&SECRET, LOCALIZER_UID);
    assert_eq!(referenced(&a).as_deref(), Some(expected.as_str()));
    assert_eq!(referenced(&b), referenced(&a));
    assert_ne!(referenced(&c), referenced(&a));
    // Frame of Reference too.
    assert_eq!(
        text(&a, Tag(0x0020, 0x0052)),
        Some(renkei_dicom::uid::remap_uid(
            &SECRET,
            FRAME_OF_REFERENCE_UID
        ))
    );
}

#[test]
fn pixel_data_is_untouched() {
    let ctx = DeidContext::new(SECRET);
    let (obj, report, bytes) = deidentified_bytes(&ctx);
    let reread = from_bytes(&bytes);
    for o in [&*obj, &*reread] {
        let pixels = o
            .get(Tag(0x7FE0, 0x0010))
            .and_then(|e| e.value().to_bytes().ok().map(|b| b.to_vec()));
        assert_eq!(pixels, Some(pixel_bytes()));
    }
    assert_eq!(report.number_of_frames, Some(1));
}

#[test]
fn dates_shift_per_patient_or_are_kept_or_removed() {
    let shift = date_shift_days(&SECRET, PATIENT_ID);
    let expected = shift_da("20240315", shift);
    let (obj, report, _) = deidentified_bytes(&DeidContext::new(SECRET));
    assert_eq!(report.study_date, expected);
    assert_eq!(text(&obj, Tag(0x0008, 0x0021)), expected);
    // Times are kept; DT keeps its time and offset.
    assert_eq!(text(&obj, Tag(0x0008, 0x0030)).as_deref(), Some("083000"));
    let dt = text(&obj, Tag(0x0008, 0x002A)).unwrap_or_default();
    assert_eq!(
        dt,
        format!("{}083000+0900", expected.clone().unwrap_or_default())
    );
    // Birth date is Z in the basic profile and no option retains it.
    assert_eq!(text(&obj, Tag(0x0010, 0x0030)).as_deref(), Some(""));

    let mut keep = DeidContext::new(SECRET);
    keep.retain_dates = DateMode::Keep;
    let (kept, report_keep, _) = deidentified_bytes(&keep);
    assert_eq!(report_keep.study_date.as_deref(), Some("20240315"));
    assert_eq!(
        text(&kept, Tag(0x0028, 0x0303)).as_deref(),
        Some("UNMODIFIED")
    );

    let mut remove = DeidContext::new(SECRET);
    remove.retain_dates = DateMode::Remove;
    let (removed, report_removed, _) = deidentified_bytes(&remove);
    assert_eq!(report_removed.study_date, None);
    // Series Date is X/D: the engine takes D, a dummy date.
    assert_eq!(
        text(&removed, Tag(0x0008, 0x0021)).as_deref(),
        Some("19000101")
    );
    assert_eq!(text(&removed, Tag(0x0008, 0x0030)).as_deref(), Some(""));
    assert_eq!(
        text(&removed, Tag(0x0028, 0x0303)).as_deref(),
        Some("REMOVED")
    );
}

#[test]
fn report_holds_no_original_identifier() {
    let (_, report, _) = deidentified_bytes(&DeidContext::new(SECRET));
    let json = match serde_json::to_string(&report) {
        Ok(j) => j,
        Err(e) => panic!("report must serialize: {e}"),
    };
    for planted in PLANTED {
        assert!(!json.contains(planted), "{planted} in {json}");
    }
    assert_eq!(report.modality.as_deref(), Some("CT"));
    assert_eq!(report.body_part.as_deref(), Some("CHEST"));
    assert!(!report.burned_in_risk);
    assert!(
        report.attributes_removed > 10 && report.attributes_replaced > 10,
        "{report:?}"
    );
}

#[test]
fn a_non_ascii_text_left_switches_the_character_set_to_utf8() {
    let mut latin1 = identifying_object();
    latin1.put(el(0x0008, 0x0005, VR::CS, "ISO_IR 100"));
    latin1.put(el(0x0008, 0x1030, VR::LO, "Thorax Übersicht"));
    // Drop the Japanese values ISO_IR 100 cannot hold.
    latin1.put(el(0x0010, 0x0010, VR::PN, "Müller^Jürgen"));
    latin1.put(el(0x0008, 0x0090, VR::PN, "Tanaka^Ichiro"));
    latin1.put(el(0x0008, 0x103E, VR::LO, "Müller follow-up"));
    let mut obj = from_bytes(&to_bytes(&latin1));
    if let Err(e) = deidentify(&mut obj, &DeidContext::new(SECRET)) {
        panic!("{e}");
    }
    assert_eq!(
        text(&obj, Tag(0x0008, 0x0005)).as_deref(),
        Some("ISO_IR 192")
    );
    let bytes = to_bytes(&obj);
    let reread = from_bytes(&bytes);
    assert_eq!(
        text(&reread, Tag(0x0008, 0x1030)).as_deref(),
        Some("Thorax Übersicht")
    );
    assert_eq!(
        text(&reread, Tag(0x0008, 0x103E)).as_deref(),
        Some("* follow-up")
    );
    assert!(contains(&bytes, "Übersicht".as_bytes()));
    for name in ["Müller", "Jürgen"] {
        assert!(!contains(&bytes, name.as_bytes()), "{name}");
        let latin1_bytes: Vec<u8> = name.chars().map(|c| c as u8).collect();
        assert!(!contains(&bytes, &latin1_bytes), "{name} in ISO 8859-1");
    }

    // When only ASCII is left, the declared character set is left as it was.
    let mut ascii = latin1.clone();
    ascii.put(el(0x0008, 0x1030, VR::LO, "Thorax"));
    let mut obj = from_bytes(&to_bytes(&ascii));
    if let Err(e) = deidentify(&mut obj, &DeidContext::new(SECRET)) {
        panic!("{e}");
    }
    assert_eq!(
        text(&obj, Tag(0x0008, 0x0005)).as_deref(),
        Some("ISO_IR 100")
    );
}

#[test]
fn without_clean_descriptors_descriptions_and_comments_go() {
    let mut ctx = DeidContext::new(SECRET);
    ctx.clean_descriptors = false;
    let (obj, _, _) = deidentified_bytes(&ctx);
    for tag in [
        Tag(0x0008, 0x1030),
        Tag(0x0008, 0x103E),
        Tag(0x0010, 0x2180),
        Tag(0x0010, 0x4000),
        Tag(0x0040, 0x0275),
    ] {
        assert!(obj.get(tag).is_none(), "{tag} should be removed");
    }
    let (cleaned, _, _) = deidentified_bytes(&DeidContext::new(SECRET));
    assert_eq!(
        text(&cleaned, Tag(0x0010, 0x2180)).as_deref(),
        Some("Lighthouse keeper")
    );
    assert_eq!(
        text(&cleaned, Tag(0x0010, 0x4000)).as_deref(),
        Some("Call daughter * * at *")
    );
}

#[test]
fn without_patient_characteristics_sex_and_age_go() {
    let mut ctx = DeidContext::new(SECRET);
    ctx.retain_patient_characteristics = false;
    let (obj, _, _) = deidentified_bytes(&ctx);
    // Patient's Sex is Z, Age/Size/Weight are X in the basic profile.
    assert_eq!(text(&obj, Tag(0x0010, 0x0040)).as_deref(), Some(""));
    for tag in [
        Tag(0x0010, 0x1010),
        Tag(0x0010, 0x1020),
        Tag(0x0010, 0x1030),
    ] {
        assert!(obj.get(tag).is_none(), "{tag} should be removed");
    }
}

#[test]
fn a_missing_sop_instance_uid_is_an_error_without_patient_data() {
    let mut obj = InMemDicomObject::from_element_iter([
        el(0x0010, 0x0010, VR::PN, "Yamada^Tarou"),
        el(0x0010, 0x0020, VR::LO, PATIENT_ID),
    ]);
    let err = match deidentify(&mut obj, &DeidContext::new(SECRET)) {
        Ok(_) => panic!("must refuse"),
        Err(e) => e,
    };
    assert_eq!(err.code(), "dicom_missing_attribute");
    let message = err.to_string();
    assert!(
        !message.contains("Yamada") && !message.contains(PATIENT_ID),
        "{message}"
    );
}

#[test]
fn a_person_name_holding_a_sequence_is_malformed_not_a_panic() {
    let mut obj = InMemDicomObject::from_element_iter([
        el(0x0008, 0x0018, VR::UI, SOP_UID),
        sq(
            0x0010,
            0x0010,
            vec![item(vec![el(0x0010, 0x0020, VR::LO, PATIENT_ID)])],
        ),
    ]);
    let err = match deidentify(&mut obj, &DeidContext::new(SECRET)) {
        Ok(_) => panic!("must refuse"),
        Err(e) => e,
    };
    assert_eq!(err.code(), "dicom_malformed_element");
    assert!(!err.to_string().contains(PATIENT_ID));
}

#[test]
fn every_element_header_in_the_output_is_standard_or_ours() {
    // No private group remains anywhere, nested included.
    fn walk(obj: &InMemDicomObject) {
        for e in obj.iter() {
            assert!(e.tag().group() % 2 == 0, "private {} left", e.tag());
            if let Some(items) = e.items() {
                items.iter().for_each(walk);
            }
        }
    }
    let (obj, _, bytes) = deidentified_bytes(&DeidContext::new(SECRET));
    walk(&obj);
    walk(&from_bytes(&bytes));
}

#[test]
fn nested_items_follow_their_own_rows() {
    let (obj, _, _) = deidentified_bytes(&DeidContext::new(SECRET));
    let first_item = |tag: Tag| {
        obj.get(tag)
            .and_then(|e| e.items())
            .and_then(|items| items.first())
            .cloned()
    };
    // Request Attributes Sequence is X, but C under Clean Descriptors: the item stays, the
    // description inside is cleaned, and the X rows inside (physicians, IDs) are removed.
    let request = first_item(Tag(0x0040, 0x0275)).unwrap_or_else(InMemDicomObject::new_empty);
    assert_eq!(
        text(&request, Tag(0x0032, 0x1060)).as_deref(),
        Some("CT for *")
    );
    for tag in [
        Tag(0x0032, 0x1032),
        Tag(0x0040, 0x0006),
        Tag(0x0040, 0x0009),
        Tag(0x0040, 0x1001),
    ] {
        assert!(
            request.get(tag).is_none(),
            "{tag} inside the request should be removed"
        );
    }
    // Content Sequence is D: the item keeps its shape, codes (CS) stay, free text and the
    // person name inside become dummies.
    let content = first_item(Tag(0x0040, 0xA730)).unwrap_or_else(InMemDicomObject::new_empty);
    assert_eq!(text(&content, Tag(0x0040, 0xA040)).as_deref(), Some("TEXT"));
    assert_eq!(
        text(&content, Tag(0x0040, 0xA010)).as_deref(),
        Some("CONTAINS")
    );
    assert_eq!(
        text(&content, Tag(0x0040, 0xA123)).as_deref(),
        Some("ANONYMOUS")
    );
    assert_eq!(
        text(&content, Tag(0x0040, 0xA160)).as_deref(),
        Some("ANONYMIZED")
    );
}
