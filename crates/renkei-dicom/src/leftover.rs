//! Verify mode of the engine: every attribute of an instance said to be de-identified by renkei
//! (a gateway of the organization) is decided, recursively, as [`crate::deidentify`] would decide
//! it under the same rules; any decision that would still change it is a leftover, and the
//! instance is refused. What de-identification itself leaves (replaced UIDs, dummies, shifted
//! dates, cleaned text) passes.

use dicom_core::header::Header;
use dicom_core::value::Value;
use dicom_core::{Tag, VR};
use dicom_object::InMemDicomObject;

use crate::context::DeidContext;
use crate::engine::{ANONYMOUS_NAME, MAX_DEPTH, Mode, Op, Walk, is_empty, strings};
use crate::error::{DeidError, format_tag};
use crate::profile::profile;

/// The prefix of every UID renkei's keyed mapping makes.
const REMAPPED_UID_ROOT: &str = "2.25.";

/// Ok when de-identification under `ctx` would leave `obj` as it is (apart from re-mapping
/// UIDs and shifting dates, which it cannot tell from their values); else the first attribute
/// it would change, by tag.
pub fn check_no_leftover(obj: &InMemDicomObject, ctx: &DeidContext) -> Result<(), DeidError> {
    let walk = Walk::deciding(ctx, profile()?);
    check(&walk, obj, 0, Mode::Normal)
}

fn check(walk: &Walk, obj: &InMemDicomObject, depth: usize, mode: Mode) -> Result<(), DeidError> {
    if depth > MAX_DEPTH {
        return Err(DeidError::TooDeep { limit: MAX_DEPTH });
    }
    for element in obj.iter() {
        let (tag, vr) = (element.tag(), element.vr());
        let op = walk.decide(obj, tag, vr, mode);
        let change = match op {
            Op::Keep | Op::Clean | Op::ShiftDate | Op::DropGroupLength => None,
            Op::Remove => Some("removed"),
            Op::DropPrivate => Some("removed (private)"),
            Op::Empty => (!is_empty(obj, tag)).then_some("emptied"),
            Op::Dummy => (!is_dummy(walk, obj, tag, vr)?).then_some("replaced by a dummy"),
            Op::Uid => (!all_remapped(obj, tag)?).then_some("given a new UID"),
            Op::PatientName => (!values(obj, tag)?
                .iter()
                .all(|v| v.is_empty() || v == ANONYMOUS_NAME))
            .then_some("replaced by the neutral name"),
            Op::PatientId => {
                let digits = usize::from(walk.patient_id_digits());
                let id = values(obj, tag)?.join("");
                (id.len() > digits || !id.bytes().all(|b| b.is_ascii_digit()))
                    .then_some("cut to the organization's tail")
            }
            Op::Recurse(inner) => match element.value() {
                Value::Sequence(sequence) => {
                    for item in sequence.items() {
                        check(walk, item, depth + 1, inner)?;
                    }
                    None
                }
                Value::PixelSequence(_) => None,
                // A sequence kept as bytes cannot be reviewed: de-identification drops it.
                Value::Primitive(_) => Some("removed (unreadable sequence)"),
            },
        };
        if let Some(change) = change {
            return Err(DeidError::Leftover {
                tag: format_tag(tag),
                change,
            });
        }
    }
    Ok(())
}

/// The element's values, trimmed of padding.
fn values(obj: &InMemDicomObject, tag: Tag) -> Result<Vec<String>, DeidError> {
    Ok(strings(obj, tag)?
        .iter()
        .map(|v| v.trim_matches([' ', '\0']).to_string())
        .collect())
}

/// Whether the element holds the dummy de-identification puts there (a UID: a re-mapped one).
fn is_dummy(walk: &Walk, obj: &InMemDicomObject, tag: Tag, vr: VR) -> Result<bool, DeidError> {
    if vr == VR::UI {
        return all_remapped(obj, tag);
    }
    let dummy = walk.dummy_value(obj, tag, vr)?;
    let expected: Vec<String> = dummy
        .to_multi_str()
        .iter()
        .map(|v| v.trim_matches([' ', '\0']).to_string())
        .collect();
    Ok(values(obj, tag)? == expected)
}

