//! Instances de-identified before they arrive (by a renkei gateway of the same organization):
//! their de-identification markers are checked and their facts read; nothing is changed.

use dicom_core::Tag;
use dicom_core::header::Header;
use dicom_core::value::Value;
use dicom_object::InMemDicomObject;

use crate::context::DeidContext;
use crate::engine::{ANONYMOUS_NAME, describe, text_value};
use crate::error::DeidError;
use crate::leftover::check_no_leftover;
use crate::private::is_private;
use crate::profile::profile;
use crate::report::DeidReport;

const PATIENT_NAME: Tag = Tag(0x0010, 0x0010);
const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
const PATIENT_IDENTITY_REMOVED: Tag = Tag(0x0012, 0x0062);
const DEIDENTIFICATION_METHOD: Tag = Tag(0x0012, 0x0063);
const DEIDENTIFICATION_METHOD_CODE_SEQUENCE: Tag = Tag(0x0012, 0x0064);
const CODE_VALUE: Tag = Tag(0x0008, 0x0100);
/// Basic Application Confidentiality Profile (DCM 113100).
const BASIC_PROFILE_CODE: &str = "113100";

/// Checks that `obj` carries renkei's de-identification (profile markers, neutral name, a
/// Patient ID of at most `max_patient_id_digits` digits, no private attributes) and returns its
/// facts; then every attribute, recursively, against the whole of Table E.1-1 (see
/// [`check_no_leftover`]). Refused objects are never stored as sent.
pub fn verify_deidentified(
    obj: &InMemDicomObject,
    max_patient_id_digits: u8,
) -> Result<DeidReport, DeidError> {
    let refuse = |reason| Err(DeidError::NotDeidentified { reason });
    if text_value(obj, PATIENT_IDENTITY_REMOVED).as_deref() != Some("YES") {
        return refuse("Patient Identity Removed is not YES");
    }
    let method = text_value(obj, DEIDENTIFICATION_METHOD).unwrap_or_default();
    let edition = profile()?.edition.as_str();
    if !method.starts_with(edition) {
        return refuse("De-identification Method does not name renkei's profile edition");
    }
    if !has_basic_profile_code(obj) {
        return refuse("De-identification Method Code Sequence lacks the basic profile");
    }
    let name = text_value(obj, PATIENT_NAME).unwrap_or_default();
    if !(name.is_empty() || name == ANONYMOUS_NAME) {
        return refuse("Patient Name is not the neutral value");
    }
    let patient_id = text_value(obj, PATIENT_ID).unwrap_or_default();
    if patient_id.len() > usize::from(max_patient_id_digits)
        || !patient_id.bytes().all(|b| b.is_ascii_digit())
    {
        return refuse("Patient ID is longer than the organization's tail");
    }
    if obj.iter().any(|element| is_private(element.tag())) {
        return refuse("private attributes are present");
    }
    // The whole of Table E.1-1, recursively, under the rules a gateway applies (the
    // organization's defaults and Patient ID digits; the secret plays no part in deciding).
    let mut ctx = DeidContext::new([0; 32]);
    ctx.patient_id_digits = max_patient_id_digits;
    check_no_leftover(obj, &ctx)?;
    describe(obj, patient_id, edition)
}

fn has_basic_profile_code(obj: &InMemDicomObject) -> bool {
    let Some(element) = obj.get(DEIDENTIFICATION_METHOD_CODE_SEQUENCE) else {
        return false;
    };
    let Value::Sequence(sequence) = element.value() else {
        return false;
    };
    sequence
        .items()
        .iter()
        .any(|item| text_value(item, CODE_VALUE).as_deref() == Some(BASIC_PROFILE_CODE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeidContext, deidentify};
    use dicom_core::{DataElement, PrimitiveValue, VR};

    fn identified() -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            DataElement::new(Tag(0x0008, 0x0016), VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            DataElement::new(Tag(0x0008, 0x0018), VR::UI, "1.2.3.4.5.6"),
            DataElement::new(Tag(0x0008, 0x0060), VR::CS, "CT"),
            DataElement::new(PATIENT_NAME, VR::PN, "Yamada^Taro"),
            DataElement::new(PATIENT_ID, VR::LO, "HOSP-00123456"),
            DataElement::new(Tag(0x0020, 0x000D), VR::UI, "1.2.3.4"),
            DataElement::new(Tag(0x0020, 0x000E), VR::UI, "1.2.3.4.5"),
            DataElement::new(Tag(0x0009, 0x0010), VR::LO, "ACME"),
            DataElement::new(Tag(0x0009, 0x1001), VR::LO, "secret"),
        ])
    }

    fn deidentified() -> (InMemDicomObject, DeidReport) {
        let mut obj = identified();
        let report = deidentify(&mut obj, &DeidContext::new([7; 32])).unwrap();
        (obj, report)
    }

    #[test]
    fn an_instance_deidentified_by_renkei_is_accepted_with_the_same_facts() {
        let (obj, report) = deidentified();
        let verified = verify_deidentified(&obj, 4).unwrap();
        assert_eq!(verified.sop_instance_uid, report.sop_instance_uid);
        assert_eq!(verified.study_instance_uid, report.study_instance_uid);
        assert_eq!(verified.patient_id_tail, "3456");
        assert_eq!(verified.modality.as_deref(), Some("CT"));
    }

    #[test]
    fn an_identified_instance_is_refused() {
        let err = verify_deidentified(&identified(), 4).unwrap_err();
        assert_eq!(err.code(), "dicom_not_deidentified");
    }

    #[test]
    fn any_identifying_leftover_is_refused() {
        let put = |tag: Tag, vr: VR, value: &'static str| -> Box<dyn Fn(&mut InMemDicomObject)> {
            Box::new(move |o| {
                o.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
            })
        };
        let cases = [
            ("name", put(PATIENT_NAME, VR::PN, "Yamada^Taro")),
            ("long id", put(PATIENT_ID, VR::LO, "00123456")),
            ("private", put(Tag(0x0011, 0x0010), VR::LO, "X")),
            ("flag", put(PATIENT_IDENTITY_REMOVED, VR::CS, "NO")),
            (
                "method",
                put(DEIDENTIFICATION_METHOD, VR::LO, "some other tool"),
            ),
        ];
        for (what, spoil) in cases {
            let (mut obj, _) = deidentified();
            spoil(&mut obj);
            assert!(verify_deidentified(&obj, 4).is_err(), "{what} accepted");
        }
    }
}
