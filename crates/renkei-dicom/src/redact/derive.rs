//! The attributes that make a redacted image a derived instance (PS3.3 C.7.6.1, C.12.1): a new
//! SOP Instance UID, Burned In Annotation NO, Image Type DERIVED, the derivation described and
//! coded, the source referenced by its (already de-identified) UID, and the Clean Pixel Data
//! option added to the de-identification method.

use dicom_core::value::{DataSetSequence, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::plan::Edit;
use crate::burned_in::BURNED_IN_ANNOTATION;
use crate::engine::text_value as attrs_text;

/// Clean Pixel Data Option (DCM 113101, CID 7050), also used as the derivation's code.
const CLEAN_PIXEL_DATA: (&str, &str) = ("113101", "Clean Pixel Data Option");
/// Source image for image processing operation (DCM 121322, CID 7202).
const SOURCE_FOR_PROCESSING: (&str, &str) =
    ("121322", "Source image for image processing operation");

/// Attributes that may show the old pixels or describe their old range: removed.
const DROPPED: [Tag; 5] = [
    tags::ICON_IMAGE_SEQUENCE,
    tags::SMALLEST_IMAGE_PIXEL_VALUE,
    tags::LARGEST_IMAGE_PIXEL_VALUE,
    tags::EXTENDED_OFFSET_TABLE,
    tags::EXTENDED_OFFSET_TABLE_LENGTHS,
];

/// The edits that record `regions` blanked regions in the instance derived from `obj` as
/// `new_uid`.
pub(super) fn derivation(obj: &InMemDicomObject, regions: usize, new_uid: &str) -> Vec<Edit> {
    let mut edits = vec![
        Edit::Put(DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, new_uid)),
        Edit::Put(DataElement::new(BURNED_IN_ANNOTATION, VR::CS, "NO")),
        Edit::Put(DataElement::new(
            tags::DERIVATION_DESCRIPTION,
            VR::ST,
            description(obj, regions),
        )),
        Edit::Put(sequence(
            tags::DERIVATION_CODE_SEQUENCE,
            vec![code(CLEAN_PIXEL_DATA)],
        )),
        Edit::Put(sequence(
            tags::SOURCE_IMAGE_SEQUENCE,
            appended(obj, tags::SOURCE_IMAGE_SEQUENCE, source_item(obj)),
        )),
    ];
    if let Some(image_type) = derived_image_type(obj) {
        edits.push(Edit::Put(DataElement::new(
            tags::IMAGE_TYPE,
            VR::CS,
            image_type,
        )));
    }
    if !has_code(
        obj,
        tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
        CLEAN_PIXEL_DATA.0,
    ) {
        edits.push(Edit::Put(sequence(
            tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
            appended(
                obj,
                tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
                code(CLEAN_PIXEL_DATA),
            ),
        )));
    }
    edits.extend(DROPPED.into_iter().map(Edit::Remove));
    edits
}

fn description(obj: &InMemDicomObject, regions: usize) -> String {
    let ours = format!(
        "Burned-in annotation removed: {regions} region(s) blanked in every frame; other pixels unchanged"
    );
    match attrs_text(obj, tags::DERIVATION_DESCRIPTION) {
        // ST holds at most 1024 characters.
        Some(earlier) if earlier.len() + ours.len() + 2 <= 1024 => format!("{earlier}; {ours}"),
        _ => ours,
    }
}

/// Image Type with its first value DERIVED (`None` when the object has none).
fn derived_image_type(obj: &InMemDicomObject) -> Option<String> {
    let values = obj.get(tags::IMAGE_TYPE)?.to_multi_str().ok()?;
    // Values as read, or one string holding them all (as built in memory).
    let mut values: Vec<String> = values
        .iter()
        .flat_map(|v| v.split('\\'))
        .map(|v| v.trim_matches([' ', '\0']).to_owned())
        .collect();
    match values.first_mut() {
        Some(first) => *first = "DERIVED".to_owned(),
        None => values.push("DERIVED".to_owned()),
    }
    Some(values.join("\\"))
}

fn code((value, meaning): (&str, &str)) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        DataElement::new(tags::CODE_VALUE, VR::SH, value),
        DataElement::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "DCM"),
        DataElement::new(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

fn source_item(obj: &InMemDicomObject) -> InMemDicomObject {
    let class = attrs_text(obj, tags::SOP_CLASS_UID).unwrap_or_default();
    let instance = attrs_text(obj, tags::SOP_INSTANCE_UID).unwrap_or_default();
    InMemDicomObject::from_element_iter([
        DataElement::new(tags::REFERENCED_SOP_CLASS_UID, VR::UI, class),
        DataElement::new(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, instance),
        sequence(
            tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
            vec![code(SOURCE_FOR_PROCESSING)],
        ),
    ])
}

fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> dicom_object::mem::InMemElement {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

fn items(obj: &InMemDicomObject, tag: Tag) -> Vec<InMemDicomObject> {
    match obj.get(tag).map(|e| e.value()) {
        Some(Value::Sequence(seq)) => seq.items().to_vec(),
        _ => Vec::new(),
    }
}

/// The items of `tag` in `obj`, then `item`.
fn appended(obj: &InMemDicomObject, tag: Tag, item: InMemDicomObject) -> Vec<InMemDicomObject> {
    let mut all = items(obj, tag);
    all.push(item);
    all
}

fn has_code(obj: &InMemDicomObject, tag: Tag, value: &str) -> bool {
    items(obj, tag)
        .iter()
        .any(|item| attrs_text(item, tags::CODE_VALUE).as_deref() == Some(value))
}
