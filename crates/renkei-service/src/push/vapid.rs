//! The server's VAPID identity (RFC 8292): a P-256 key pair made once and kept sealed with
//! the master key, and the ES256 JWT each push carries, cached per push-service origin.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use renkei_store::blobs::BlobStore;
use renkei_store::{ServerKey, Store};

use crate::error::{ServiceError, ServiceResult};

/// The `server_keys` name of the VAPID key pair, and the label it is sealed under.
pub const KEY_NAME: &str = "vapid";

/// A JWT is signed for this long (RFC 8292 allows at most 24 hours).
const JWT_LIFETIME_SECS: u64 = 12 * 60 * 60;
/// A cached JWT is replaced once it has less than this left.
const JWT_REFRESH_LEFT_SECS: u64 = 6 * 60 * 60;

/// The key pair, the `sub` claim, and the JWTs signed so far.
pub struct Vapid {
    signing: SigningKey,
    /// Base64url of the uncompressed public point (65 bytes), as browsers take it.
    public_key: String,
    subject: String,
    cache: Mutex<HashMap<String, (String, u64)>>,
}

/// The public key of a secret scalar, base64url of its uncompressed point.
fn public_of(secret: &p256::SecretKey) -> String {
    URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes())
}

/// Loads the server's VAPID key pair, making and sealing it on first use.
pub async fn load_or_create(store: &Store, blobs: &BlobStore) -> ServiceResult<ServerKey> {
    if let Some(key) = store
        .server_key(KEY_NAME)
        .await
        .map_err(|e| ServiceError::internal(&e))?
    {
        return Ok(key);
    }
    let secret = loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| ServiceError::internal(&e))?;
        if let Ok(secret) = p256::SecretKey::from_slice(&seed) {
            break (seed, secret);
        }
    };
    let sealed = blobs
        .seal_secret(&secret.0, KEY_NAME)
        .map_err(|e| ServiceError::internal(&e))?;
    let made = ServerKey {
        key: sealed,
        public_key: public_of(&secret.1),
    };
    store
        .keep_server_key(KEY_NAME, &made)
        .await
        .map_err(|e| ServiceError::internal(&e))
}

impl Vapid {
    /// Opens the sealed key pair; `subject` is the `sub` claim (a `mailto:` or `https:` URI).
    pub fn open(blobs: &BlobStore, key: &ServerKey, subject: &str) -> ServiceResult<Vapid> {
        let seed = blobs
            .open_secret(&key.key, KEY_NAME)
            .map_err(|e| ServiceError::internal(&e))?;
        Self::from_secret(&seed, subject)
    }

    /// A key pair from its 32-byte secret scalar.
    pub fn from_secret(seed: &[u8; 32], subject: &str) -> ServiceResult<Vapid> {
        let secret = p256::SecretKey::from_slice(seed)
            .map_err(|_| ServiceError::internal(&"the VAPID key is not a P-256 scalar"))?;
        Ok(Vapid {
            public_key: public_of(&secret),
            signing: SigningKey::from(&secret),
            subject: subject.to_owned(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Base64url of the public key (uncompressed, 65 bytes).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a push to `origin` (`https://host[:port]`) at
    /// `now_secs`: `vapid t=<JWT>, k=<public key>`, the JWT reused while it has hours left.
    pub fn authorization(&self, origin: &str, now_secs: u64) -> String {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let jwt = match cache.get(origin) {
            Some((jwt, exp)) if *exp > now_secs + JWT_REFRESH_LEFT_SECS => jwt.clone(),
            _ => {
                let exp = now_secs + JWT_LIFETIME_SECS;
                let jwt = self.sign(origin, exp);
                cache.insert(origin.to_owned(), (jwt.clone(), exp));
                jwt
            }
        };
        format!("vapid t={jwt}, k={}", self.public_key)
    }

    /// An ES256 JWT `{aud, exp, sub}`.
    pub fn sign(&self, audience: &str, exp: u64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": exp, "sub": self.subject });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{claims}");
        let signature: Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    fn vapid() -> Vapid {
        Vapid::from_secret(&[7u8; 32], "mailto:admin@localhost").unwrap()
    }

    #[test]
    fn jwt_verifies_with_the_published_key_and_carries_the_claims() {
        let v = vapid();
        let jwt = v.sign("https://push.example", 1_000);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let public = URL_SAFE_NO_PAD.decode(v.public_key()).unwrap();
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 4);
        let key = VerifyingKey::from_sec1_bytes(&public).unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example");
        assert_eq!(claims["exp"], 1_000);
        assert_eq!(claims["sub"], "mailto:admin@localhost");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
    }

    #[test]
    fn jwt_is_cached_per_origin_and_renewed_well_before_expiry() {
        let v = vapid();
        let now = 1_800_000_000;
        let a = v.authorization("https://a.example", now);
        assert!(a.starts_with("vapid t="));
        assert!(a.ends_with(&format!(", k={}", v.public_key())));
        assert_eq!(a, v.authorization("https://a.example", now + 60));
        assert_ne!(a, v.authorization("https://b.example", now));
        let later = v.authorization("https://a.example", now + 7 * 3600);
        assert_ne!(a, later);
        let jwt = later
            .trim_start_matches("vapid t=")
            .split(',')
            .next()
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jwt.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        let exp = claims["exp"].as_u64().unwrap();
        assert!(exp <= now + 7 * 3600 + 24 * 3600);
    }
}
