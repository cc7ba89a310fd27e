//! The grams a message is found by: its text folded (NFKC, lower case, katakana as hiragana),
//! then every character and every pair of neighbours. The store keys them (HMAC) before they
//! reach the database, so the index holds no readable text.
//!
//! Characters and pairs suit Japanese, which has no spaces between words: a query of one
//! character is looked up by that character, a longer one by all its pairs, and the bodies so
//! found are opened and checked for the whole folded query (pairs may occur apart).

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

use crate::kana::katakana_to_hiragana;

/// `text` as it is indexed and compared: NFKC, lower case, katakana as hiragana.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(katakana_to_hiragana)
        .collect()
}

/// Every distinct character and pair of neighbouring characters of folded `text`, in the
/// order they first occur; whitespace alone is no gram.
pub fn body_grams(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut push = |gram: String| {
        if !gram.chars().all(char::is_whitespace) && seen.insert(gram.clone()) {
            out.push(gram);
        }
    };
    for (i, c) in chars.iter().enumerate() {
        push(c.to_string());
        if let Some(next) = chars.get(i + 1) {
            push([*c, *next].iter().collect());
        }
    }
    out
}

/// The grams a body must hold to contain folded `query`: its one character, or its pairs
/// (none for a query of whitespace only).
pub fn query_grams(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    if chars.len() == 1 {
        return body_grams(folded);
    }
    let mut out: Vec<String> = chars
        .windows(2)
        .map(|w| w.iter().collect::<String>())
        .filter(|g| !g.chars().all(char::is_whitespace))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_fold_width_case_and_katakana() {
        assert_eq!(fold("ＭＲＩのケッカ"), "mriのけっか");
    }

    #[test]
    fn a_body_is_indexed_by_characters_and_pairs_once_each() {
        assert_eq!(body_grams("心筋心筋"), vec!["心", "心筋", "筋", "筋心"]);
        assert_eq!(body_grams("a b"), vec!["a", "a ", " b", "b"]);
    }

    #[test]
    fn every_gram_of_a_query_is_a_gram_of_a_body_containing_it() {
        let body = body_grams(&fold("急性心筋梗塞の患者"));
        for q in ["心", "心筋", "心筋梗塞", "の患者"] {
            let grams = query_grams(&fold(q));
            assert!(!grams.is_empty());
            assert!(grams.iter().all(|g| body.contains(g)), "{q}");
        }
        assert!(query_grams(" ").is_empty());
    }
}
