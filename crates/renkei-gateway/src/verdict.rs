//! Whether an instance leaves the gateway, decided as data: from its facts after the
//! organization's redaction rules, and what the text detector saw. Nothing here touches pixels
//! or files; `examine` gathers the facts and the intake and the held review apply the verdict.

use serde::{Deserialize, Serialize};

/// What is known of an instance after de-identification and its redaction rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Burned In Annotation (0028,0301) says YES (a rule's redaction writes NO).
    pub burned_in_declared: bool,
    /// The redaction rule applied (`id:version`), if one matched.
    pub rule: Option<String>,
}

/// What the text detector made of the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Not scanned: a modality or class without burned-in text (CT, MR, …), or no pixels.
    Skipped,
    /// Scanned: this many text regions (0: clean).
    Regions(usize),
    /// The detector could not look (missing, or an undecodable frame).
    Failed,
}

/// Why an instance is kept at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Text was found in its pixels.
    TextFound,
    /// It says Burned In Annotation YES and no rule blanked it.
    BurnedInDeclared,
    /// Its pixels could not be scanned: not called clean unseen.
    ScanFailed,
}

/// What becomes of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Queued for the server.
    Forward,
    /// Kept sealed in `held/` until a rule, or the hospital's IT, clears it.
    Hold(HoldReason),
}

/// The verdict for an instance with `facts` that the detector saw as `scan` (the same rule as
/// the server's at ingest: text found, a failed scan, or an unredacted YES hold it).
pub fn verdict(facts: &Facts, scan: Scan) -> Verdict {
    match scan {
        Scan::Failed => Verdict::Hold(HoldReason::ScanFailed),
        Scan::Regions(n) if n > 0 => Verdict::Hold(HoldReason::TextFound),
        _ if facts.burned_in_declared && facts.rule.is_none() => {
            Verdict::Hold(HoldReason::BurnedInDeclared)
        }
        _ => Verdict::Forward,
    }
}

/// Whether a held instance is looked at again under a new configuration: when the rule that
/// now matches its device (`now`, `id:version`) is not the one already applied (`applied`).
pub fn review(applied: Option<&str>, now: Option<&str>) -> bool {
    now.is_some() && now != applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(declared: bool, rule: Option<&str>) -> Facts {
        Facts {
            burned_in_declared: declared,
            rule: rule.map(str::to_owned),
        }
    }

    #[test]
    fn text_a_failed_scan_or_an_unredacted_yes_hold_an_instance() {
        use HoldReason::*;
        let cases = [
            (facts(false, None), Scan::Skipped, Verdict::Forward),
            (facts(false, None), Scan::Regions(0), Verdict::Forward),
            (
                facts(false, None),
                Scan::Regions(3),
                Verdict::Hold(TextFound),
            ),
            (
                facts(false, Some("r:1")),
                Scan::Regions(1),
                Verdict::Hold(TextFound),
            ),
            (facts(false, None), Scan::Failed, Verdict::Hold(ScanFailed)),
            // A CT saying YES is not scanned, and still held.
            (
                facts(true, None),
                Scan::Skipped,
                Verdict::Hold(BurnedInDeclared),
            ),
            (
                facts(true, None),
                Scan::Regions(0),
                Verdict::Hold(BurnedInDeclared),
            ),
            // A rule blanked it and the scan is clean.
            (facts(true, Some("r:2")), Scan::Regions(0), Verdict::Forward),
        ];
        for (facts, scan, expected) in cases {
            assert_eq!(verdict(&facts, scan), expected, "{facts:?} {scan:?}");
        }
    }

    #[test]
    fn a_held_instance_is_looked_at_again_only_under_a_new_matching_rule() {
        assert!(!review(None, None), "no rule matches");
        assert!(review(None, Some("r:1")), "a rule now matches");
        assert!(!review(Some("r:1"), Some("r:1")), "the same rule again");
        assert!(review(Some("r:1"), Some("r:2")), "the rule was edited");
        assert!(!review(Some("r:1"), None), "the rule was removed");
    }
}
