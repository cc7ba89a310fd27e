//! Direct identifiers found in a data set, and their removal from free text (Clean Descriptors).

use dicom_core::header::Header;
use dicom_core::{Tag, VR};
use dicom_object::InMemDicomObject;

/// What stands in for a removed identifier inside a kept text.
pub const SCRUBBED: &str = "*";

/// Shortest ASCII name component that is searched for; shorter ones match too much.
const MIN_ASCII_NAME_LEN: usize = 2;
/// Shortest ASCII identifier (Patient ID, Accession Number...) that is searched for.
const MIN_ASCII_ID_LEN: usize = 3;

const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
const OTHER_PATIENT_IDS: Tag = Tag(0x0010, 0x1000);
const PATIENT_BIRTH_DATE: Tag = Tag(0x0010, 0x0030);
const ACCESSION_NUMBER: Tag = Tag(0x0008, 0x0050);
const STUDY_ID: Tag = Tag(0x0020, 0x0010);
const MEDICAL_RECORD_LOCATOR: Tag = Tag(0x0010, 0x1090);

/// One string to find.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Needle {
    text: String,
    /// ASCII needles match case-insensitively and only as whole words.
    ascii: bool,
}

/// The identifiers of one data set: every person name component (the patient's and everyone
/// else's, in all `=` groups), the patient IDs, accession number, study ID and birth date.
#[derive(Debug, Default, Clone)]
pub struct Identifiers {
    needles: Vec<Needle>,
}

impl Identifiers {
    /// Collect from the data set and all its sequences, before anything is changed.
    pub fn collect(obj: &InMemDicomObject) -> Self {
        let mut ids = Identifiers::default();
        ids.collect_from(obj);
        // Longest first, so "Yamada Tarou" goes before "Yamada".
        ids.needles
            .sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.text.cmp(&b.text)));
        ids.needles.dedup();
        ids
    }

    fn collect_from(&mut self, obj: &InMemDicomObject) {
        for element in obj.iter() {
            if let Some(items) = element.items() {
                items.iter().for_each(|item| self.collect_from(item));
                continue;
            }
            // Identifiers live in text; binary values (pixel data above all) are never read
            // as text, which would turn every sample into a string.
            if !is_string_vr(element.vr()) {
                continue;
            }
            let tag = element.tag();
            let Ok(values) = element.value().to_multi_str() else {
                continue;
            };
            if element.vr() == VR::PN {
                values.iter().for_each(|v| self.add_person_name(v));
            } else if matches!(
                tag,
                PATIENT_ID
                    | OTHER_PATIENT_IDS
                    | ACCESSION_NUMBER
                    | STUDY_ID
                    | MEDICAL_RECORD_LOCATOR
            ) {
                values.iter().for_each(|v| self.add(v, MIN_ASCII_ID_LEN));
            } else if tag == PATIENT_BIRTH_DATE {
                values.iter().for_each(|v| self.add_date(v));
            }
        }
    }

    /// Each component of each group (`=`) of a PN value: family, given, middle names, and
    /// their words; prefixes and suffixes (Dr., Jr.) are not identifying and are left alone.
    pub fn add_person_name(&mut self, value: &str) {
        for group in value.split('=') {
            let components: Vec<&str> = group.split('^').collect();
            for component in components.iter().take(3) {
                self.add(component, MIN_ASCII_NAME_LEN);
                let words: Vec<&str> = component.split_whitespace().collect();
                if words.len() > 1 {
                    words
                        .iter()
                        .for_each(|w| self.add(w, MIN_ASCII_NAME_LEN + 1));
                }
            }
            // The name as people write it: "Tarou Yamada", "Yamada Tarou", "山田太郎", "山田 太郎".
            let family = components.first().map_or("", |s| s.trim());
            let given = components.get(1).map_or("", |s| s.trim());
            if !family.is_empty() && !given.is_empty() {
                for joined in [
                    format!("{family} {given}"),
                    format!("{given} {family}"),
                    format!("{family}{given}"),
                    format!("{family}\u{3000}{given}"),
                ] {
                    self.add(&joined, MIN_ASCII_NAME_LEN);
                }
            }
        }
    }

    /// A birth date in the forms it is written in text.
    fn add_date(&mut self, value: &str) {
        let v = value.trim();
        if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
            self.add(v, MIN_ASCII_ID_LEN);
            return;
        }
        let (y, m, d) = (&v[0..4], &v[4..6], &v[6..8]);
        for form in [
            v.to_string(),
            format!("{y}-{m}-{d}"),
            format!("{y}/{m}/{d}"),
            format!("{y}.{m}.{d}"),
            format!(
                "{y}年{}月{}日",
                m.trim_start_matches('0'),
                d.trim_start_matches('0')
            ),
            format!("{y}年{m}月{d}日"),
        ] {
            self.add(&form, MIN_ASCII_ID_LEN);
        }
    }

    fn add(&mut self, raw: &str, min_ascii_len: usize) {
        let text = raw.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if text.is_empty() {
            return;
        }
        let ascii = text.is_ascii();
        if ascii && text.len() < min_ascii_len {
            return;
        }
        // Only letters or digits make an identifier; "." or "-" alone would match everything.
        if !text.chars().any(char::is_alphanumeric) {
            return;
        }
        self.needles.push(Needle {
            text: text.to_string(),
            ascii,
        });
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every identifier replaced by [`SCRUBBED`]; `None` when nothing was found.
    pub fn scrub(&self, text: &str) -> Option<String> {
        let mut current: Option<String> = None;
        for needle in &self.needles {
            let haystack = current.as_deref().unwrap_or(text);
            if let Some(replaced) = replace_all(haystack, needle) {
                current = Some(replaced);
            }
        }
        current
    }
}

