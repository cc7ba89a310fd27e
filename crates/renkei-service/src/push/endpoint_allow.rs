//! The SSRF guard: a push endpoint is accepted only on an allow-listed host, over https
//! (http only for loopback entries named with their port, for tests).

use reqwest::Url;

/// Why an endpoint is refused (never echoed with the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a URL, or one with credentials, a fragment or no host.
    Malformed,
    /// The host (and port) match no entry of the list.
    HostNotAllowed,
    /// `http:` to a host that is not a loopback entry of the list.
    NotHttps,
}

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// Whether `host` (lower-case, no port) matches `pattern` (no port): equal, or a
/// subdomain of what follows `*.`.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .strip_suffix(parent)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => host == pattern,
    }
}

/// Checks `endpoint` against `allow`; the parsed URL when it may be pushed to.
///
/// An entry without a port matches the host on https's default port only; an entry with a
/// port (`127.0.0.1:8443`) matches that port, and allows `http:` when its host is loopback.
pub fn check(endpoint: &str, allow: &[String]) -> Result<Url, Refused> {
    let url = Url::parse(endpoint).map_err(|_| Refused::Malformed)?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(Refused::Malformed);
    }
    let host = url
        .host_str()
        .ok_or(Refused::Malformed)?
        .to_ascii_lowercase();
    let port = url.port();
    let scheme = url.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(Refused::NotHttps);
    }
    let mut host_ok = false;
    for entry in allow {
        let entry = entry.trim().to_ascii_lowercase();
        let (pattern, entry_port) = split_port(&entry);
        if !host_matches(pattern, &host) {
            continue;
        }
        match entry_port {
            None if port.is_none() => {
                host_ok = true;
                if scheme == "https" {
                    return Ok(url);
                }
            }
            Some(p) if port == Some(p) => {
                host_ok = true;
                if scheme == "https" || is_loopback_host(pattern) {
                    return Ok(url);
                }
            }
            _ => {}
        }
    }
    Err(if host_ok {
        Refused::NotHttps
    } else {
        Refused::HostNotAllowed
    })
}

/// `host:port` into its parts (`[::1]:80` too); no port when there is none.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some((host, port)) = entry.rsplit_once(':')
        && !host.is_empty()
        && (!host.contains(':') || host.ends_with(']'))
        && let Ok(port) = port.parse()
    {
        return (host, Some(port));
    }
    (entry, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<String> {
        [
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "*.push.apple.com",
            "*.notify.windows.com",
            "127.0.0.1:18443",
            "localhost:9000",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn real_push_services_over_https_pass() {
        for ok in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://web.push.apple.com/QGx",
            "https://wns2-par02p.notify.windows.com/w/?token=x",
            "https://FCM.googleapis.com/fcm/send/x",
            "https://fcm.googleapis.com:443/fcm/send/x",
        ] {
            assert!(check(ok, &list()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_hosts_and_lookalikes_are_refused() {
        for bad in [
            "https://evil.example/fcm",
            "https://fcm.googleapis.com.evil.example/x",
            "https://push.apple.com/x",
            "https://evilpush.apple.com/x",
            "https://fcm.googleapis.com:8443/x",
            "https://169.254.169.254/latest/meta-data",
            "https://127.0.0.1:18444/x",
            "https://10.0.0.1/x",
        ] {
            assert_eq!(check(bad, &list()), Err(Refused::HostNotAllowed), "{bad}");
        }
    }

    #[test]
    fn http_only_for_loopback_entries_with_their_port() {
        assert!(check("http://127.0.0.1:18443/push/1", &list()).is_ok());
        assert!(check("http://localhost:9000/p", &list()).is_ok());
        assert_eq!(
            check("http://fcm.googleapis.com/fcm/send/x", &list()),
            Err(Refused::NotHttps)
        );
        assert_eq!(
            check("ftp://fcm.googleapis.com/x", &list()),
            Err(Refused::NotHttps)
        );
        let mixed = vec!["example.org:8080".to_string()];
        assert_eq!(
            check("http://example.org:8080/x", &mixed),
            Err(Refused::NotHttps)
        );
        assert!(check("https://example.org:8080/x", &mixed).is_ok());
    }

    #[test]
    fn credentials_fragments_and_garbage_are_malformed() {
        for bad in [
            "not a url",
            "https://user:pw@fcm.googleapis.com/x",
            "https://fcm.googleapis.com/x#frag",
            "",
        ] {
            assert_eq!(check(bad, &list()), Err(Refused::Malformed), "{bad}");
        }
    }
}
