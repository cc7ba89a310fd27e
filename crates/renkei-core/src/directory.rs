//! Directory search rules: how names, readings and contacts are folded into one searchable
//! document per user, and how a match is ranked (exact > prefix > partial).

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use crate::kana;
use crate::user::Profession;

/// Separates the keys of a document; never part of a normalized query.
pub const SEPARATOR: char = '|';
/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// How well a user matched: exactly one of their keys, the start of one, or a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchRank {
    Exact,
    Prefix,
    Partial,
}

impl MatchRank {
    /// The rank from its number in SQL (0 exact, 1 prefix, else partial).
    pub fn from_number(n: i64) -> MatchRank {
        match n {
            0 => MatchRank::Exact,
            1 => MatchRank::Prefix,
            _ => MatchRank::Partial,
        }
    }
}

/// Text as it is compared: NFKC (full/half width folded), lower case, katakana as hiragana,
/// without spaces and the punctuation people type inconsistently (・ . - _ ( ) +).
pub fn normalize(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(kana::katakana_to_hiragana)
        .filter(|c| {
            !c.is_whitespace() && !matches!(c, '・' | '·' | '.' | '-' | '_' | '(' | ')' | '+' | '|')
        })
        .collect()
}

/// Romaji with long vowels folded (satou → sato, oono → ono), as people often type them.
fn fold_long_vowels(romaji: &str) -> String {
    romaji
        .replace("ou", "o")
        .replace("oo", "o")
        .replace("uu", "u")
}

/// A profession's names people search by, in English and Japanese.
pub fn profession_labels(p: Profession) -> &'static [&'static str] {
    use Profession::*;
    match p {
        Doctor => &["doctor", "医師", "ドクター"],
        Resident => &["resident", "研修医"],
        Nurse => &["nurse", "看護師"],
        RadiologyTechnologist => &["radiology technologist", "診療放射線技師", "放射線技師"],
        PhysicalTherapist => &["physical therapist", "理学療法士", "PT"],
        OccupationalTherapist => &["occupational therapist", "作業療法士", "OT"],
        Orthoptist => &["orthoptist", "視能訓練士"],
        ClinicalEngineer => &["clinical engineer", "臨床工学技士", "ME"],
        SocialWorker => &["social worker", "医療ソーシャルワーカー", "MSW"],
        Pharmacist => &["pharmacist", "薬剤師"],
        Clerk => &["clerk", "医療事務", "事務"],
        Other => &["other", "その他"],
    }
}

/// What a user is found by.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    pub display_name: &'a str,
    pub kana: &'a str,
    pub romaji: &'a str,
    pub login: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub profession: Profession,
    pub department: Option<&'a str>,
    pub org_name: &'a str,
    pub org_slug: &'a str,
}

/// The searchable document: every key normalized, each between separators, so a key is
/// matched exactly by `|q|`, by its start with `|q`, and partially by `q`.
pub fn document(p: &Profile<'_>) -> String {
    let mut keys: Vec<String> = Vec::new();
    let add_with_parts = |text: &str, keys: &mut Vec<String>| {
        keys.push(normalize(text));
        let parts: Vec<&str> = text.split(|c: char| c.is_whitespace()).collect();
        if parts.len() > 1 {
            keys.extend(parts.iter().map(|part| normalize(part)));
        }
    };
    add_with_parts(p.display_name, &mut keys);
    add_with_parts(p.kana, &mut keys);
    let romaji = if p.romaji.trim().is_empty() {
        kana::to_romaji(p.kana)
    } else {
        p.romaji.to_owned()
    };
    add_with_parts(&romaji, &mut keys);
    add_with_parts(&fold_long_vowels(&romaji), &mut keys);
    keys.push(normalize(p.login));
    if let Some(email) = p.email {
        keys.push(normalize(email));
        if let Some((local, _)) = email.split_once('@') {
            keys.push(normalize(local));
        }
    }
    if let Some(phone) = p.phone {
        keys.push(normalize(phone));
    }
    keys.push(p.profession.as_str().replace('_', ""));
    for label in profession_labels(p.profession) {
        add_with_parts(label, &mut keys);
    }
    if let Some(department) = p.department {
        add_with_parts(department, &mut keys);
    }
    add_with_parts(p.org_name, &mut keys);
    keys.push(normalize(p.org_slug));
    let mut seen = std::collections::HashSet::new();
    let mut doc = String::from(SEPARATOR);
    for key in keys.into_iter().filter(|k| !k.is_empty()) {
        if seen.insert(key.clone()) {
            doc.push_str(&key);
            doc.push(SEPARATOR);
        }
    }
    doc
}

