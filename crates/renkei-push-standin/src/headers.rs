//! RFC 8030 and RFC 8188 request headers as a push service checks them: `TTL`, `Urgency`,
//! `Topic` and `Content-Encoding`.

use axum::http::HeaderMap;

/// The delivery headers of an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `TTL` in seconds (RFC 8030 section 5.2; required).
    pub ttl: u64,
    /// `Urgency` (RFC 8030 section 5.3), when sent.
    pub urgency: Option<String>,
    /// `Topic` (RFC 8030 section 5.4), when sent.
    pub topic: Option<String>,
}

/// RFC 8030 section 5.3.
pub const URGENCIES: [&str; 4] = ["very-low", "low", "normal", "high"];
/// RFC 8030 section 5.4: at most 32 characters of the URL- and filename-safe base64 alphabet.
pub const MAX_TOPIC_LEN: usize = 32;

fn one<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, String> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("{name} sent more than once"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| format!("{name} is not visible ASCII"))
}

/// Checks the headers; the error is the reason for a 400.
pub fn check(headers: &HeaderMap) -> Result<Delivery, String> {
    match one(headers, "content-encoding")? {
        Some(v) if v.trim().eq_ignore_ascii_case("aes128gcm") => {}
        Some(v) => return Err(format!("Content-Encoding '{v}', expected aes128gcm")),
        None => return Err("no Content-Encoding (expected aes128gcm)".into()),
    }
    let ttl = match one(headers, "ttl")? {
        None => return Err("no TTL header".into()),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|_| v.trim().bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("TTL '{v}' is not a non-negative integer"))?,
    };
    let urgency = match one(headers, "urgency")? {
        None => None,
        Some(v) if URGENCIES.contains(&v.trim()) => Some(v.trim().to_owned()),
        Some(v) => return Err(format!("Urgency '{v}' is not one of {URGENCIES:?}")),
    };
    let topic = match one(headers, "topic")? {
        None => None,
        Some(v) => {
            let ok = !v.is_empty()
                && v.len() <= MAX_TOPIC_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(format!(
                    "Topic '{v}' is not 1 to 32 characters of the URL-safe base64 alphabet"
                ));
            }
            Some(v.to_owned())
        }
    };
    Ok(Delivery {
        ttl,
        urgency,
        topic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn accepts_complete_headers() {
        let d = check(&headers(&[
            ("content-encoding", "aes128gcm"),
            ("ttl", "86400"),
            ("urgency", "high"),
            ("topic", "aB3-_x"),
        ]))
        .unwrap();
        assert_eq!(d.ttl, 86400);
        assert_eq!(d.urgency.as_deref(), Some("high"));
        assert_eq!(d.topic.as_deref(), Some("aB3-_x"));
        let d = check(&headers(&[("content-encoding", "aes128gcm"), ("ttl", "0")])).unwrap();
        assert_eq!((d.ttl, d.urgency, d.topic), (0, None, None));
    }

    #[test]
    fn refuses_bad_headers() {
        let base = [("content-encoding", "aes128gcm"), ("ttl", "60")];
        let with = |extra: (&'static str, &'static str)| {
            let mut v = base.to_vec();
            v.retain(|(k, _)| *k != extra.0);
            v.push(extra);
            check(&headers(&v))
        };
        assert!(with(("content-encoding", "aesgcm")).is_err());
        assert!(with(("ttl", "-1")).is_err());
        assert!(with(("ttl", "+5")).is_err());
        assert!(with(("ttl", "1.5")).is_err());
        assert!(with(("urgency", "urgent")).is_err());
        assert!(with(("topic", "has space")).is_err());
        assert!(with(("topic", "a/b+c=")).is_err());
        assert!(with(("topic", "abcdefghijklmnopqrstuvwxyz0123456")).is_err());
        assert!(with(("topic", "abcdefghijklmnopqrstuvwxyz012345")).is_ok());
        assert!(check(&headers(&[("content-encoding", "aes128gcm")])).is_err());
        assert!(check(&headers(&[("ttl", "60")])).is_err());
    }
}
