//! How a message search query is widened: the forms of the query a body may contain.
//!
//! Bodies are stored as typed, so the query is folded instead: NFKC and lower case, then the
//! same text in hiragana and in katakana, and, for a query in Latin letters that reads as
//! Hepburn (or kunrei) romaji, its kana in both scripts. Kanji are matched as typed; a kanji
//! word is not found by its reading (that needs a dictionary).

use crate::kana::{hiragana_to_katakana as to_katakana, katakana_to_hiragana as to_hiragana};
use unicode_normalization::UnicodeNormalization;

/// The distinct forms of `query` to look for, the folded query first.
pub fn query_variants(query: &str) -> Vec<String> {
    let base: String = query.trim().nfkc().flat_map(char::to_lowercase).collect();
    let mut out = vec![base.clone()];
    let mut push = |v: String| {
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    };
    push(base.chars().map(to_hiragana).collect());
    push(base.chars().map(to_katakana).collect());
    if let Some(kana) = romaji_to_hiragana(&base) {
        push(kana.chars().map(to_katakana).collect());
        push(kana);
    }
    out
}

/// Romaji syllables and their hiragana, longest spellings first where they share a start.
const SYLLABLES: &[(&str, &str)] = &[
    ("kya", "きゃ"),
    ("kyu", "きゅ"),
    ("kyo", "きょ"),
    ("gya", "ぎゃ"),
    ("gyu", "ぎゅ"),
    ("gyo", "ぎょ"),
    ("sha", "しゃ"),
    ("shu", "しゅ"),
    ("sho", "しょ"),
    ("she", "しぇ"),
    ("shi", "し"),
    ("sya", "しゃ"),
    ("syu", "しゅ"),
    ("syo", "しょ"),
    ("cha", "ちゃ"),
    ("chu", "ちゅ"),
    ("cho", "ちょ"),
    ("che", "ちぇ"),
    ("chi", "ち"),
    ("tya", "ちゃ"),
    ("tyu", "ちゅ"),
    ("tyo", "ちょ"),
    ("tsu", "つ"),
    ("nya", "にゃ"),
    ("nyu", "にゅ"),
    ("nyo", "にょ"),
    ("hya", "ひゃ"),
    ("hyu", "ひゅ"),
    ("hyo", "ひょ"),
    ("bya", "びゃ"),
    ("byu", "びゅ"),
    ("byo", "びょ"),
    ("pya", "ぴゃ"),
    ("pyu", "ぴゅ"),
    ("pyo", "ぴょ"),
    ("mya", "みゃ"),
    ("myu", "みゅ"),
    ("myo", "みょ"),
    ("rya", "りゃ"),
    ("ryu", "りゅ"),
    ("ryo", "りょ"),
    ("jya", "じゃ"),
    ("jyu", "じゅ"),
    ("jyo", "じょ"),
    ("zya", "じゃ"),
    ("zyu", "じゅ"),
    ("zyo", "じょ"),
    ("ja", "じゃ"),
    ("ju", "じゅ"),
    ("jo", "じょ"),
    ("je", "じぇ"),
    ("ji", "じ"),
    ("ka", "か"),
    ("ki", "き"),
    ("ku", "く"),
    ("ke", "け"),
    ("ko", "こ"),
    ("ga", "が"),
    ("gi", "ぎ"),
    ("gu", "ぐ"),
    ("ge", "げ"),
    ("go", "ご"),
    ("sa", "さ"),
    ("si", "し"),
    ("su", "す"),
    ("se", "せ"),
    ("so", "そ"),
    ("za", "ざ"),
    ("zi", "じ"),
    ("zu", "ず"),
    ("ze", "ぜ"),
    ("zo", "ぞ"),
    ("ta", "た"),
    ("ti", "ち"),
    ("tu", "つ"),
    ("te", "て"),
    ("to", "と"),
    ("da", "だ"),
    ("di", "ぢ"),
    ("du", "づ"),
    ("de", "で"),
    ("do", "ど"),
    ("na", "な"),
    ("ni", "に"),
    ("nu", "ぬ"),
    ("ne", "ね"),
    ("no", "の"),
    ("ha", "は"),
    ("hi", "ひ"),
    ("fu", "ふ"),
    ("hu", "ふ"),
    ("he", "へ"),
    ("ho", "ほ"),
    ("ba", "ば"),
    ("bi", "び"),
    ("bu", "ぶ"),
    ("be", "べ"),
    ("bo", "ぼ"),
    ("pa", "ぱ"),
    ("pi", "ぴ"),
    ("pu", "ぷ"),
    ("pe", "ぺ"),
    ("po", "ぽ"),
    ("ma", "ま"),
    ("mi", "み"),
    ("mu", "む"),
    ("me", "め"),
    ("mo", "も"),
    ("ya", "や"),
    ("yu", "ゆ"),
    ("yo", "よ"),
    ("ra", "ら"),
    ("ri", "り"),
    ("ru", "る"),
    ("re", "れ"),
    ("ro", "ろ"),
    ("wa", "わ"),
    ("wo", "を"),
    ("a", "あ"),
    ("i", "い"),
    ("u", "う"),
    ("e", "え"),
    ("o", "お"),
];

