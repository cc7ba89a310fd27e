//! The DICOM JSON model (PS3.18 F.2): a data set as JSON for WADO-RS metadata and QIDO-RS.
//!
//! Person names come as `{Alphabetic, Ideographic, Phonetic}`, IS/DS as numbers, binary values
//! as `InlineBinary` (base64) up to [`INLINE_BINARY_MAX`] bytes and as a `BulkDataURI` beyond;
//! pixel data is never inlined.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::header::Header;
use dicom_core::value::{PrimitiveValue, Value as DicomValue};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::{StandardDataDictionary, tags};
use dicom_object::InMemDicomObject;
use serde_json::{Map, Value, json};

/// Binary values longer than this (bytes) are given by reference, not inline.
pub const INLINE_BINARY_MAX: usize = 1024;

/// A tag as DICOM JSON writes it: eight upper-case hex digits, e.g. `0020000D`.
pub fn tag_key(tag: Tag) -> String {
    format!("{:04X}{:04X}", tag.group(), tag.element())
}

/// A tag from `0020000D`, `(0020,000D)`, `0020,000D` or a keyword such as `StudyInstanceUID`.
pub fn parse_tag(text: &str) -> Option<Tag> {
    let text = text.trim();
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let group = u16::from_str_radix(&text[..4], 16).ok()?;
        let element = u16::from_str_radix(&text[4..], 16).ok()?;
        return Some(Tag(group, element));
    }
    StandardDataDictionary.parse_tag(text)
}

/// The dictionary VR of a tag (relaxed for context-dependent ones), `UN` when unknown.
pub fn dictionary_vr(tag: Tag) -> VR {
    StandardDataDictionary
        .by_tag(tag)
        .map(|e| e.vr().relaxed())
        .unwrap_or(VR::UN)
}

/// Whether a tag holds pixel data (never inlined).
fn is_pixel_data(tag: Tag) -> bool {
    tag == tags::PIXEL_DATA || tag == tags::FLOAT_PIXEL_DATA || tag == tags::DOUBLE_FLOAT_PIXEL_DATA
}

fn is_binary(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN
    )
}

/// `obj` in the DICOM JSON model. `bulk` gives the BulkDataURI of a top-level element whose
/// value is too large to inline (`None`: the element is left out). Group lengths are omitted.
pub fn to_json(obj: &InMemDicomObject, bulk: &dyn Fn(Tag) -> Option<String>) -> Value {
    Value::Object(object(obj, Some(bulk)))
}

fn object(
    obj: &InMemDicomObject,
    bulk: Option<&dyn Fn(Tag) -> Option<String>>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for element in obj {
        let tag = element.tag();
        if tag.element() == 0 {
            continue;
        }
        let vr = element.vr();
        let entry = match element.value() {
            DicomValue::Sequence(seq) => {
                let items: Vec<Value> = seq
                    .items()
                    .iter()
                    .map(|item| Value::Object(object(item, None)))
                    .collect();
                attribute(VR::SQ, items)
            }
            DicomValue::PixelSequence(_) => match bulk.and_then(|b| b(tag)) {
                Some(uri) => json!({"vr": vr.to_string(), "BulkDataURI": uri}),
                None => continue,
            },
            DicomValue::Primitive(p) => {
                if is_binary(vr) || is_pixel_data(tag) {
                    let bytes = p.to_bytes();
                    if is_pixel_data(tag) || bytes.len() > INLINE_BINARY_MAX {
                        match bulk.and_then(|b| b(tag)) {
                            Some(uri) => json!({"vr": vr.to_string(), "BulkDataURI": uri}),
                            None if is_pixel_data(tag) => continue,
                            None => inline(vr, &bytes),
                        }
                    } else {
                        inline(vr, &bytes)
                    }
                } else {
                    attribute(vr, primitive(vr, p))
                }
            }
        };
        out.insert(tag_key(tag), entry);
    }
    out
}

fn inline(vr: VR, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return json!({"vr": vr.to_string()});
    }
    json!({"vr": vr.to_string(), "InlineBinary": BASE64.encode(bytes)})
}

/// `{"vr": …, "Value": […]}`, or `{"vr": …}` without values.
pub fn attribute(vr: VR, values: Vec<Value>) -> Value {
    if values.is_empty() || values.iter().all(Value::is_null) {
        return json!({"vr": vr.to_string()});
    }
    json!({"vr": vr.to_string(), "Value": values})
}

/// A person name `Alphabetic=Ideographic=Phonetic` as its JSON object (`null` when empty).
pub fn person_name(text: &str) -> Value {
    let mut name = Map::new();
    for (key, part) in ["Alphabetic", "Ideographic", "Phonetic"]
        .iter()
        .zip(text.split('='))
    {
        let part = part.trim_end_matches([' ', '\0']);
        if !part.is_empty() {
            name.insert((*key).to_owned(), Value::String(part.to_owned()));
        }
    }
    if name.is_empty() {
        Value::Null
    } else {
        Value::Object(name)
    }
}