/// The keys of a document, each once, in the order they were added.
pub fn keys(doc: &str) -> impl Iterator<Item = &str> {
    doc.split(SEPARATOR).filter(|key| !key.is_empty())
}

/// The smallest text after every text that starts with `prefix` (in byte order), so
/// `key > prefix AND key < prefix_end(prefix)` finds the keys that start with it and are longer.
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// The order of equally ranked results: by reading, then by name.
pub fn sort_key(p: &Profile<'_>) -> String {
    format!(
        "{}{SEPARATOR}{}",
        normalize(p.kana),
        normalize(p.display_name)
    )
}

/// How `doc` matches the normalized query `q`, if at all.
pub fn rank(doc: &str, q: &str) -> Option<MatchRank> {
    if q.is_empty() {
        return Some(MatchRank::Partial);
    }
    if doc.contains(&format!("{SEPARATOR}{q}{SEPARATOR}")) {
        Some(MatchRank::Exact)
    } else if doc.contains(&format!("{SEPARATOR}{q}")) {
        Some(MatchRank::Prefix)
    } else if doc.contains(q) {
        Some(MatchRank::Partial)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tanaka() -> String {
        document(&Profile {
            display_name: "田中 一郎",
            kana: "たなか いちろう",
            romaji: "tanaka ichirou",
            login: "tanaka",
            email: Some("I.Tanaka@oita-u.ac.jp"),
            phone: Some("097-586-5111"),
            profession: Profession::RadiologyTechnologist,
            department: Some("放射線部"),
            org_name: "大分大学病院",
            org_slug: "oita-u",
        })
    }

    #[test]
    fn widths_cases_and_kana_kinds_fold_together() {
        assert_eq!(normalize("ﾀﾅｶ"), "たなか");
        assert_eq!(normalize("タナカ　イチロウ"), "たなかいちろう");
        assert_eq!(normalize("ＴＡＮＡＫＡ"), "tanaka");
        assert_eq!(normalize("097-586-5111"), "0975865111");
    }

    #[test]
    fn every_field_is_found_and_ranked() {
        let doc = tanaka();
        let r = |q: &str| rank(&doc, &normalize(q));
        assert_eq!(r("田中 一郎"), Some(MatchRank::Exact));
        assert_eq!(r("田中"), Some(MatchRank::Exact), "a name part is a key");
        assert_eq!(r("田"), Some(MatchRank::Prefix));
        assert_eq!(r("一"), Some(MatchRank::Prefix));
        assert_eq!(r("中"), Some(MatchRank::Partial));
        assert_eq!(r("ﾀﾅｶ"), Some(MatchRank::Exact), "half-width katakana");
        assert_eq!(r("イチロ"), Some(MatchRank::Prefix));
        assert_eq!(r("ichiro"), Some(MatchRank::Exact), "long vowel folded");
        assert_eq!(r("TANAKA"), Some(MatchRank::Exact));
        assert_eq!(r("naka"), Some(MatchRank::Partial));
        assert_eq!(r("i.tanaka@oita-u.ac.jp"), Some(MatchRank::Exact));
        assert_eq!(r("5865111"), Some(MatchRank::Partial), "phone digits");
        assert_eq!(r("放射線"), Some(MatchRank::Prefix));
        assert_eq!(r("radiology"), Some(MatchRank::Exact), "a word of a label");
        assert_eq!(r("大分"), Some(MatchRank::Prefix), "hospital");
        assert_eq!(r("佐藤"), None);
    }

    #[test]
    fn keys_are_the_documents_parts_and_prefix_ranges_hold_only_longer_keys() {
        let doc = tanaka();
        let keys: Vec<&str> = keys(&doc).collect();
        assert!(keys.contains(&"田中") && keys.contains(&"大分大学病院") && !keys.contains(&""));
        let end = prefix_end("田");
        let starting: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| *k > "田" && *k < end.as_str())
            .collect();
        assert_eq!(starting, ["田中一郎", "田中"]);
    }

    #[test]
    fn a_query_cannot_span_two_keys() {
        let doc = tanaka();
        assert_eq!(rank(&doc, &normalize("郎|た")), None);
        assert!(!normalize("a|b").contains(SEPARATOR));
    }
}
