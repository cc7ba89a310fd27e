//! Field validation shared by every entity: names, logins, contact details, secrets.

use crate::DomainError;

/// Longest display name, organization or department name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A trimmed, non-empty name of at most [`MAX_NAME_CHARS`] with no control characters, in
/// NFC and without bidi or zero-width characters ([`crate::text::clean_name`]).
pub fn name(field: &'static str, value: &str) -> Result<String, DomainError> {
    let cleaned = crate::text::clean_name(value);
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(
            "invalid_name",
            format!("{field} must not be empty"),
        ));
    }
    optional_text(field, trimmed, MAX_NAME_CHARS).map(str::to_owned)
}

/// Free text of at most `max` characters with no control characters (may be empty).
pub fn optional_text<'a>(
    field: &'static str,
    value: &'a str,
    max: usize,
) -> Result<&'a str, DomainError> {
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            "value_too_long",
            format!("{field} is longer than {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "invalid_characters",
            format!("{field} contains control characters"),
        ));
    }
    Ok(value)
}

/// Optional name-like text (a reading, a romaji form): cleaned like a name, trimmed, at most
/// `max` characters with no control characters; may be empty.
pub fn name_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let cleaned = crate::text::clean_name(value);
    optional_text(field, cleaned.trim(), max).map(str::to_owned)
}

/// A login: 2–64 characters of ASCII letters, digits and `.`, `_`, `-`, `@`; stored lower-case.
pub fn login(value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !(2..=64).contains(&value.len()) || !ok_chars {
        return Err(DomainError::invalid(
            "invalid_login",
            "login must be 2-64 characters of letters, digits, '.', '_', '-' or '@'",
        ));
    }
    Ok(value.to_ascii_lowercase())
}

/// An organization slug: 2–63 characters of lower-case ASCII letters, digits and inner `-`.
pub fn slug(value: &str) -> Result<String, DomainError> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !(2..=63).contains(&value.len())
        || !ok_chars
        || value.starts_with('-')
        || value.ends_with('-')
    {
        return Err(DomainError::invalid(
            "invalid_slug",
            "slug must be 2-63 characters of a-z, 0-9 and inner '-'",
        ));
    }
    Ok(value.to_owned())
}

/// A slug derived from a name's ASCII letters and digits; `None` when too little is left.
pub fn slug_from_name(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(63).collect();
    slug(out.trim_end_matches('-')).ok()
}

/// An e-mail address: one `@` with text on both sides, at most 254 characters.
pub fn email(value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(value.split_once('@'), Some((user, host)) if !user.is_empty() && host.contains('.') && !host.contains('@'));
    if !valid {
        return Err(DomainError::invalid(
            "invalid_email",
            "email must look like name@hospital.example",
        ));
    }
    Ok(value.to_owned())
}

/// Words that may label an extension or a hospital handset: "内線 4321", "PHS 1234",
/// "03-1234-5678 ext. 12". Each must be followed by digits.
const PHONE_LABELS: [&str; 5] = ["内線", "PHS", "ext.", "ext", "x"];

/// A phone number or extension: digits with `+`, `-`, spaces and parentheses, and the labels
/// of [`PHONE_LABELS`] before digits; at most 32 characters.
pub fn phone(value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if !phone_is_valid(value) {
        return Err(DomainError::invalid(
            "invalid_phone",
            "phone must be digits with optional + - ( ) and spaces, or an extension such as 内線 4321 or PHS 1234, at most 32 characters",
        ));
    }
    Ok(value.to_owned())
}

fn phone_is_valid(value: &str) -> bool {
    if value.is_empty() || value.chars().count() > 32 {
        return false;
    }
    let mut digits = false;
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        let label = PHONE_LABELS.iter().find(|l| {
            rest.get(..l.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(l))
        });
        if let Some(label) = label {
            rest = &rest[label.len()..];
            let after = rest.trim_start_matches([' ', '\u{3000}']);
            if !after.starts_with(|c: char| c.is_ascii_digit()) {
                return false;
            }
            rest = after;
            continue;
        }
        if c.is_ascii_digit() {
            digits = true;
        } else if !matches!(c, '+' | '-' | ' ' | '(' | ')' | '\u{3000}') {
            return false;
        }
        rest = &rest[c.len_utf8()..];
    }
    digits
}

