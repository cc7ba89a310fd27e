//! Which images may carry identifying text in their pixels (burned-in annotation).
//!
//! Pixel data is never modified by this crate. The report flags a risk instead, so that a human
//! or a later pixel-cleaning step can look at the image before it leaves the hospital.
//!
//! The risk is flagged when Burned In Annotation (0028,0301) is `YES`, or when that attribute is
//! absent and the modality or SOP class is one that commonly carries burned-in text:
//! ultrasound (scanner overlays with the patient name), secondary capture (screenshots, scanned
//! paper), visible-light photography, endoscopy and microscopy (labels, wristbands, faces),
//! angiography and fluoroscopy (acquisition overlays), ophthalmic photography, and encapsulated
//! documents (a PDF or CDA carries whatever text it was given). `NO` is trusted.

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

/// Burned In Annotation.
pub const BURNED_IN_ANNOTATION: Tag = Tag(0x0028, 0x0301);
const MODALITY: Tag = Tag(0x0008, 0x0060);
const SOP_CLASS_UID: Tag = Tag(0x0008, 0x0016);

/// Modalities whose images commonly carry burned-in text.
pub const RISKY_MODALITIES: &[&str] = &[
    "US", "IVUS", "SC", "OT", "XC", "ES", "GM", "SM", "OP", "XA", "RF", "DOC",
];

/// SOP classes whose images or documents commonly carry identifying text.
pub const RISKY_SOP_CLASSES: &[(&str, &str)] = &[
    ("1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"),
    (
        "1.2.840.10008.5.1.4.1.1.3.1",
        "Ultrasound Multi-frame Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7",
        "Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.1",
        "Multi-frame Single Bit Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.2",
        "Multi-frame Grayscale Byte Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.3",
        "Multi-frame Grayscale Word Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.7.4",
        "Multi-frame True Color Secondary Capture Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.1",
        "VL Endoscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.1.1",
        "Video Endoscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.2",
        "VL Microscopic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.4",
        "VL Photographic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.4.1",
        "Video Photographic Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.1",
        "Ophthalmic Photography 8 Bit Image Storage",
    ),
    (
        "1.2.840.10008.5.1.4.1.1.77.1.5.2",
        "Ophthalmic Photography 16 Bit Image Storage",
    ),
    ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"),
    ("1.2.840.10008.5.1.4.1.1.104.2", "Encapsulated CDA Storage"),
];

/// Whether the instance says Burned In Annotation `YES`: it is held whatever a detector finds.
pub fn declares_burned_in(obj: &InMemDicomObject) -> bool {
    obj.get(BURNED_IN_ANNOTATION)
        .and_then(|e| e.value().to_str().ok())
        .is_some_and(|s| s.trim_matches([' ', '\0']).eq_ignore_ascii_case("YES"))
}

/// Whether the instance may show identifying text in its pixels or document.
pub fn burned_in_risk(obj: &InMemDicomObject) -> bool {
    let text = |tag: Tag| {
        obj.get(tag)
            .and_then(|e| e.value().to_str().ok())
            .map(|s| s.trim_matches([' ', '\0']).to_ascii_uppercase())
    };
    match text(BURNED_IN_ANNOTATION).as_deref() {
        Some("YES") => return true,
        Some("NO") => return false,
        _ => {}
    }
    let modality = text(MODALITY).unwrap_or_default();
    let sop_class = text(SOP_CLASS_UID).unwrap_or_default();
    RISKY_MODALITIES.contains(&modality.as_str())
        || RISKY_SOP_CLASSES.iter().any(|(uid, _)| *uid == sop_class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::{DataElement, VR};

    fn object(elements: &[(Tag, VR, &str)]) -> InMemDicomObject {
        InMemDicomObject::from_element_iter(
            elements
                .iter()
                .map(|(tag, vr, value)| DataElement::new(*tag, *vr, *value)),
        )
    }

    #[test]
    fn risk_table() {
        let ct = "1.2.840.10008.5.1.4.1.1.2";
        let sc = "1.2.840.10008.5.1.4.1.1.7";
        let cases = [
            (
                vec![(MODALITY, VR::CS, "CT"), (SOP_CLASS_UID, VR::UI, ct)],
                false,
            ),
            (vec![(MODALITY, VR::CS, "US")], true),
            (
                vec![(MODALITY, VR::CS, "OT"), (SOP_CLASS_UID, VR::UI, sc)],
                true,
            ),
            (
                vec![(MODALITY, VR::CS, "CT"), (SOP_CLASS_UID, VR::UI, sc)],
                true,
            ),
            (
                vec![
                    (MODALITY, VR::CS, "CT"),
                    (BURNED_IN_ANNOTATION, VR::CS, "YES"),
                ],
                true,
            ),
            (
                vec![
                    (MODALITY, VR::CS, "US"),
                    (BURNED_IN_ANNOTATION, VR::CS, "NO"),
                ],
                false,
            ),
            (vec![], false),
        ];
        for (elements, expected) in cases {
            assert_eq!(burned_in_risk(&object(&elements)), expected, "{elements:?}");
        }
    }
}
