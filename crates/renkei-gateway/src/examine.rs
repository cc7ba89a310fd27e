//! One de-identified instance looked at before it may leave the hospital: its device's
//! redaction rule applied, its pixels scanned for text (the server's detector and rule of what
//! is scanned), and its [`Verdict`].

use renkei_core::redaction::{Device, RedactionRule, rule_for};
use renkei_dicom::prepare::{PrepareError, Prepared, apply_rules};
use renkei_dicom::text::{TextDetector, is_scanned, scan_prepared};

use crate::held::{HeldDevice, HeldNote, short_id};
use crate::spool::now_millis;
use crate::verdict::{Facts, HoldReason, Scan, Verdict, verdict};

/// An instance after its rule and its scan.
pub struct Examined {
    /// What would be sent (redacted when a rule matched).
    pub bytes: Vec<u8>,
    pub verdict: Verdict,
    sop_uid: String,
    modality: String,
    device: HeldDevice,
    regions: usize,
    rule: Option<String>,
}

/// The key of a rule as a held note records it.
fn rule_key(rule: &RedactionRule) -> String {
    format!("{}:{}", rule.id, rule.version)
}

/// The key (`id:version`) of the first of `rules` matching `device`, modality included.
pub fn matching_rule(
    rules: &[RedactionRule],
    device: &HeldDevice,
    modality: &str,
) -> Option<String> {
    let device = Device {
        manufacturer: device.manufacturer.clone(),
        model: device.model.clone(),
        rows: device.rows,
        columns: device.columns,
        modality: modality.to_owned(),
    };
    rule_for(rules, &device).map(rule_key)
}

/// Applies the first of `rules` matching `prepared`'s device (keyed by `org_secret`, checked
/// again with at most `digits` patient ID digits), scans the result, and decides.
pub fn examine(
    prepared: Prepared,
    rules: &[RedactionRule],
    (org_secret, digits): (&[u8; 32], u8),
    detector: &dyn TextDetector,
) -> Result<Examined, PrepareError> {
    let rule = rule_for(rules, &prepared.device).map(rule_key);
    let device = HeldDevice::of(&prepared.device);
    let prepared = apply_rules(prepared, rules, org_secret, digits)?;
    let modality = prepared.report.modality.clone().unwrap_or_default();
    let scan = if !is_scanned(Some(modality.as_str()), &prepared.sop_class_uid) {
        Scan::Skipped
    } else {
        match scan_prepared(&prepared, detector) {
            Ok(regions) => Scan::Regions(regions.len()),
            Err(e) => {
                tracing::warn!(
                    code = e.code(),
                    "text detection failed; the instance is held"
                );
                Scan::Failed
            }
        }
    };
    let facts = Facts {
        burned_in_declared: prepared.report.burned_in_declared,
        rule: rule.clone(),
    };
    Ok(Examined {
        verdict: verdict(&facts, scan),
        sop_uid: prepared.report.sop_instance_uid.clone(),
        bytes: prepared.bytes.into_vec(),
        modality,
        device,
        regions: match scan {
            Scan::Regions(n) => n,
            _ => 0,
        },
        rule,
    })
}

impl Examined {
    /// The note of this instance held as `name` for `reason`.
    pub fn note(&self, name: &str, reason: HoldReason) -> HeldNote {
        HeldNote {
            id: short_id(&self.sop_uid),
            name: name.to_owned(),
            held_at: now_millis(),
            reason,
            modality: self.modality.clone(),
            device: self.device.clone(),
            regions: self.regions,
            rule: self.rule.clone(),
        }
    }
}