/// Fewest digits that make a number look like a phone number, record number or date in free
/// text; shorter numbers (doses, sizes, series numbers) are kept.
pub const MIN_DIGITS_IN_NUMBER: usize = 7;

/// `text` with every long number (at least [`MIN_DIGITS_IN_NUMBER`] digits, possibly split by
/// `-`, `.`, `/`, spaces or parentheses: `090-1111-2222`, `(03) 5555 0199`, `2024/03/15`)
/// replaced by [`SCRUBBED`]; `None` when there is none. Used on descriptors being cleaned,
/// where an identifier may appear that no attribute of the object names.
pub fn scrub_long_numbers(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_digit = |c: char| c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c);
    let is_separator = |c: char| {
        matches!(
            c,
            '-' | '.' | '/' | ' ' | '(' | ')' | '\u{30FC}' | '\u{2212}'
        )
    };
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, each gap at most two separators, ending on a digit.
        let mut end = i;
        let mut digits = 0;
        let mut j = i;
        while j < chars.len() {
            if is_digit(chars[j]) {
                digits += 1;
                end = j;
                j += 1;
            } else if is_separator(chars[j])
                && (chars.get(j + 1).is_some_and(|&c| is_digit(c))
                    || (chars.get(j + 1).is_some_and(|&c| is_separator(c))
                        && chars.get(j + 2).is_some_and(|&c| is_digit(c))))
            {
                j += 1;
            } else {
                break;
            }
        }
        if digits >= MIN_DIGITS_IN_NUMBER {
            out.push_str(SCRUBBED);
            changed = true;
        } else {
            out.extend(&chars[i..=end]);
        }
        i = end + 1;
    }
    changed.then_some(out)
}

