//! The user agent's half of RFC 8291 (Web Push message encryption): decrypt an `aes128gcm` body.
//!
//! Written here, from the RFCs, on purpose: the stand-in is the server's test peer, so it must
//! not share code with whatever the server encrypts with. If both used one library, a mistake in
//! it would pass both sides; two independent implementations cross-check each other, and this
//! one is pinned to the RFC 8291 section 5 example in the tests below.
//!
//! The body is one RFC 8188 record stream:
//! `salt (16) | rs (u32 BE) | idlen (1) | keyid (idlen) | records`, where for Web Push the key id
//! is the application server's ephemeral public key (65 bytes, uncompressed P-256) and there is
//! exactly one record (RFC 8291 section 4). Keys (RFC 8291 section 3.4, RFC 8188 section 2.2):
//!
//! ```text
//! ecdh_secret = ECDH(ua_private, as_public)
//! IKM   = HKDF(salt = auth_secret, ikm = ecdh_secret,
//!              info = "WebPush: info" 0x00 ua_public as_public, L = 32)
//! PRK   = HKDF-Extract(salt, IKM)
//! CEK   = HKDF-Expand(PRK, "Content-Encoding: aes128gcm" 0x00, 16)
//! NONCE = HKDF-Expand(PRK, "Content-Encoding: nonce" 0x00, 12)   (XOR the record number: 0)
//! ```
//!
//! A record's plaintext is `data | 0x02 | zero padding` for the last record (0x01 for others).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// Length of the salt that starts the header.
const SALT_LEN: usize = 16;
/// Length of an uncompressed P-256 point, the key id of a Web Push message.
const POINT_LEN: usize = 65;
/// The AES-GCM tag that ends every record.
const TAG_LEN: usize = 16;
/// salt + rs + idlen + keyid.
const HEADER_LEN: usize = SALT_LEN + 4 + 1 + POINT_LEN;

/// Why a body could not be decrypted: a person-readable reason, recorded by the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptError(pub String);

impl std::fmt::Display for DecryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecryptError {}

fn fail<T>(why: impl Into<String>) -> Result<T, DecryptError> {
    Err(DecryptError(why.into()))
}

/// Decrypts an `aes128gcm` Web Push body for the user agent holding `ua_private` and
/// `auth_secret`, and returns the plaintext without its delimiter and padding.
pub fn decrypt(
    body: &[u8],
    ua_private: &SecretKey,
    auth_secret: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    if body.len() < HEADER_LEN + TAG_LEN + 1 {
        return fail(format!(
            "body of {} bytes is shorter than a header and one record",
            body.len()
        ));
    }
    let salt = &body[..SALT_LEN];
    let rs = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let idlen = body[20] as usize;
    if idlen != POINT_LEN {
        return fail(format!(
            "key id of {idlen} bytes, expected the 65-byte sender key"
        ));
    }
    let as_public = PublicKey::from_sec1_bytes(&body[21..HEADER_LEN])
        .map_err(|_| DecryptError("key id is not a P-256 point".into()))?;
    let record = &body[HEADER_LEN..];
    // RFC 8188: rs counts the ciphertext of a record with its tag; below 18 nothing fits.
    if rs < TAG_LEN + 2 {
        return fail(format!("record size {rs} is below the minimum of 18"));
    }
    // RFC 8291 section 4: a push message is a single record.
    if record.len() > rs {
        return fail(format!(
            "{} bytes of records with a record size of {rs}: a push message must be one record",
            record.len()
        ));
    }

    let ua_public = ua_private.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ua_private.to_nonzero_scalar(), as_public.as_affine());

    let mut key_info = Vec::with_capacity(14 + 2 * POINT_LEN);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public.as_bytes());
    key_info.extend_from_slice(&body[21..HEADER_LEN]);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth_secret), shared.raw_secret_bytes().as_slice())
        .expand(&key_info, &mut ikm)
        .map_err(|_| DecryptError("HKDF for the input key failed".into()))?;

    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .and_then(|()| prk.expand(b"Content-Encoding: nonce\0", &mut nonce))
        .map_err(|_| DecryptError("HKDF for the content key failed".into()))?;
    // Record 0: the nonce XOR 0 is the nonce itself.

    let cipher = Aes128Gcm::new_from_slice(&cek)
        .map_err(|_| DecryptError("content key of the wrong length".into()))?;
    let mut plain = cipher
        .decrypt(Nonce::from_slice(&nonce), record)
        .map_err(|_| {
            DecryptError("AES-GCM authentication failed (wrong keys or a corrupted body)".into())
        })?;

    // Strip the padding (zeros), then the delimiter, which must be 0x02 for the last record.
    while plain.last() == Some(&0) {
        plain.pop();
    }
    match plain.pop() {
        Some(2) => Ok(plain),
        Some(1) => fail("the only record carries the delimiter of a non-final record (0x01)"),
        _ => fail("record without a padding delimiter"),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    // RFC 8291 section 5 (and Appendix A): the receiver's private key, its authentication
    // secret, and the complete encrypted message as the application server sent it.
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const MESSAGE: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn receiver() -> SecretKey {
        SecretKey::from_slice(&b64(UA_PRIVATE)).unwrap()
    }

    #[test]
    fn decrypts_the_rfc_8291_example() {
        let key = receiver();
        assert_eq!(
            key.public_key().to_encoded_point(false).as_bytes(),
            b64(UA_PUBLIC).as_slice(),
            "the example's public key belongs to its private key"
        );
        let plain = decrypt(&b64(MESSAGE), &key, &b64(AUTH)).unwrap();
        assert_eq!(plain, b"When I grow up, I want to be a watermelon");
    }

    #[test]
    fn refuses_a_wrong_auth_secret_or_a_flipped_byte() {
        let key = receiver();
        let mut auth = b64(AUTH);
        auth[0] ^= 1;
        assert!(decrypt(&b64(MESSAGE), &key, &auth).is_err());
        let mut body = b64(MESSAGE);
        let last = body.len() - 1;
        body[last] ^= 1;
        assert!(decrypt(&body, &key, &b64(AUTH)).is_err());
    }

    #[test]
    fn refuses_more_than_one_record() {
        let mut body = b64(MESSAGE);
        // rs = 18: the 41-byte message no longer fits one record.
        body[16..20].copy_from_slice(&18u32.to_be_bytes());
        let err = decrypt(&body, &receiver(), &b64(AUTH)).unwrap_err();
        assert!(err.0.contains("one record"), "{err}");
    }

    #[test]
    fn refuses_a_truncated_header() {
        assert!(decrypt(&b64(MESSAGE)[..50], &receiver(), &b64(AUTH)).is_err());
    }
}
