//! RFC 8292 (VAPID) as a push service checks it: the `Authorization: vapid t=<JWT>, k=<key>`
//! header, the ES256 signature made with `k`, and the claims `aud`, `exp` and `sub`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

/// RFC 8292 section 2: `exp` must not be more than 24 hours after the request.
pub const MAX_EXP_AHEAD_SECONDS: u64 = 24 * 60 * 60;

/// The identity a valid header proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vapid {
    /// The application server's public key (`k`), base64url as sent.
    pub key: String,
    /// The JWT as sent (`t`).
    pub token: String,
    pub aud: String,
    pub exp: u64,
    pub sub: String,
}

/// Why a header was refused, and whether it is the key that does not match (403, RFC 8292
/// section 4.2) or anything else about the credentials (401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidError {
    pub forbidden: bool,
    pub reason: String,
}

impl std::fmt::Display for VapidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for VapidError {}

fn unauthorized<T>(reason: impl Into<String>) -> Result<T, VapidError> {
    Err(VapidError {
        forbidden: false,
        reason: reason.into(),
    })
}

/// Splits `vapid t=..., k=...` into the token and the key (parameters in either order).
pub fn parse_header(value: &str) -> Result<(String, String), VapidError> {
    let value = value.trim();
    let Some((scheme, params)) = value.split_once(char::is_whitespace) else {
        return unauthorized("Authorization is not 'vapid t=..., k=...'");
    };
    if !scheme.eq_ignore_ascii_case("vapid") {
        return unauthorized(format!("Authorization scheme '{scheme}', expected 'vapid'"));
    }
    let (mut t, mut k) = (None, None);
    for param in params.split(',') {
        let Some((name, val)) = param.trim().split_once('=') else {
            return unauthorized(format!(
                "Authorization parameter '{}' has no value",
                param.trim()
            ));
        };
        let val = val.trim().trim_matches('"').to_owned();
        match name.trim() {
            "t" => t = Some(val),
            "k" => k = Some(val),
            _ => {}
        }
    }
    match (t, k) {
        (Some(t), Some(k)) => Ok((t, k)),
        _ => unauthorized("Authorization lacks t= or k="),
    }
}

/// Checks the ES256 signature of `token` with the key `key` (base64url, uncompressed P-256).
pub fn verify_signature(token: &str, key: &str) -> Result<(), VapidError> {
    let key_bytes = URL_SAFE_NO_PAD.decode(key).map_err(|_| VapidError {
        forbidden: false,
        reason: "k is not unpadded base64url".into(),
    })?;
    if key_bytes.len() != 65 || key_bytes[0] != 4 {
        return unauthorized("k is not an uncompressed P-256 point (65 bytes, 0x04 first)");
    }
    let verifying = VerifyingKey::from_sec1_bytes(&key_bytes).map_err(|_| VapidError {
        forbidden: false,
        reason: "k is not a point on P-256".into(),
    })?;
    let Some((signing_input, signature)) = token.rsplit_once('.') else {
        return unauthorized("the JWT has no signature part");
    };
    let header: Value = json_part(signing_input.split('.').next().unwrap_or(""), "header")?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return unauthorized(format!("JWT alg {}, expected ES256", header["alg"]));
    }
    let sig = URL_SAFE_NO_PAD.decode(signature).map_err(|_| VapidError {
        forbidden: false,
        reason: "JWT signature is not base64url".into(),
    })?;
    // JWS ES256 (RFC 7518 section 3.4): r || s, 32 bytes each, not DER.
    let sig = Signature::from_slice(&sig).map_err(|_| VapidError {
        forbidden: false,
        reason: format!("JWT signature of {} bytes is not a 64-byte r||s", sig.len()),
    })?;
    verifying
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| VapidError {
            forbidden: false,
            reason: "JWT signature does not verify with k".into(),
        })
}

/// Checks the claims of an already signature-checked `token` against the endpoint's origin and
/// the current time (seconds since the Unix epoch).
pub fn check_claims(token: &str, key: &str, origin: &str, now: u64) -> Result<Vapid, VapidError> {
    let mut parts = token.split('.');
    let (Some(_), Some(claims), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return unauthorized("the JWT does not have three parts");
    };
    let claims: Value = json_part(claims, "claims")?;
    let Some(aud) = claims.get("aud").and_then(Value::as_str) else {
        return unauthorized("the JWT has no aud");
    };
    if aud != origin {
        return unauthorized(format!(
            "JWT aud '{aud}' is not the endpoint's origin '{origin}'"
        ));
    }
    let Some(exp) = claims.get("exp").and_then(Value::as_u64) else {
        return unauthorized("the JWT has no exp (a non-negative integer)");
    };
    if exp <= now {
        return unauthorized(format!("JWT exp {exp} is not after now ({now})"));
    }
    if exp - now > MAX_EXP_AHEAD_SECONDS {
        return unauthorized(format!("JWT exp is {} s ahead, more than 24 h", exp - now));
    }
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return unauthorized("the JWT has no sub");
    };
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return unauthorized(format!(
            "JWT sub '{sub}' is neither a mailto: nor an https: URL"
        ));
    }
    Ok(Vapid {
        key: key.to_owned(),
        token: token.to_owned(),
        aud: aud.to_owned(),
        exp,
        sub: sub.to_owned(),
    })
}

