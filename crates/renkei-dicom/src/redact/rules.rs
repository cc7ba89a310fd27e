//! Per-device redaction rules applied to a de-identified instance (at ingest, on the server
//! and on the gateway): the first rule whose device matches blanks its rectangles.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use renkei_core::redaction::{Device, RedactionRule, rule_for};

use super::error::RedactError;
use super::redact;
use crate::engine::text_value;
use crate::uid::derived_uid;

fn number(obj: &InMemDicomObject, tag: Tag) -> u32 {
    obj.get(tag)
        .and_then(|e| e.to_int::<u32>().ok())
        .unwrap_or(0)
}

/// The facts of `obj` that rules are matched on (empty text and 0 when absent).
pub fn device_of(obj: &InMemDicomObject) -> Device {
    let text = |tag| text_value(obj, tag).unwrap_or_default();
    Device {
        manufacturer: text(tags::MANUFACTURER),
        model: text(tags::MANUFACTURER_MODEL_NAME),
        rows: number(obj, tags::ROWS),
        columns: number(obj, tags::COLUMNS),
        modality: text(tags::MODALITY),
    }
}

/// `obj` redacted by the first of `rules` that matches its device, as a derived instance whose
/// UID is keyed by `org_secret`, the rule and its version (a resend gives the same instance);
/// `None` when no rule matches.
pub fn by_rule(
    obj: &DefaultDicomObject,
    rules: &[RedactionRule],
    org_secret: &[u8; 32],
) -> Result<Option<DefaultDicomObject>, RedactError> {
    if rules.is_empty() || obj.get(tags::PIXEL_DATA).is_none() {
        return Ok(None);
    }
    let Some(rule) = rule_for(rules, &device_of(obj)) else {
        return Ok(None);
    };
    let original = text_value(obj, tags::SOP_INSTANCE_UID).unwrap_or_default();
    let derivation = format!("rule:{}:{}", rule.id, rule.version);
    let uid = derived_uid(org_secret, &original, &derivation);
    redact(obj, &rule.rectangles, &uid).map(Some)
}
