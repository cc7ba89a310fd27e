//! A software passkey: a P-256 key that answers WebAuthn ceremonies as a browser with a
//! platform authenticator would (attestation "none", user verified, a counter that moves
//! on), built by hand so the tests need no authenticator library.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The setting that turns passkeys on for a test server: any port of `localhost`.
pub const PUBLIC_URL: (&str, &str) = ("RENKEI_PUBLIC_URL", "http://localhost");

/// Flags of authenticator data: user present, user verified, attested credential data.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// One credential on a software authenticator.
#[derive(Clone)]
pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the site gave at registration.
    user_handle: Vec<u8>,
    rp_id: String,
    /// The signature counter of the last answer.
    pub counter: u32,
    /// The page's origin the browser reports, e.g. `http://localhost:8080`.
    pub origin: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(value: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(value.as_str().expect("a base64url string"))
        .expect("base64url")
}

/// A CBOR head: major type and length.
fn head(out: &mut Vec<u8>, major: u8, len: usize) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | len as u8),
        24..=255 => out.extend([m | 24, len as u8]),
        _ => {
            out.push(m | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    head(out, 3, text.len());
    out.extend(text.as_bytes());
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    head(out, 2, bytes.len());
    out.extend(bytes);
}

impl SoftPasskey {
    /// A credential whose key and id derive from `seed`, used from the page at `origin`.
    pub fn new(seed: &str, origin: &str) -> SoftPasskey {
        let secret = Sha256::digest(format!("key:{seed}").as_bytes());
        SoftPasskey {
            key: SigningKey::from_slice(&secret).expect("a P-256 scalar"),
            credential_id: Sha256::digest(format!("id:{seed}").as_bytes()).to_vec(),
            user_handle: Vec::new(),
            rp_id: String::new(),
            counter: 0,
            origin: origin.to_owned(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": options["publicKey"]["challenge"],
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn auth_data(&self, flags: u8, counter: u32) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(counter.to_be_bytes());
        data
    }

    /// The public key as COSE (EC2, ES256, P-256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut out, point.x().unwrap());
        out.push(0x22);
        cbor_bytes(&mut out, point.y().unwrap());
        out
    }

    /// Answers `navigator.credentials.create({publicKey})` for these options (the server's
    /// `options`), as the browser's JSON.
    pub fn create(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        self.rp_id = public_key["rp"]["id"].as_str().unwrap().to_owned();
        self.user_handle = unb64(&public_key["user"]["id"]);
        let client_data = self.client_data("webauthn.create", options);
        let mut auth_data = self.auth_data(UP | UV | AT, self.counter);
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
            },
            "clientExtensionResults": {},
        })
    }

    /// Answers `navigator.credentials.get({publicKey})` with the counter moved on by one.
    pub fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.get_at(options, self.counter)
    }

    /// Answers with the signature counter `counter` (lower than before: a cloned device).
    pub fn get_at(&self, options: &Value, counter: u32) -> Value {
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.auth_data(UP | UV, counter);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}
