//! Kana readings to Hepburn romaji, so a name can be found by its Latin spelling.

/// Hepburn romaji for each hiragana, indexed from U+3041 (ぁ) to U+3096 (ゖ).
const HIRAGANA: [&str; 86] = [
    "a", "a", "i", "i", "u", "u", "e", "e", "o", "o", // ぁあぃいぅうぇえぉお
    "ka", "ga", "ki", "gi", "ku", "gu", "ke", "ge", "ko",
    "go", // かがきぎくぐけげこご
    "sa", "za", "shi", "ji", "su", "zu", "se", "ze", "so",
    "zo", // さざしじすずせぜそぞ
    "ta", "da", "chi", "ji", "", "tsu", "zu", "te", "de", "to",
    "do", // ただちぢっつづてでとど
    "na", "ni", "nu", "ne", "no", // なにぬねの
    "ha", "ba", "pa", "hi", "bi", "pi", "fu", "bu", "pu", "he", "be", "pe", "ho", "bo", "po", "ma",
    "mi", "mu", "me", "mo", // まみむめも
    "ya", "ya", "yu", "yu", "yo", "yo", // ゃやゅゆょよ
    "ra", "ri", "ru", "re", "ro", // らりるれろ
    "wa", "wa", "i", "e", "o", "n", "vu", "ka", "ke", // ゎわゐゑをんゔゕゖ
];

/// Lower-case Hepburn romaji of a kana reading; other characters pass through lower-cased.
/// Long-vowel marks are dropped, as people type names without them: とうきょう → toukyou.
pub fn to_romaji(reading: &str) -> String {
    let kana: Vec<char> = reading.chars().map(katakana_to_hiragana).collect();
    let mut out = String::with_capacity(reading.len() * 2);
    let mut double_next = false;
    let mut i = 0;
    while i < kana.len() {
        let c = kana[i];
        let Some(base) = syllable(c) else {
            if c != 'ー' {
                out.extend(c.to_lowercase());
            }
            i += 1;
            continue;
        };
        if c == 'っ' {
            double_next = true;
            i += 1;
            continue;
        }
        let mut romaji = base.to_owned();
        let small_y = kana.get(i + 1).copied().filter(|&n| is_small_y(n));
        if let (Some(small), Some(stem)) = (small_y, romaji.strip_suffix('i')) {
            let glide = syllable(small).unwrap_or("ya");
            romaji = match stem {
                "sh" | "ch" | "j" => format!("{stem}{}", &glide[1..]),
                _ => format!("{stem}{glide}"),
            };
            i += 1;
        }
        if double_next {
            let first = if romaji.starts_with("ch") {
                't'
            } else {
                romaji.chars().next().unwrap_or_default()
            };
            if !"aiueon".contains(first) {
                out.push(first);
            }
            double_next = false;
        }
        out.push_str(&romaji);
        i += 1;
    }
    out
}

/// A katakana letter as hiragana; anything else unchanged.
pub fn katakana_to_hiragana(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// A hiragana letter as katakana; anything else unchanged.
pub fn hiragana_to_katakana(c: char) -> char {
    match c {
        'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

fn syllable(c: char) -> Option<&'static str> {
    let index = (c as u32).checked_sub(0x3041)? as usize;
    HIRAGANA.get(index).copied()
}

fn is_small_y(c: char) -> bool {
    matches!(c, 'ゃ' | 'ゅ' | 'ょ')
}

#[cfg(test)]
mod tests {
    use super::to_romaji;

    #[test]
    fn names_in_hiragana_and_katakana() {
        assert_eq!(to_romaji("たなか いちろう"), "tanaka ichirou");
        assert_eq!(to_romaji("サトウ ハナコ"), "satou hanako");
        assert_eq!(to_romaji("しょうじ"), "shouji");
        assert_eq!(to_romaji("きょうこ"), "kyouko");
        assert_eq!(to_romaji("はっとり"), "hattori");
        assert_eq!(to_romaji("まっちゃ"), "matcha");
        assert_eq!(to_romaji("じゅん"), "jun");
        assert_eq!(to_romaji("ふじた"), "fujita");
        assert_eq!(to_romaji("ロー"), "ro");
    }

    #[test]
    fn latin_passes_through_lower_cased() {
        assert_eq!(to_romaji("Smith ジョン"), "smith jon");
    }
}