/// The key check of a restricted subscription (RFC 8292 section 4.2): 403 when it differs.
pub fn check_key(key: &str, expected: Option<&str>) -> Result<(), VapidError> {
    match expected {
        Some(expected) if expected != key => Err(VapidError {
            forbidden: true,
            reason: format!("k {key} is not the expected application server key {expected}"),
        }),
        _ => Ok(()),
    }
}

fn json_part(part: &str, what: &str) -> Result<Value, VapidError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| VapidError {
        forbidden: false,
        reason: format!("JWT {what} is not unpadded base64url"),
    })?;
    serde_json::from_slice(&bytes).map_err(|_| VapidError {
        forbidden: false,
        reason: format!("JWT {what} is not JSON"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use serde_json::json;

    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:4000";
    const NOW: u64 = 1_800_000_000;

    /// A fixed application server key for the tests.
    pub(crate) fn server_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    pub(crate) fn public_b64(key: &SigningKey) -> String {
        URL_SAFE_NO_PAD.encode(key.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// Signs `claims` as an ES256 JWT, the way an application server does.
    pub(crate) fn sign(key: &SigningKey, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{body}");
        let sig: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn verify(token: &str, key: &str) -> Result<Vapid, VapidError> {
        verify_signature(token, key)?;
        check_claims(token, key, ORIGIN, NOW)
    }

    fn good_claims() -> Value {
        json!({"aud": ORIGIN, "exp": NOW + 12 * 3600, "sub": "mailto:admin@localhost"})
    }

    #[test]
    fn accepts_a_good_token() {
        let key = server_key(7);
        let vapid = verify(&sign(&key, &good_claims()), &public_b64(&key)).unwrap();
        assert_eq!(vapid.aud, ORIGIN);
        assert_eq!(vapid.sub, "mailto:admin@localhost");
    }

    #[test]
    fn rejects_a_signature_by_another_key() {
        let token = sign(&server_key(7), &good_claims());
        let err = verify(&token, &public_b64(&server_key(8))).unwrap_err();
        assert!(err.reason.contains("does not verify"), "{err}");
        // A tampered claim breaks the signature too.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD
            .encode(json!({"aud": ORIGIN, "exp": NOW + 60, "sub": "mailto:x@y"}).to_string());
        let err = verify(&parts.join("."), &public_b64(&server_key(7))).unwrap_err();
        assert!(err.reason.contains("does not verify"), "{err}");
    }

    #[test]
    fn rejects_a_wrong_aud() {
        let key = server_key(7);
        for aud in [
            "http://127.0.0.1",
            "http://127.0.0.1:4000/push/abc",
            "https://127.0.0.1:4000",
        ] {
            let mut claims = good_claims();
            claims["aud"] = json!(aud);
            let err = verify(&sign(&key, &claims), &public_b64(&key)).unwrap_err();
            assert!(err.reason.contains("aud"), "{aud}: {err}");
        }
    }

    #[test]
    fn rejects_an_exp_over_24_hours_or_past() {
        let key = server_key(7);
        for exp in [NOW + MAX_EXP_AHEAD_SECONDS + 1, NOW, NOW - 10] {
            let mut claims = good_claims();
            claims["exp"] = json!(exp);
            let err = verify(&sign(&key, &claims), &public_b64(&key)).unwrap_err();
            assert!(err.reason.contains("exp"), "{exp}: {err}");
        }
        let mut claims = good_claims();
        claims["exp"] = json!(NOW + MAX_EXP_AHEAD_SECONDS);
        verify(&sign(&key, &claims), &public_b64(&key)).unwrap();
    }

    #[test]
    fn rejects_a_missing_or_bad_sub() {
        let key = server_key(7);
        let mut claims = good_claims();
        claims.as_object_mut().unwrap().remove("sub");
        let err = verify(&sign(&key, &claims), &public_b64(&key)).unwrap_err();
        assert!(err.reason.contains("no sub"), "{err}");
        claims["sub"] = json!("admin@localhost");
        let err = verify(&sign(&key, &claims), &public_b64(&key)).unwrap_err();
        assert!(err.reason.contains("sub"), "{err}");
        claims["sub"] = json!("https://hospital.example/contact");
        verify(&sign(&key, &claims), &public_b64(&key)).unwrap();
    }

    #[test]
    fn parses_the_header_and_checks_the_expected_key() {
        let (t, k) = parse_header("vapid t=a.b.c, k=KEY").unwrap();
        assert_eq!((t.as_str(), k.as_str()), ("a.b.c", "KEY"));
        let (t, k) = parse_header("vapid k=KEY,t=a.b.c").unwrap();
        assert_eq!((t.as_str(), k.as_str()), ("a.b.c", "KEY"));
        assert!(parse_header("WebPush a.b.c").is_err());
        assert!(parse_header("vapid t=a.b.c").is_err());
        assert!(check_key("A", Some("B")).unwrap_err().forbidden);
        assert!(check_key("A", Some("A")).is_ok());
        assert!(check_key("A", None).is_ok());
    }
}