fn replace_all(haystack: &str, needle: &Needle) -> Option<String> {
    let matches: Vec<usize> = if needle.ascii {
        // ASCII lower-casing keeps byte offsets, so positions map back to the original.
        let lower = haystack.to_ascii_lowercase();
        let wanted = needle.text.to_ascii_lowercase();
        lower
            .match_indices(&wanted)
            .map(|(at, _)| at)
            .filter(|&at| is_word_at(haystack, at, wanted.len()))
            .collect()
    } else {
        haystack
            .match_indices(&needle.text)
            .map(|(at, _)| at)
            .collect()
    };
    if matches.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    for at in matches {
        if at < last {
            continue;
        }
        out.push_str(&haystack[last..at]);
        out.push_str(SCRUBBED);
        last = at + needle.text.len();
    }
    out.push_str(&haystack[last..]);
    Some(out)
}

/// Whether the match at `at..at + len` is not glued to other ASCII letters or digits.
fn is_word_at(haystack: &str, at: usize, len: usize) -> bool {
    let bytes = haystack.as_bytes();
    let before = at.checked_sub(1).and_then(|i| bytes.get(i));
    let after = bytes.get(at + len);
    !before.is_some_and(u8::is_ascii_alphanumeric) && !after.is_some_and(u8::is_ascii_alphanumeric)
}

/// Whether values of `vr` are text (and may therefore hold a name, an ID or a date).
fn is_string_vr(vr: VR) -> bool {
    matches!(
        vr,
        VR::AE
            | VR::AS
            | VR::CS
            | VR::DA
            | VR::DS
            | VR::DT
            | VR::IS
            | VR::LO
            | VR::LT
            | VR::PN
            | VR::SH
            | VR::ST
            | VR::TM
            | VR::UC
            | VR::UI
            | VR::UR
            | VR::UT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_for_name(name: &str) -> Identifiers {
        let mut ids = Identifiers::default();
        ids.add_person_name(name);
        ids.needles
            .sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.text.cmp(&b.text)));
        ids
    }

    #[test]
    fn every_component_of_every_group_is_found() {
        let ids = ids_for_name("Yamada^Tarou=山田^太郎=やまだ^たろう");
        let cases = [
            ("CT head Yamada", Some("CT head *")),
            ("for YAMADA TAROU", Some("for *")),
            ("tarou yamada follow-up", Some("* follow-up")),
            ("山田太郎様 胸部", Some("*様 胸部")),
            ("やまだ たろう", Some("*")),
            ("やまだ様", Some("*様")),
            ("たろう", Some("*")),
            ("Chest PA", None),
            ("Yamadaxyz", None), // ASCII names match whole words only
        ];
        for (text, expected) in cases {
            assert_eq!(ids.scrub(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn short_ascii_components_and_prefixes_are_ignored() {
        let ids = ids_for_name("Li^A^^Dr.^Jr.");
        assert_eq!(ids.scrub("Clinical trial, Dr. A").as_deref(), None);
        assert_eq!(ids.scrub("Li, follow-up").as_deref(), Some("*, follow-up"));
    }

    #[test]
    fn long_numbers_are_scrubbed_short_ones_kept() {
        let cases = [
            ("call 090-1111-2222 today", Some("call * today")),
            ("tel (03) 5555 0199", Some("tel (*")),
            ("MRN 12345678", Some("MRN *")),
            ("seen 2024/03/15", Some("seen *")),
            ("５５５５５５５", Some("*")),
            ("Series 3, 5 mm, 120 kV, 250 mAs", None),
            ("2.5 mm / 1.25 mm", None),
            ("T2 FLAIR 3D", None),
        ];
        for (text, expected) in cases {
            assert_eq!(scrub_long_numbers(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn birth_dates_are_found_in_common_forms() {
        let mut ids = Identifiers::default();
        ids.add_date("19700305");
        for text in [
            "born 19700305",
            "DOB 1970-03-05",
            "1970/03/05",
            "1970年3月5日生",
        ] {
            let scrubbed = ids.scrub(text);
            assert!(
                scrubbed.as_deref().is_some_and(|s| !s.contains("1970")),
                "{text}"
            );
        }
    }
}