/// Whether every UID of the element is empty or one renkei's mapping made.
fn all_remapped(obj: &InMemDicomObject, tag: Tag) -> Result<bool, DeidError> {
    Ok(values(obj, tag)?
        .iter()
        .all(|v| v.is_empty() || v.starts_with(REMAPPED_UID_ROOT)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DateMode, deidentify};
    use dicom_core::value::DataSetSequence;
    use dicom_core::{DataElement, Length, PrimitiveValue};

    fn item(elements: Vec<DataElement<InMemDicomObject>>) -> InMemDicomObject {
        InMemDicomObject::from_element_iter(elements)
    }

    fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
        DataElement::new(tag, VR::SQ, DataSetSequence::new(items, Length::UNDEFINED))
    }

    /// An identified CT with the attributes a PACS sends, sequences included.
    fn identified() -> InMemDicomObject {
        let text = |g, e, vr, v: &str| DataElement::new(Tag(g, e), vr, PrimitiveValue::from(v));
        item(vec![
            text(0x0008, 0x0016, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            text(0x0008, 0x0018, VR::UI, "1.2.392.1.2.3.4"),
            text(0x0008, 0x0020, VR::DA, "20240301"),
            text(0x0008, 0x0030, VR::TM, "101500"),
            text(0x0008, 0x0050, VR::SH, "ACC12345"),
            text(0x0008, 0x0060, VR::CS, "CT"),
            text(0x0008, 0x0080, VR::LO, "Tokyo General"),
            text(0x0008, 0x0090, VR::PN, "Suzuki^Ichiro"),
            text(0x0008, 0x1030, VR::LO, "CT chest for Yamada"),
            text(0x0008, 0x1070, VR::PN, "Tanaka"),
            sequence(
                Tag(0x0008, 0x1140),
                vec![item(vec![
                    text(0x0008, 0x1150, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
                    text(0x0008, 0x1155, VR::UI, "1.2.392.1.2.3.3"),
                ])],
            ),
            sequence(
                Tag(0x0040, 0xA730),
                vec![item(vec![
                    text(0x0040, 0xA160, VR::UT, "seen by Dr Sato"),
                    text(0x0040, 0xA121, VR::DA, "20240301"),
                ])],
            ),
            text(0x0010, 0x0010, VR::PN, "Yamada^Taro"),
            text(0x0010, 0x0020, VR::LO, "00123456"),
            text(0x0010, 0x0030, VR::DA, "19600102"),
            text(0x0010, 0x0040, VR::CS, "M"),
            text(0x0010, 0x1000, VR::LO, "OTHER-99"),
            text(0x0010, 0x1010, VR::AS, "064Y"),
            text(0x0018, 0x1000, VR::LO, "SN-777"),
            text(0x0020, 0x000D, VR::UI, "1.2.392.1.2"),
            text(0x0020, 0x000E, VR::UI, "1.2.392.1.2.3"),
            text(0x0020, 0x0052, VR::UI, "1.2.392.1.9"),
        ])
    }

    fn contexts() -> Vec<DeidContext> {
        let mut all = Vec::new();
        for dates in [DateMode::ShiftPerPatient, DateMode::Keep, DateMode::Remove] {
            for (characteristics, descriptors) in [(true, true), (false, false)] {
                let mut ctx = DeidContext::new([9; 32]);
                ctx.retain_dates = dates;
                ctx.retain_patient_characteristics = characteristics;
                ctx.clean_descriptors = descriptors;
                all.push(ctx);
            }
        }
        all
    }

    #[test]
    fn what_the_engine_leaves_passes_under_every_option() {
        for ctx in contexts() {
            let mut obj = identified();
            deidentify(&mut obj, &ctx).unwrap();
            assert_eq!(check_no_leftover(&obj, &ctx), Ok(()), "{ctx:?}");
        }
    }

    #[test]
    fn every_planted_identifier_is_found_by_its_tag() {
        let ctx = DeidContext::new([9; 32]);
        let mut clean = identified();
        deidentify(&mut clean, &ctx).unwrap();
        let text = |g, e, vr, v: &str| DataElement::new(Tag(g, e), vr, PrimitiveValue::from(v));
        let nested_name = sequence(
            Tag(0x0008, 0x1140),
            vec![item(vec![
                text(0x0008, 0x1155, VR::UI, "2.25.1"),
                text(0x0010, 0x0010, VR::PN, "Yamada^Taro"),
            ])],
        );
        let planted = [
            ("(0010,0030)", text(0x0010, 0x0030, VR::DA, "19600102")),
            ("(0008,0050)", text(0x0008, 0x0050, VR::SH, "ACC12345")),
            ("(0010,1000)", text(0x0010, 0x1000, VR::LO, "OTHER-99")),
            ("(0008,0090)", text(0x0008, 0x0090, VR::PN, "Suzuki^Ichiro")),
            ("(0008,0080)", text(0x0008, 0x0080, VR::LO, "Tokyo General")),
            ("(0020,000D)", text(0x0020, 0x000D, VR::UI, "1.2.392.1.2")),
            ("(0010,0010)", nested_name),
        ];
        for (tag, element) in planted {
            let mut obj = clean.clone();
            obj.put(element);
            let error = check_no_leftover(&obj, &ctx).expect_err(tag);
            assert_eq!(error.code(), "dicom_not_deidentified");
            let message = error.to_string();
            assert!(message.contains(tag), "{message}");
            for value in ["1960", "ACC", "OTHER", "Suzuki", "Tokyo", "Yamada", "392"] {
                assert!(!message.contains(value), "a value in {message}");
            }
        }
    }
}