/// A staff number: up to 32 ASCII letters, digits, `-`, `_` or `.`; blank means none.
pub fn staff_number(value: &str) -> Result<Option<String>, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if value.len() > 32 || !ok_chars {
        return Err(DomainError::invalid(
            "invalid_staff_number",
            "staff_number must be at most 32 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A password: 10 to 256 characters.
pub fn password(value: &str) -> Result<(), DomainError> {
    let n = value.chars().count();
    if !(10..=256).contains(&n) {
        return Err(DomainError::invalid(
            "weak_password",
            "password must be 10 to 256 characters",
        ));
    }
    Ok(())
}

/// A device passcode: 4 to 12 digits.
pub fn passcode(value: &str) -> Result<(), DomainError> {
    if !(4..=12).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::invalid(
            "invalid_passcode",
            "passcode must be 4 to 12 digits",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  田中 一郎 ").unwrap(), "田中 一郎");
        assert_eq!(name("name", "   ").unwrap_err().code(), "invalid_name");
        assert_eq!(
            name("name", &"あ".repeat(201)).unwrap_err().code(),
            "value_too_long"
        );
        assert_eq!(
            name("name", "a\u{0}b").unwrap_err().code(),
            "invalid_characters"
        );
        assert_eq!(
            name("name", "O'Brien; DROP TABLE").unwrap(),
            "O'Brien; DROP TABLE"
        );
    }

    #[test]
    fn logins_are_lower_case_ascii() {
        assert_eq!(login("Tanaka.I").unwrap(), "tanaka.i");
        assert!(login("田中").is_err());
        assert!(login("a b").is_err());
        assert!(login("x").is_err());
    }

    #[test]
    fn slugs_derive_from_ascii_names() {
        assert_eq!(
            slug_from_name("Oita University Hospital").as_deref(),
            Some("oita-university-hospital")
        );
        assert_eq!(slug_from_name("大分大学病院"), None);
        assert!(slug("-bad").is_err());
    }

    #[test]
    fn contact_details_are_checked() {
        assert!(email("a@b.jp").is_ok());
        assert!(email("no-at-sign").is_err());
        assert!(phone("+81 (97) 549-4411").is_ok());
        assert!(phone("call me").is_err());
    }

    #[test]
    fn phones_may_be_extensions() {
        for ok in [
            "内線 4321",
            "内線4321",
            "PHS 1234",
            "phs 1234",
            "03-1234-5678 内線 12",
            "0975-49-4411 ext. 12",
            "(097) 549-4411 x 7",
            "内線\u{3000}4321",
        ] {
            assert_eq!(phone(ok).as_deref(), Ok(ok), "{ok} is a phone");
        }
        for bad in [
            "内線",
            "内線 abc",
            "PHS",
            "tel 1234",
            "4321 まで",
            "03-1234-5678 内線",
            "ext 1 2 3; DROP",
            &format!("内線 {}", "1".repeat(30)),
        ] {
            assert!(phone(bad).is_err(), "{bad} is not a phone");
        }
    }

    #[test]
    fn staff_numbers_are_short_ascii_or_none() {
        assert_eq!(
            staff_number(" E-10234 ").unwrap().as_deref(),
            Some("E-10234")
        );
        assert_eq!(staff_number("  ").unwrap(), None);
        assert!(staff_number("職員1").is_err());
        assert!(staff_number(&"9".repeat(33)).is_err());
    }

    #[test]
    fn secrets_have_bounds() {
        assert!(password("short").is_err());
        assert!(password("long enough pw").is_ok());
        assert!(passcode("1234").is_ok());
        assert!(passcode("12a4").is_err());
        assert!(passcode("123").is_err());
    }
}
