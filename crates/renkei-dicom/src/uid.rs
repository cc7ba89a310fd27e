//! Consistent UID replacement: `2.25.<128 bits of HMAC-SHA256(org secret, original UID)>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `message` under `key`.
pub(crate) fn keyed_hash(key: &[u8; 32], message: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail for a 32-byte key.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    for part in message {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The replacement for `original`: the same original and secret give the same UID, always.
///
/// Padding (trailing NUL or space) is ignored. The result is a valid UID of at most 44 characters
/// under the `2.25` root (UUID-derived UIDs, PS3.5 B.2), the decimal of the first 128 bits of
/// HMAC-SHA256(`org_secret`, `original`).
pub fn remap_uid(org_secret: &[u8; 32], original: &str) -> String {
    let trimmed = original.trim_end_matches(['\0', ' ']).trim_start();
    uid_of(&keyed_hash(org_secret, &[trimmed.as_bytes()]))
}

/// The SOP Instance UID of an instance derived from `original` by `derivation` (e.g. a
/// redaction and its rectangles), under the `2.25` root like [`remap_uid`] but never equal to
/// a remapped UID: the same original, derivation and secret give the same UID, so a derivation
/// repeated after a failure makes the same instance again (a resend), not a second one.
pub fn derived_uid(org_secret: &[u8; 32], original: &str, derivation: &str) -> String {
    let trimmed = original.trim_end_matches(['\0', ' ']).trim_start();
    let parts: [&[u8]; 4] = [
        b"derived\0",
        trimmed.as_bytes(),
        b"\0",
        derivation.as_bytes(),
    ];
    uid_of(&keyed_hash(org_secret, &parts))
}

/// `2.25.` and the decimal of the digest's first 128 bits.
fn uid_of(digest: &[u8; 32]) -> String {
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    format!("2.25.{}", u128::from_be_bytes(first))
}

/// Whether `uid` is a syntactically valid UID (PS3.5 9.1): at most 64 characters, dot-separated
/// decimal components without leading zeros.
pub fn is_valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 64
        && uid.split('.').all(|component| {
            !component.is_empty()
                && component.bytes().all(|b| b.is_ascii_digit())
                && (component == "0" || !component.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7; 32];
    const OTHER: [u8; 32] = [8; 32];

    #[test]
    fn mapped_uids_are_valid_and_short() {
        let originals = [
            "1.2.840.113619.2.1.2411.1031152382.365.1.736169244",
            "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322",
            "2.25.340282366920938463463374607431768211455",
            "1",
            "",
        ];
        for original in originals {
            let mapped = remap_uid(&SECRET, original);
            assert!(is_valid_uid(&mapped), "{mapped}");
            assert!(mapped.len() <= 64, "{mapped}");
            assert!(mapped.starts_with("2.25."));
            assert_ne!(mapped, original);
        }
    }

    #[test]
    fn mapping_is_consistent_per_secret_and_differs_between_secrets() {
        let uid = "1.2.826.0.1.3680043.8.498.1";
        assert_eq!(remap_uid(&SECRET, uid), remap_uid(&SECRET, uid));
        assert_eq!(
            remap_uid(&SECRET, uid),
            remap_uid(&SECRET, "1.2.826.0.1.3680043.8.498.1\0")
        );
        assert_ne!(remap_uid(&SECRET, uid), remap_uid(&OTHER, uid));
        assert_ne!(
            remap_uid(&SECRET, uid),
            remap_uid(&SECRET, "1.2.826.0.1.3680043.8.498.2")
        );
    }

    #[test]
    fn the_mapping_is_the_documented_formula() {
        // HMAC-SHA256 with a 32-byte zero key over "1.2.3"; first 16 bytes as a big-endian u128.
        let digest = keyed_hash(&[0; 32], &[b"1.2.3"]);
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        let expected = format!("2.25.{}", u128::from_be_bytes(first));
        assert_eq!(remap_uid(&[0; 32], "1.2.3"), expected);
    }

    #[test]
    fn derived_uids_are_valid_new_and_repeatable() {
        let original = remap_uid(&SECRET, "1.2.3");
        let derived = derived_uid(&SECRET, &original, "redaction:0,0,10,10");
        assert!(is_valid_uid(&derived));
        assert_ne!(derived, original);
        assert_ne!(derived, remap_uid(&SECRET, &original));
        assert_eq!(
            derived,
            derived_uid(&SECRET, &original, "redaction:0,0,10,10")
        );
        assert_ne!(
            derived,
            derived_uid(&SECRET, &original, "redaction:0,0,10,11")
        );
        assert_ne!(
            derived,
            derived_uid(&OTHER, &original, "redaction:0,0,10,10")
        );
    }

    #[test]
    fn uid_syntax_check() {
        let cases = [
            ("1.2.3", true),
            ("1.02.3", false),
            ("1..3", false),
            ("1.2.a", false),
            ("0.1", true),
            ("", false),
        ];
        for (uid, valid) in cases {
            assert_eq!(is_valid_uid(uid), valid, "{uid}");
        }
        assert!(!is_valid_uid(&format!("1.{}", "2".repeat(63))));
    }
}