fn primitive(vr: VR, p: &PrimitiveValue) -> Vec<Value> {
    if matches!(p, PrimitiveValue::Empty) {
        return Vec::new();
    }
    match vr {
        VR::US | VR::SS | VR::UL | VR::SL | VR::SV => p
            .to_multi_int::<i64>()
            .map(|v| v.into_iter().map(Value::from).collect())
            .unwrap_or_default(),
        VR::UV => p
            .to_multi_int::<u64>()
            .map(|v| v.into_iter().map(Value::from).collect())
            .unwrap_or_default(),
        VR::FL | VR::FD => p
            .to_multi_float64()
            .map(|v| v.into_iter().map(number).collect())
            .unwrap_or_default(),
        VR::AT => match p {
            PrimitiveValue::Tags(t) => t.iter().map(|t| Value::String(tag_key(*t))).collect(),
            _ => Vec::new(),
        },
        _ => strings(p)
            .into_iter()
            .map(|s| string_value(vr, &s))
            .collect(),
    }
}

fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// The string values of a primitive, each trimmed of padding.
fn strings(p: &PrimitiveValue) -> Vec<String> {
    p.to_multi_str()
        .iter()
        .map(|s| s.trim_end_matches([' ', '\0']).trim_start().to_owned())
        .collect()
}

/// One value of a string VR in its JSON form: PN an object, IS/DS a number, others a string;
/// an empty value is `null`.
pub fn string_value(vr: VR, text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    match vr {
        VR::PN => person_name(text),
        VR::IS => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        VR::DS => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(number)
            .unwrap_or_else(|| Value::String(text.to_owned())),
        _ => Value::String(text.to_owned()),
    }
}

/// The values of attribute `key` of a DICOM JSON object as text, for matching: person names
/// give each of their components.
pub fn texts(object: &Value, key: &str) -> Vec<String> {
    let Some(values) = object
        .get(key)
        .and_then(|a| a.get("Value"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in values {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Object(name) => {
                out.extend(name.values().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::{DataElement, dicom_value};

    #[test]
    fn data_sets_follow_the_json_model() {
        let mut obj = InMemDicomObject::new_empty();
        obj.put(DataElement::new(
            tags::PATIENT_NAME,
            VR::PN,
            "Yamada^Taro=山田^太郎=やまだ^たろう",
        ));
        obj.put(DataElement::new(tags::INSTANCE_NUMBER, VR::IS, " 7"));
        obj.put(DataElement::new(tags::SLICE_THICKNESS, VR::DS, "2.5"));
        obj.put(DataElement::new(
            tags::ROWS,
            VR::US,
            dicom_value!(U16, [512]),
        ));
        obj.put(DataElement::new(
            tags::IMAGE_TYPE,
            VR::CS,
            dicom_value!(Strs, ["ORIGINAL", "PRIMARY"]),
        ));
        obj.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            dicom_value!(U8, [1, 2, 3, 4]),
        ));
        obj.put(DataElement::new(
            Tag(0x0009, 0x1001),
            VR::OB,
            dicom_value!(U8, [0xFF, 0x00]),
        ));
        obj.put(DataElement::new(
            Tag(0x0009, 0x1002),
            VR::OB,
            PrimitiveValue::U8(vec![7u8; 2000].into()),
        ));
        let j = to_json(&obj, &|t| Some(format!("bulk/{}", tag_key(t))));
        assert_eq!(
            j["00100010"]["Value"][0],
            json!({"Alphabetic": "Yamada^Taro", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"})
        );
        assert_eq!(j["00200013"], json!({"vr": "IS", "Value": [7]}));
        assert_eq!(j["00180050"], json!({"vr": "DS", "Value": [2.5]}));
        assert_eq!(j["00280010"], json!({"vr": "US", "Value": [512]}));
        assert_eq!(j["00080008"]["Value"], json!(["ORIGINAL", "PRIMARY"]));
        assert_eq!(
            j["7FE00010"],
            json!({"vr": "OW", "BulkDataURI": "bulk/7FE00010"})
        );
        assert_eq!(j["00091001"], json!({"vr": "OB", "InlineBinary": "/wA="}));
        assert_eq!(j["00091002"]["BulkDataURI"], "bulk/00091002");
        let without = to_json(&obj, &|_| None);
        assert!(
            without.get("7FE00010").is_none(),
            "pixel data is never inlined"
        );
        assert_eq!(
            texts(&j, "00100010"),
            vec!["Yamada^Taro", "山田^太郎", "やまだ^たろう"]
        );
    }

    #[test]
    fn tags_parse_from_numbers_and_keywords() {
        assert_eq!(parse_tag("0020000D"), Some(tags::STUDY_INSTANCE_UID));
        assert_eq!(
            parse_tag("StudyInstanceUID"),
            Some(tags::STUDY_INSTANCE_UID)
        );
        assert_eq!(parse_tag("(0008,0020)"), Some(tags::STUDY_DATE));
        assert_eq!(parse_tag("NoSuchKeyword"), None);
        assert_eq!(dictionary_vr(tags::STUDY_DATE), VR::DA);
    }
}
