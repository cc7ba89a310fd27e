//! JSON Web Tokens in their compact form: the payload as JSON, and a signature checked against
//! the provider's keys (for logout tokens, which the crate has no verifier for).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeySet};
use serde_json::{Map, Value};

/// The three parts of a compact JWT.
fn parts(jwt: &str) -> Option<[&str; 3]> {
    let mut it = jwt.split('.');
    let parts = [it.next()?, it.next()?, it.next()?];
    it.next().is_none().then_some(parts)
}

fn json_part(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The payload of `jwt`, as it says (not verified: read only what a verification also checks,
/// or after it).
pub fn payload(jwt: &str) -> Option<Map<String, Value>> {
    json_part(parts(jwt)?[1])
}

/// The payload of `jwt` when one of `keys` signed it with an asymmetric algorithm (`none` and
/// the HMAC ones are refused); `None` otherwise.
pub fn verified_payload(
    jwt: &str,
    keys: &JsonWebKeySet<CoreJsonWebKey>,
) -> Option<Map<String, Value>> {
    let [header, body, signature] = parts(jwt)?;
    let header = json_part(header)?;
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(header.get("alg")?.clone()).ok()?;
    if matches!(
        alg,
        CoreJwsSigningAlgorithm::None
            | CoreJwsSigningAlgorithm::HmacSha256
            | CoreJwsSigningAlgorithm::HmacSha384
            | CoreJwsSigningAlgorithm::HmacSha512
    ) {
        return None;
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let message = format!("{}.{body}", parts(jwt)?[0]);
    let signed = keys
        .keys()
        .iter()
        .filter(|key| kid.is_none() || key.key_id().map(|k| k.as_str()) == kid)
        .any(|key| {
            key.verify_signature(&alg, message.as_bytes(), &signature)
                .is_ok()
        });
    signed.then(|| json_part(body)).flatten()
}
