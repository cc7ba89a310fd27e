//! Pixel redaction as the domain sees it: rectangles of an image, and the per-device rules an
//! admin keeps (matched by Manufacturer, Model, Rows × Columns and optionally Modality), whose
//! rectangles are blanked in every frame at ingest, on the server and on the gateway.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Uuid;
use crate::clock::Timestamp;
use crate::error::DomainError;

/// A rectangle in image coordinates (pixels from the top-left corner of the frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Area {
    /// Whether pixel (`column`, `row`) lies inside.
    pub fn contains(&self, column: u32, row: u32) -> bool {
        column >= self.x
            && row >= self.y
            && u64::from(column) < u64::from(self.x) + u64::from(self.width)
            && u64::from(row) < u64::from(self.y) + u64::from(self.height)
    }
}

/// The facts of an image that a rule is matched on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub manufacturer: String,
    pub model: String,
    pub rows: u32,
    pub columns: u32,
    pub modality: String,
}

/// A per-device redaction rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RedactionRule {
    pub id: Uuid,
    pub org_id: Uuid,
    /// Manufacturer (0008,0070), compared without case and surrounding spaces.
    pub manufacturer: String,
    /// Manufacturer's Model Name (0008,1090), compared the same way.
    pub model: String,
    pub rows: u32,
    pub columns: u32,
    /// Modality (0008,0060); any when absent.
    pub modality: Option<String>,
    /// Blanked in every frame; each inside `columns` × `rows`.
    pub rectangles: Vec<Area>,
    /// Starts at 1, one more at every change (edits name the version they change).
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an admin gives to create or replace a rule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRedactionRule {
    pub manufacturer: String,
    pub model: String,
    pub rows: u32,
    pub columns: u32,
    #[serde(default)]
    pub modality: Option<String>,
    pub rectangles: Vec<Area>,
}

/// The longest Manufacturer or Model (LO: 64 characters).
const MAX_TEXT: usize = 64;

fn field(value: &str, code: &'static str, name: &str) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_TEXT || trimmed.contains('\\') {
        return Err(DomainError::invalid(
            code,
            format!("{name} must be 1–{MAX_TEXT} characters without a backslash"),
        ));
    }
    Ok(trimmed.to_owned())
}

impl NewRedactionRule {
    /// The rule's text fields checked and trimmed (the rectangles are checked against
    /// `columns` × `rows` by the redaction engine).
    pub fn normalized(&self) -> Result<NewRedactionRule, DomainError> {
        if self.rows == 0 || self.columns == 0 || self.rows > 65535 || self.columns > 65535 {
            return Err(DomainError::invalid(
                "redaction_rule_invalid_size",
                "rows and columns must be 1–65535",
            ));
        }
        let modality = match self.modality.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) if m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                Some(m.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(DomainError::invalid(
                    "redaction_rule_invalid_modality",
                    "a modality is 1–16 letters or digits, such as US",
                ));
            }
        };
        Ok(NewRedactionRule {
            manufacturer: field(
                &self.manufacturer,
                "redaction_rule_invalid_manufacturer",
                "the manufacturer",
            )?,
            model: field(&self.model, "redaction_rule_invalid_model", "the model")?,
            rows: self.rows,
            columns: self.columns,
            modality,
            rectangles: self.rectangles.clone(),
        })
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl RedactionRule {
    /// Whether the rule applies to an image from `device`.
    pub fn matches(&self, device: &Device) -> bool {
        same(&self.manufacturer, &device.manufacturer)
            && same(&self.model, &device.model)
            && self.rows == device.rows
            && self.columns == device.columns
            && self
                .modality
                .as_deref()
                .is_none_or(|m| same(m, &device.modality))
    }
}

/// The first of `rules` that applies to `device`.
pub fn rule_for<'a>(rules: &'a [RedactionRule], device: &Device) -> Option<&'a RedactionRule> {
    rules.iter().find(|r| r.matches(device))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(modality: Option<&str>) -> RedactionRule {
        RedactionRule {
            id: crate::new_id(),
            org_id: crate::new_id(),
            manufacturer: "ACME Medical".into(),
            model: "Sono 5".into(),
            rows: 480,
            columns: 640,
            modality: modality.map(str::to_owned),
            rectangles: vec![Area {
                x: 0,
                y: 0,
                width: 640,
                height: 40,
            }],
            version: 1,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn device(manufacturer: &str, model: &str, rows: u32, columns: u32, modality: &str) -> Device {
        Device {
            manufacturer: manufacturer.into(),
            model: model.into(),
            rows,
            columns,
            modality: modality.into(),
        }
    }

    #[test]
    fn a_rule_matches_its_device_and_size_only() {
        let any = rule(None);
        let us = rule(Some("US"));
        let cases = [
            (device("ACME Medical", "Sono 5", 480, 640, "US"), true, true),
            (
                device(" acme medical ", "SONO 5", 480, 640, "OT"),
                true,
                false,
            ),
            (
                device("ACME Medical", "Sono 6", 480, 640, "US"),
                false,
                false,
            ),
            (
                device("ACME Medical", "Sono 5", 640, 480, "US"),
                false,
                false,
            ),
            (device("Other", "Sono 5", 480, 640, "US"), false, false),
        ];
        for (d, matches_any, matches_us) in cases {
            assert_eq!(any.matches(&d), matches_any, "{d:?}");
            assert_eq!(us.matches(&d), matches_us, "{d:?}");
        }
        let rules = [rule(Some("CT")), us.clone()];
        assert_eq!(
            rule_for(&rules, &device("ACME Medical", "Sono 5", 480, 640, "US")),
            Some(&us)
        );
    }

    #[test]
    fn bad_rules_are_refused_with_a_code() {
        let good = NewRedactionRule {
            manufacturer: " ACME ".into(),
            model: "Sono".into(),
            rows: 480,
            columns: 640,
            modality: Some("us".into()),
            rectangles: vec![],
        };
        let normal = good.normalized().map_err(|e| e.code());
        assert_eq!(
            normal
                .as_ref()
                .map(|r| (r.manufacturer.as_str(), r.modality.as_deref())),
            Ok(("ACME", Some("US")))
        );
        let code = |r: NewRedactionRule| r.normalized().err().map(|e| e.code());
        assert_eq!(
            code(NewRedactionRule {
                manufacturer: " ".into(),
                ..good.clone()
            }),
            Some("redaction_rule_invalid_manufacturer")
        );
        assert_eq!(
            code(NewRedactionRule {
                model: "x".repeat(65),
                ..good.clone()
            }),
            Some("redaction_rule_invalid_model")
        );
        assert_eq!(
            code(NewRedactionRule {
                rows: 0,
                ..good.clone()
            }),
            Some("redaction_rule_invalid_size")
        );
        assert_eq!(
            code(NewRedactionRule {
                modality: Some("U S".into()),
                ..good
            }),
            Some("redaction_rule_invalid_modality")
        );
    }
}
