//! The organization's Patient ID rule: keep only the last N digit characters.

/// The last `digits` digit characters of `original`, in order; fewer if it has fewer.
///
/// `"ABC-001234567"` with 4 gives `"4567"`; `"12"` gives `"12"`; an ID without digits gives `""`.
/// Full-width digits (U+FF10..U+FF19, common in Japanese systems) count and come out as ASCII.
pub fn patient_id_tail(original: &str, digits: u8) -> String {
    let found: Vec<char> = original
        .chars()
        .rev()
        .filter_map(ascii_digit)
        .take(usize::from(digits))
        .collect();
    found.into_iter().rev().collect()
}

fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '\u{FF10}'..='\u{FF19}' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_n_digits() {
        let cases = [
            ("ABC-001234567", 4, "4567"),
            ("12", 4, "12"),
            ("", 4, ""),
            ("NO-DIGITS", 4, ""),
            ("12-34-56", 4, "3456"),
            ("98765", 0, ""),
            ("98765", 8, "98765"),
            ("P0012 ", 3, "012"),
            ("ＩＤ１２３４５", 4, "2345"),
        ];
        for (original, n, expected) in cases {
            assert_eq!(patient_id_tail(original, n), expected, "{original:?} {n}");
        }
    }
}
