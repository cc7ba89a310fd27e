//! Invisible-character cleaning for names, titles and message bodies (no bidi spoofing).
//!
//! A right-to-left override (U+202E) makes `txt.exe` read as `exe.txt`, and zero-width
//! characters make two names that look the same differ. Names and titles lose every such
//! character (the rule file names follow); message bodies keep line breaks and the zero-width
//! joiner inside emoji sequences (👩‍⚕️ is one picture), and lose the rest.

use unicode_normalization::UnicodeNormalization;

/// Bidirectional marks, embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Zero-width space, non-joiner and joiner, word joiner, byte order mark.
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Any character a name or title must not carry unseen: bidi controls, zero-width characters,
/// line and paragraph separators.
fn is_invisible_in_name(c: char) -> bool {
    is_bidi_control(c) || is_zero_width(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A name or title in NFC without bidi controls, zero-width characters or line separators
/// (control characters stay, for the validator to refuse).
pub fn clean_name(value: &str) -> String {
    value.nfc().filter(|c| !is_invisible_in_name(*c)).collect()
}

/// A message body without bidi controls or zero-width characters, except a zero-width joiner
/// between two emoji (family, profession and flag sequences); everything else is unchanged.
pub fn neutralise_body(body: &str) -> String {
    if !body.chars().any(|c| is_bidi_control(c) || is_zero_width(c)) {
        return body.to_owned();
    }
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len());
    for (i, &c) in chars.iter().enumerate() {
        let joins_emoji = c == '\u{200D}'
            && i > 0
            && is_emoji_part(chars[i - 1])
            && chars.get(i + 1).is_some_and(|n| is_emoji_part(*n));
        if joins_emoji || !(is_bidi_control(c) || is_zero_width(c)) {
            out.push(c);
        }
    }
    out
}

/// Pictographs, skin tones, the emoji variation selector and the symbols emoji sequences use.
fn is_emoji_part(c: char) -> bool {
    matches!(
        c,
        '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{2300}'..='\u{23FF}'
            | '\u{2B00}'..='\u{2BFF}' | '\u{FE0F}' | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_every_invisible_character() {
        assert_eq!(clean_name("田中\u{202E}一郎"), "田中一郎");
        assert_eq!(clean_name("\u{2066}admin\u{2069}"), "admin");
        assert_eq!(clean_name("ta\u{200B}naka\u{FEFF}"), "tanaka");
        assert_eq!(clean_name("a\u{200D}b\u{200C}c\u{2060}d"), "abcd");
        assert_eq!(clean_name("line\u{2028}break"), "linebreak");
        assert_eq!(clean_name("\u{200E}\u{200F}\u{061C}x"), "x");
    }

    #[test]
    fn names_are_composed_and_otherwise_kept() {
        // Decomposed が (か + combining dakuten) becomes one character.
        assert_eq!(clean_name("か\u{3099}"), "が");
        assert_eq!(clean_name("循環器内科 (第2)"), "循環器内科 (第2)");
        assert_eq!(
            clean_name("tab\there"),
            "tab\there",
            "controls are the validator's"
        );
    }

    #[test]
    fn bodies_lose_overrides_and_zero_width_characters() {
        assert_eq!(
            neutralise_body("see file \u{202E}gpj.exe"),
            "see file gpj.exe"
        );
        assert_eq!(
            neutralise_body("\u{202A}\u{202B}\u{202C}\u{202D}\u{2066}\u{2067}\u{2068}\u{2069}ok"),
            "ok"
        );
        assert_eq!(neutralise_body("zero\u{200B}width\u{FEFF}"), "zerowidth");
        assert_eq!(
            neutralise_body("a\u{200D}b"),
            "ab",
            "a joiner between letters goes"
        );
    }

    #[test]
    fn bodies_keep_emoji_sequences_and_line_breaks() {
        let health_worker = "👩\u{200D}⚕\u{FE0F}";
        assert_eq!(neutralise_body(health_worker), health_worker);
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(neutralise_body(family), family);
        assert_eq!(neutralise_body("一行目\n二行目\t"), "一行目\n二行目\t");
        assert_eq!(
            neutralise_body("👍\u{200D}"),
            "👍",
            "a dangling joiner goes"
        );
    }
}