/// Hiragana for a query of Latin letters that reads wholly as romaji; `None` otherwise.
/// A doubled consonant is a small っ (kekka → けっか), `n` before a consonant or at the end
/// is ん, `-` is ー.
pub fn romaji_to_hiragana(text: &str) -> Option<String> {
    let s = text.as_bytes();
    if s.is_empty() || !s.iter().all(|b| b.is_ascii_lowercase() || *b == b'-') {
        return None;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == b'-' {
            out.push('ー');
            i += 1;
            continue;
        }
        if c != b'n' && !b"aiueo".contains(&c) && next == Some(c) {
            out.push('っ');
            i += 1;
            continue;
        }
        if c == b't' && next == Some(b'c') {
            out.push('っ');
            i += 1;
            continue;
        }
        if c == b'n' && next == Some(b'n') {
            // "nn" is ん; before a vowel or y the second n starts the next syllable.
            let after = s.get(i + 2).copied();
            out.push('ん');
            i += if after.is_some_and(|a| b"aiueoy".contains(&a)) {
                1
            } else {
                2
            };
            continue;
        }
        if c == b'n' && next.is_none_or(|n| !b"aiueoy".contains(&n)) {
            out.push('ん');
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let (romaji, kana) = SYLLABLES.iter().find(|(r, _)| rest.starts_with(r))?;
        out.push_str(kana);
        i += romaji.len();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romaji_reads_as_kana() {
        for (romaji, kana) in [
            ("kekka", "けっか"),
            ("shinden", "しんでん"),
            ("kanja", "かんじゃ"),
            ("tenteki", "てんてき"),
            ("matcha", "まっちゃ"),
            ("shinnyuu", "しんにゅう"),
            ("re-za-", "れーざー"),
        ] {
            assert_eq!(
                romaji_to_hiragana(romaji).as_deref(),
                Some(kana),
                "{romaji}"
            );
        }
        assert_eq!(romaji_to_hiragana("mri"), None);
        assert_eq!(romaji_to_hiragana("ct"), None);
        assert_eq!(romaji_to_hiragana("結果"), None);
    }

    #[test]
    fn variants_cover_both_kana_scripts_and_romaji() {
        let v = query_variants(" ケッカ ");
        assert!(v.contains(&"けっか".to_owned()) && v.contains(&"ケッカ".to_owned()));
        let v = query_variants("Kekka");
        assert_eq!(v, ["kekka", "ケッカ", "けっか"]);
        assert_eq!(query_variants("ＭＲＩ"), ["mri"]);
        assert_eq!(query_variants("脳梗塞"), ["脳梗塞"]);
    }
}
