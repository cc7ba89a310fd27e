//! Reading numbers and text from elements, and per-frame attributes of enhanced multi-frame objects.

use dicom_core::Tag;
use dicom_core::value::Value;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

/// The first value of an integer element; `None` when absent, empty or not a number.
pub(crate) fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    obj.get(tag)?.to_int::<i64>().ok()
}

/// All values of a numeric element (DS, IS, FL, FD, US, …); `None` when absent, empty or invalid.
pub(crate) fn floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let values = obj.get(tag)?.to_multi_float64().ok()?;
    (!values.is_empty() && values.iter().all(|v| v.is_finite())).then_some(values)
}

/// The first value of a numeric element.
pub(crate) fn float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    floats(obj, tag)?.first().copied()
}

/// The element's text, trimmed of padding; `None` when absent or empty.
pub(crate) fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = obj.get(tag)?.to_str().ok()?;
    let trimmed = value.trim_matches(|c: char| c == ' ' || c == '\0').trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The items of a sequence element (empty when absent or not a sequence).
pub(crate) fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    match obj.get(tag).map(|e| e.value()) {
        Some(Value::Sequence(seq)) => seq.items(),
        _ => &[],
    }
}

/// The first item of a sequence element.
pub(crate) fn first_item(obj: &InMemDicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    items(obj, tag).first()
}

/// Where an attribute of frame `frame` lives: the top-level data set (classic objects), else the
/// functional group macro `macro_seq` of the frame's Per-Frame Functional Groups item, else of
/// the Shared Functional Groups (enhanced multi-frame objects).
pub(crate) fn frame_scoped(
    obj: &InMemDicomObject,
    frame: u32,
    macro_seq: Tag,
    tag: Tag,
) -> Option<Vec<f64>> {
    if let Some(values) = floats(obj, tag) {
        return Some(values);
    }
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .get(usize::try_from(frame).ok()?)
        .and_then(|group| first_item(group, macro_seq))
        .and_then(|m| floats(m, tag));
    per_frame.or_else(|| {
        first_item(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)
            .and_then(|group| first_item(group, macro_seq))
            .and_then(|m| floats(m, tag))
    })
}

/// Like [`frame_scoped`] for a text attribute.
pub(crate) fn frame_scoped_text(
    obj: &InMemDicomObject,
    frame: u32,
    macro_seq: Tag,
    tag: Tag,
) -> Option<String> {
    if let Some(value) = text(obj, tag) {
        return Some(value);
    }
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .get(usize::try_from(frame).ok()?)
        .and_then(|group| first_item(group, macro_seq))
        .and_then(|m| text(m, tag));
    per_frame.or_else(|| {
        first_item(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)
            .and_then(|group| first_item(group, macro_seq))
            .and_then(|m| text(m, tag))
    })
}
