//! One push request: the payload encrypted for the subscription (RFC 8291 `aes128gcm`),
//! POSTed with `TTL`, `Urgency`, `Topic` and the VAPID `Authorization`; the answer sorted
//! into accepted, gone, retry later, or failed.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use renkei_store::PushSubscription;
use reqwest::Url;
use reqwest::header::HeaderMap;

use super::vapid::Vapid;

/// How a push service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx (201 Created): the push service holds it for the device.
    Accepted,
    /// 404 or 410: the subscription is gone for good.
    Gone,
    /// 429 or 5xx, or no answer: try again, after this long if the service said.
    Retry(Option<Duration>),
    /// Any other refusal (400, 401, 403, 413, …): not worth retrying.
    Failed,
}

/// What one request carries besides the payload.
pub struct Request<'a> {
    pub ttl_seconds: u32,
    pub urgency: &'static str,
    pub topic: &'a str,
    pub payload: &'a [u8],
}

/// Sorts a status and its headers.
pub fn classify(status: u16, headers: &HeaderMap, now: SystemTime) -> Outcome {
    match status {
        200..=299 => Outcome::Accepted,
        404 | 410 => Outcome::Gone,
        429 | 500..=599 => Outcome::Retry(
            headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, now)),
        ),
        _ => Outcome::Failed,
    }
}

/// `Retry-After` as seconds or an HTTP date, as a wait from `now` (none for garbage; a
/// date in the past is no wait).
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The origin (`scheme://host[:port]`) of an endpoint: the JWT's audience.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The HTTP client and the server's VAPID identity.
pub struct Sender {
    client: reqwest::Client,
    pub vapid: Vapid,
}

impl Sender {
    pub fn new(vapid: Vapid) -> Sender {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Sender { client, vapid }
    }

    /// Encrypts and POSTs one push to `url` (already checked against the allow-list).
    pub async fn send(&self, sub: &PushSubscription, url: &Url, req: &Request<'_>) -> Outcome {
        let Some(body) = encrypt(sub, req.payload) else {
            return Outcome::Gone;
        };
        let now = SystemTime::now();
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let answer = self
            .client
            .post(url.clone())
            .header("TTL", req.ttl_seconds.to_string())
            .header("Urgency", req.urgency)
            .header("Topic", req.topic)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header(
                "Authorization",
                self.vapid.authorization(&origin(url), now_secs),
            )
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) => classify(response.status().as_u16(), response.headers(), now),
            Err(_) => Outcome::Retry(None),
        }
    }
}

/// The payload encrypted to the subscription's keys; `None` when its keys do not parse
/// (checked at registration, so only for a corrupted row).
pub fn encrypt(sub: &PushSubscription, payload: &[u8]) -> Option<Vec<u8>> {
    let (public, auth) = parse_keys(&sub.p256dh, &sub.auth)?;
    super::encrypt::seal(payload, &public, &auth)
}

/// A subscription's `p256dh` (an uncompressed P-256 point, 65 bytes) and `auth` (16 bytes),
/// from base64url; `None` unless the point is on the curve.
pub fn parse_keys(p256dh: &str, auth: &str) -> Option<(Vec<u8>, [u8; 16])> {
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok();
    let public = decode(p256dh)?;
    p256::PublicKey::from_sec1_bytes(&public).ok()?;
    if public.len() != 65 {
        return None;
    }
    let auth: [u8; 16] = decode(auth)?.try_into().ok()?;
    Some((public, auth))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn with_retry_after(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn statuses_sort_into_outcomes() {
        let now = SystemTime::now();
        let none = HeaderMap::new();
        assert_eq!(classify(201, &none, now), Outcome::Accepted);
        assert_eq!(classify(410, &none, now), Outcome::Gone);
        assert_eq!(classify(404, &none, now), Outcome::Gone);
        assert_eq!(classify(400, &none, now), Outcome::Failed);
        assert_eq!(classify(413, &none, now), Outcome::Failed);
        assert_eq!(classify(503, &none, now), Outcome::Retry(None));
        assert_eq!(
            classify(429, &with_retry_after("3"), now),
            Outcome::Retry(Some(Duration::from_secs(3)))
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn keys_must_be_a_point_and_sixteen_bytes() {
        let secret = p256::SecretKey::from_slice(&[9u8; 32]).unwrap();
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let point = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        assert!(parse_keys(&point, &auth).is_some());
        assert!(parse_keys(&point, &URL_SAFE_NO_PAD.encode([1u8; 15])).is_none());
        assert!(parse_keys("AAAA", &auth).is_none());
        assert!(parse_keys("not base64!", &auth).is_none());
    }

    #[test]
    fn encrypted_payload_opens_only_with_the_subscription_key() {
        let secret = p256::SecretKey::from_slice(&[9u8; 32]).unwrap();
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let sub = PushSubscription {
            id: renkei_core::Uuid::now_v7(),
            user_id: renkei_core::Uuid::now_v7(),
            endpoint: "https://fcm.googleapis.com/x".into(),
            p256dh: URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            auth: URL_SAFE_NO_PAD.encode([1u8; 16]),
            device_label: None,
            created_at: renkei_core::clock::Timestamp(0),
            last_pushed_at: None,
            failing_since: None,
        };
        let body = encrypt(&sub, b"{\"kind\":\"message\"}").unwrap();
        assert!(!body.windows(7).any(|w| w == b"message"));
        let auth = web_push_native::Auth::clone_from_slice(&[1u8; 16]);
        let clear = web_push_native::decrypt(body, &secret, &auth).unwrap();
        assert_eq!(clear, b"{\"kind\":\"message\"}");
    }
}
