//! What a chosen password may not be: on the shipped list of common passwords, a trivial
//! pattern (one repeated run, a sequence, a keyboard walk), or mostly the user's login or name.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::DomainError;
use crate::validate;

/// Passwords attackers try first (`data/common-passwords.py` builds it).
const COMMON: &str = include_str!("../data/common-passwords.txt");

/// Fewest characters a password must keep once the login and name parts are taken out.
const MIN_REST: usize = 8;

/// Runs that keyboard walks and sequences are taken from (each also read backwards).
const WALKS: &[&str] = &[
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjklzxcvbnm",
    "qwertyuiopqwertyuiop",
    "asdfghjklasdfghjkl",
    "zxcvbnmzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
];

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// The same few characters over and over (`aaaaaaaaaa`, `abcabcabca`, `1212121212`).
fn repeats(chars: &[char]) -> bool {
    (1..=3).any(|period| {
        chars.len() > period * 2
            && chars
                .iter()
                .enumerate()
                .all(|(i, c)| *c == chars[i % period])
    })
}

/// A stretch of a sequence or keyboard row, forwards or backwards.
fn walk(text: &str) -> bool {
    WALKS.iter().any(|run| {
        let back: String = run.chars().rev().collect();
        run.contains(text) || back.contains(text)
    })
}

/// Whether `password` (any case, spaces ignored) is common or trivial.
pub fn too_common(password: &str) -> bool {
    let folded: String = password
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let chars: Vec<char> = folded.chars().collect();
    common().contains(folded.as_str()) || repeats(&chars) || walk(&folded)
}

/// What is left of `password` (lower case) with every `part` of at least `min` characters
/// taken out, without spaces and separators.
fn rest_without(password: &str, parts: &[&str]) -> usize {
    let mut rest = password.to_lowercase();
    for part in parts {
        let part = part.to_lowercase();
        let long_enough = if part.is_ascii() {
            part.chars().count() >= 3
        } else {
            part.chars().count() >= 2
        };
        if long_enough {
            rest = rest.replace(&part, "");
        }
    }
    rest.chars().filter(|c| c.is_alphanumeric()).count()
}

/// Checks a password a user chooses: length, then not common, then not mostly their login or
/// their name (`names`: display name, kana, romaji; each word counts).
pub fn check(password: &str, login: &str, names: &[&str]) -> Result<(), DomainError> {
    validate::password(password)?;
    if too_common(password) {
        return Err(DomainError::invalid(
            "password_too_common",
            "this password is on the list of common passwords or is a simple pattern; choose another",
        ));
    }
    if rest_without(password, &[login]) < MIN_REST {
        return Err(DomainError::invalid(
            "password_contains_login",
            "the password is mostly your login; choose another",
        ));
    }
    let words: Vec<&str> = names
        .iter()
        .flat_map(|n| n.split(|c: char| c.is_whitespace() || c == '\u{3000}'))
        .chain(names.iter().copied())
        .collect();
    if rest_without(password, &words) < MIN_REST {
        return Err(DomainError::invalid(
            "password_contains_name",
            "the password is mostly your name; choose another",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(password: &str) -> Option<&'static str> {
        check(
            password,
            "tanaka",
            &["田中 一郎", "たなか いちろう", "Tanaka Ichiro"],
        )
        .err()
        .map(|e| e.code())
    }

    #[test]
    fn the_list_holds_a_few_thousand_entries() {
        assert!(common().len() > 3000, "{}", common().len());
        assert!(common().contains("password12"));
    }

    #[test]
    fn common_passwords_and_trivial_patterns_are_refused() {
        for weak in [
            "aaaaaaaaaa",
            "1234567890",
            "password12",
            "Password123",
            "QWERTYUIOP",
            "0987654321",
            "abcabcabcabc",
            "1212121212",
            "zyxwvutsrq",
            "1q2w3e4r5t",
        ] {
            assert_eq!(code(weak), Some("password_too_common"), "{weak}");
        }
    }

    #[test]
    fn passwords_that_are_mostly_the_login_or_name_are_refused() {
        assert_eq!(code("tanaka-0401!"), Some("password_contains_login"));
        assert_eq!(code("TANAKA-tanaka"), Some("password_contains_login"));
        assert_eq!(code("ichiro-1985"), Some("password_contains_name"));
        assert_eq!(code("田中一郎田中一郎12"), Some("password_contains_name"));
    }

    #[test]
    fn ordinary_passphrases_pass() {
        for fine in [
            "kiwi lantern harbor 7",
            "tanaka-password-2026-blue",
            "user password 2026",
            "my cat eats rice at 9",
        ] {
            assert_eq!(code(fine), None, "{fine}");
        }
        assert_eq!(code("short"), Some("weak_password"));
    }
}
