//! The browser's side of a subscription: a P-256 key pair and a 16-byte auth secret, and the
//! JSON that `PushSubscription.toJSON()` gives the application.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

use crate::StandIn;

/// Fills `buf` from the operating system's generator.
pub(crate) fn random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random generator");
}

/// A random id of `bytes` bytes, base64url.
pub(crate) fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    random(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A browser's push subscription: what the user agent keeps (private key, auth secret) and, once
/// bound to a stand-in, its endpoint there.
#[derive(Clone)]
pub struct Subscriber {
    id: String,
    private: SecretKey,
    auth: [u8; 16],
    endpoint: OnceLock<String>,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Default for Subscriber {
    fn default() -> Self {
        Self::new()
    }
}

impl Subscriber {
    /// A new subscription with a fresh key pair, auth secret and endpoint id.
    pub fn new() -> Self {
        let private = loop {
            let mut bytes = [0u8; 32];
            random(&mut bytes);
            // Fails only for zero or a value at or above the group order: draw again.
            if let Ok(key) = SecretKey::from_slice(&bytes) {
                break key;
            }
        };
        let mut auth = [0u8; 16];
        random(&mut auth);
        Self::from_parts(random_id(18), private, auth)
    }

    /// A subscription from known parts (the RFC 8291 example's keys, a key file).
    pub fn from_parts(id: String, private: SecretKey, auth: [u8; 16]) -> Self {
        Self {
            id,
            private,
            auth,
            endpoint: OnceLock::new(),
        }
    }

    /// The endpoint id: the last path segment of the endpoint URL.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Registers this subscription with `standin` (so that it can decrypt what arrives) and gives
    /// its endpoint URL there, `<origin>/push/<id>`. The first stand-in it is bound to stays its
    /// endpoint for [`Subscriber::subscription_json`].
    pub fn endpoint(&self, standin: &StandIn) -> String {
        let url = standin.register(self);
        self.endpoint.get_or_init(|| url.clone());
        url
    }

    /// `p256dh`: the public key, uncompressed point, base64url without padding.
    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.private.public_key().to_encoded_point(false).as_bytes())
    }

    /// `auth`: the 16-byte authentication secret, base64url without padding.
    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }

    pub(crate) fn private_key(&self) -> &SecretKey {
        &self.private
    }

    pub(crate) fn auth_secret(&self) -> [u8; 16] {
        self.auth
    }

    /// Exactly what a browser's `PushSubscription.toJSON()` returns:
    /// `{"endpoint", "expirationTime": null, "keys": {"p256dh", "auth"}}`.
    ///
    /// # Panics
    /// When [`Subscriber::endpoint`] was not called first (the subscription has no endpoint).
    pub fn subscription_json(&self) -> Value {
        let endpoint = self
            .endpoint
            .get()
            .expect("call Subscriber::endpoint(&standin) before subscription_json()");
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {"p256dh": self.p256dh(), "auth": self.auth()},
        })
    }
}
