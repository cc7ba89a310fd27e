//! RFC 8291 `aes128gcm` payload encryption on `ring`, which rustls already builds.
//!
//! Why not `web-push-native`'s own: it does the two P-256 operations per push (a fresh key
//! pair and the ECDH) in pure Rust, several times slower than ring's assembly. At the
//! benchmark's 1,800 pushes/s on two cores that difference is CPU taken from chat. The
//! steps below are the RFC's section 3.4 and 3.3 in order; `web-push-native::decrypt` (a
//! test dependency through the stand-in) opens what this seals.

use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// The record size written in the header: one record holds any payload we send (< 4 KiB).
const RECORD_SIZE: u32 = 4096;
/// The largest payload one record holds: the record less the tag (16) and delimiter (1).
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 17;

/// HMAC-SHA-256 of the parts, concatenated, under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Seals `payload` for the subscription whose public key is `ua_public` (an uncompressed
/// P-256 point, 65 bytes) and whose auth secret is `auth` (16 bytes). `None` when the key
/// is not a point on the curve or the payload does not fit one record.
pub fn seal(payload: &[u8], ua_public: &[u8], auth: &[u8]) -> Option<Vec<u8>> {
    if payload.len() > MAX_PAYLOAD || auth.len() != 16 {
        return None;
    }
    let rng = SystemRandom::new();
    let ephemeral = EphemeralPrivateKey::generate(&ECDH_P256, &rng).ok()?;
    let as_public = ephemeral.compute_public_key().ok()?;
    let as_public = as_public.as_ref();
    // 3.3: the input keying material, from the ECDH secret and the auth secret.
    let ikm = agree_ephemeral(
        ephemeral,
        &UnparsedPublicKey::new(&ECDH_P256, ua_public),
        |ecdh| {
            let prk_key = hmac_sha256(auth, &[ecdh]);
            hmac_sha256(&prk_key, &[b"WebPush: info\0", ua_public, as_public, &[1]])
        },
    )
    .ok()?;
    // 3.4 (RFC 8188): the content key and nonce, from a fresh salt.
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).ok()?;
    let prk = hmac_sha256(&salt, &[&ikm]);
    let cek = hmac_sha256(&prk, &[b"Content-Encoding: aes128gcm\0", &[1]]);
    let nonce = hmac_sha256(&prk, &[b"Content-Encoding: nonce\0", &[1]]);
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek[..16]).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce[..12]).ok()?;

    // The header (salt, record size, key id = our public key), then the one record: the
    // payload, the last-record delimiter 0x02, and the tag.
    let mut body = Vec::with_capacity(16 + 4 + 1 + as_public.len() + payload.len() + 17);
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(as_public);
    let header = body.len();
    let mut record = Vec::with_capacity(payload.len() + 17);
    record.extend_from_slice(payload);
    record.push(2);
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut record)
        .ok()?;
    body.truncate(header);
    body.extend_from_slice(&record);
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    fn receiver(seed: u8) -> (p256::SecretKey, Vec<u8>) {
        let secret = p256::SecretKey::from_slice(&[seed; 32]).unwrap();
        let public = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        (secret, public)
    }

    #[test]
    fn what_is_sealed_opens_with_the_receivers_keys() {
        let (secret, public) = receiver(7);
        let auth = [3u8; 16];
        let body = seal(b"{\"kind\":\"message\"}", &public, &auth).unwrap();
        let opened = web_push_native::decrypt(
            body,
            &secret,
            &web_push_native::Auth::clone_from_slice(&auth),
        )
        .unwrap();
        assert_eq!(opened, b"{\"kind\":\"message\"}");
    }

    #[test]
    fn a_wrong_auth_secret_or_key_cannot_open_it() {
        let (secret, public) = receiver(7);
        let body = seal(b"hello", &public, &[3u8; 16]).unwrap();
        let wrong_auth = web_push_native::Auth::clone_from_slice(&[4u8; 16]);
        assert!(web_push_native::decrypt(body.clone(), &secret, &wrong_auth).is_err());
        let (other, _) = receiver(8);
        let auth = web_push_native::Auth::clone_from_slice(&[3u8; 16]);
        assert!(web_push_native::decrypt(body, &other, &auth).is_err());
    }

    #[test]
    fn each_push_has_its_own_salt_and_key() {
        let (_, public) = receiver(7);
        let a = seal(b"same", &public, &[3u8; 16]).unwrap();
        let b = seal(b"same", &public, &[3u8; 16]).unwrap();
        assert_ne!(a[..16], b[..16], "salt");
        assert_ne!(a[21..86], b[21..86], "ephemeral key");
        assert_eq!(&a[16..20], &RECORD_SIZE.to_be_bytes());
        assert_eq!(a[20], 65);
    }

    #[test]
    fn a_bad_key_or_an_oversized_payload_is_refused() {
        let (_, public) = receiver(7);
        assert!(seal(b"x", &public[..64], &[3u8; 16]).is_none());
        let mut off_curve = public.clone();
        off_curve[64] ^= 1;
        assert!(seal(b"x", &off_curve, &[3u8; 16]).is_none());
        assert!(seal(b"x", &public, &[3u8; 15]).is_none());
        assert!(seal(&vec![b'a'; MAX_PAYLOAD + 1], &public, &[3u8; 16]).is_none());
        assert!(seal(&vec![b'a'; MAX_PAYLOAD], &public, &[3u8; 16]).is_some());
    }
}
