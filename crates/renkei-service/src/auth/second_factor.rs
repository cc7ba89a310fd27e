//! The second factor: new TOTP secrets sealed with the master key, recovery codes, and
//! checking what a user typed against both.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::totp::{self, SECRET_BYTES};
use renkei_core::user::User;
use renkei_store::blobs::{BlobStore, WrappedKey};
use renkei_store::{Proof, SecondFactor, Store};
use sha2::{Digest, Sha256};

use crate::error::{OrService, ServiceError};

/// Recovery codes handed out at enrollment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (lower-case letters and digits without 0/o, 1/l/i): 16 of
/// 31 symbols, about 79 bits, so a plain SHA-256 keeps them.
const RECOVERY_CODE_CHARS: usize = 16;
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What the master key seals, bound to the user: a secret moved to another user does not open.
fn label(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// An administrator's reset (API or command line; `actor` is `None` for the latter): the
/// authenticator and recovery codes are forgotten and every session of the user ends.
pub async fn reset(store: &Store, actor: Option<Uuid>, user: &User) -> Result<(), ServiceError> {
    let event = AuditEvent::new(
        "user.second_factor_reset",
        Some(user.org_id),
        actor,
        "user",
        Some(user.id),
    );
    store
        .reset_second_factor(user.id, &event)
        .await
        .or_service("user_not_found")
}

/// A new secret for `user_id`: the clear 20 bytes and their sealed form for the store. The
/// key ring seals 32 bytes; the secret is the first 20 of them.
pub fn new_secret(
    blobs: &BlobStore,
    user_id: Uuid,
) -> Result<([u8; SECRET_BYTES], WrappedKey), ServiceError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| ServiceError::internal(&e))?;
    let sealed = blobs
        .seal_secret(&seed, &label(user_id))
        .map_err(|e| ServiceError::internal(&e))?;
    Ok((secret_of(&seed), sealed))
}

/// Opens the secret of an enrollment.
pub fn open_secret(
    blobs: &BlobStore,
    user_id: Uuid,
    factor: &SecondFactor,
) -> Result<[u8; SECRET_BYTES], ServiceError> {
    let seed = blobs
        .open_secret(&factor.key, &label(user_id))
        .map_err(|e| ServiceError::internal(&e))?;
    Ok(secret_of(&seed))
}

fn secret_of(seed: &[u8; 32]) -> [u8; SECRET_BYTES] {
    let mut secret = [0u8; SECRET_BYTES];
    secret.copy_from_slice(&seed[..SECRET_BYTES]);
    secret
}

/// `RECOVERY_CODES` fresh codes, shown as `abcd-efgh-jkmn-pqrs`.
pub fn new_recovery_codes() -> Result<Vec<String>, ServiceError> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_CODE_CHARS];
            getrandom::fill(&mut bytes).map_err(|e| ServiceError::internal(&e))?;
            // 256 = 8 × 31 + 8: the bias of plain modulo is small and the codes stay long.
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| RECOVERY_ALPHABET[*b as usize % RECOVERY_ALPHABET.len()] as char)
                .collect();
            Ok(chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-"))
        })
        .collect()
}

/// The hash a recovery code is kept as: SHA-256 of the user id and the code without
/// separators, lower-case.
pub fn recovery_code_hash(user_id: Uuid, code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(format!("{user_id}:{normalized}").as_bytes()))
}

/// What a typed code is: a TOTP code of the current window (its step), a recovery code (its
/// hash), or neither (wrong).
pub enum Typed {
    Totp(Option<i64>),
    Recovery(String),
}

/// Reads what the user typed: six digits are a TOTP code, checked against `secret` now;
/// anything of a recovery code's length is a recovery code.
pub fn read_code(secret: &[u8], user_id: Uuid, code: &str, unix_seconds: i64) -> Typed {
    if totp::normalize_code(code).is_some() {
        return Typed::Totp(totp::matching_step(secret, code, unix_seconds));
    }
    let alnum = code.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    if alnum == RECOVERY_CODE_CHARS && code.len() <= 64 {
        return Typed::Recovery(recovery_code_hash(user_id, code));
    }
    Typed::Totp(None)
}

/// The proof a typed code makes, if it can be one.
pub fn proof(typed: &Typed) -> Option<Proof<'_>> {
    match typed {
        Typed::Totp(Some(step)) => Some(Proof::Step(*step)),
        Typed::Totp(None) => None,
        Typed::Recovery(hash) => Some(Proof::RecoveryCode(hash)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_distinct_readable_and_hash_without_separators() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 19);
            assert!(
                code.chars()
                    .all(|c| c == '-' || RECOVERY_ALPHABET.contains(&(c as u8)))
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let user = Uuid::nil();
        let code = &codes[0];
        let typed = code.replace('-', " ").to_uppercase();
        assert_eq!(
            recovery_code_hash(user, code),
            recovery_code_hash(user, &typed)
        );
        assert_ne!(
            recovery_code_hash(user, code),
            recovery_code_hash(Uuid::max(), code)
        );
    }

    #[test]
    fn six_digits_are_a_totp_code_sixteen_letters_a_recovery_code() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let code = totp::code_at_step(secret, totp::step_at(now));
        assert!(matches!(
            read_code(secret, Uuid::nil(), &code, now),
            Typed::Totp(Some(_))
        ));
        assert!(matches!(
            read_code(secret, Uuid::nil(), "000000", now + 3600),
            Typed::Totp(None)
        ));
        assert!(matches!(
            read_code(secret, Uuid::nil(), "abcd-efgh-jkmn-pqrs", now),
            Typed::Recovery(_)
        ));
        assert!(matches!(
            read_code(secret, Uuid::nil(), "abc", now),
            Typed::Totp(None)
        ));
    }
}
