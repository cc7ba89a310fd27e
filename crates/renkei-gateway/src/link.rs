//! The gateway's calls to the server: its configuration (`GET /api/v1/gateway/config`) and
//! each queued instance (STOW-RS `POST /dicomweb/studies`), with the answers sorted into
//! "sent", "refused for good" and "try again".

use std::path::Path;
use std::time::Duration;

use renkei_core::dicom::GatewayConfig;
use reqwest::StatusCode;
use serde_json::Value;

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What became of one instance sent to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server has it (stored now, or earlier: a resend).
    Sent,
    /// The server will never take it (the reason says why); set it aside.
    Refused(String),
    /// Not now (network, server down, storage busy, token refused): keep it and try later.
    Retry(Retry),
}

/// Why a call should be repeated later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub reason: String,
    /// The server refused the gateway's token.
    pub unauthorized: bool,
}

impl Retry {
    fn later(reason: impl Into<String>) -> Retry {
        Retry {
            reason: reason.into(),
            unauthorized: false,
        }
    }
}

/// A connection to the renkei server.
#[derive(Clone)]
pub struct ServerLink {
    client: reqwest::Client,
    server: String,
    token: String,
}

/// The server's error message in a `{code, message}` body, or the status.
fn error_text(status: StatusCode, body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let code = v.get("code")?.as_str()?.to_owned();
            let message = v.get("message").and_then(Value::as_str).unwrap_or("");
            Some(format!("{code}: {message}"))
        })
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()))
}

/// The reason and Error Comment of the first failed instance of a STOW-RS answer.
fn stow_failure(body: &str) -> Option<(u64, String)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let item = v.get("00081198")?.get("Value")?.get(0)?;
    let reason = item.get("00081197")?.get("Value")?.get(0)?.as_u64()?;
    let comment = item
        .get("00009902")
        .and_then(|c| c.get("Value")?.get(0)?.as_str().map(str::to_owned))
        .unwrap_or_default();
    Some((reason, comment))
}

/// Whether `server` is reached over HTTPS (true) or plain HTTP to this machine (false);
/// plain HTTP anywhere else is refused, since instances travel over it.
fn over_https(server: &str) -> Result<bool, String> {
    let url = reqwest::Url::parse(server).map_err(|e| format!("server URL {server:?}: {e}"))?;
    let host = url.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(true),
        "http" if loopback => Ok(false),
        "http" => Err(format!(
            "the server URL {server:?} is plain http://: the gateway sends images only over \
             https:// (http:// is allowed only to this machine: localhost, 127.0.0.1, [::1])"
        )),
        other => Err(format!(
            "the server URL must start with https://, not {other}://"
        )),
    }
}

/// The certificates in the PEM file `path` (a hospital's private CA).
fn private_roots(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("server_ca {}: {e}", path.display()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("server_ca {}: {e}", path.display()))?;
    if roots.is_empty() {
        return Err(format!(
            "server_ca {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(roots)
}

impl ServerLink {
    /// A link to `server` (its base URL, `https://…`) with the gateway's `token`; the server's
    /// certificate is checked against `server_ca` (PEM) when given, else the system's roots.
    pub fn new(server: &str, token: &str, server_ca: Option<&Path>) -> Result<ServerLink, String> {
        let https = over_https(server)?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .https_only(https)
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .user_agent(concat!("renkei-gateway/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = server_ca {
            builder = builder.tls_built_in_root_certs(false);
            for root in private_roots(path)? {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {e}"))?;
        Ok(ServerLink {
            client,
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The gateway's configuration from the server.
    pub async fn config(&self) -> Result<GatewayConfig, Retry> {
        let response = self
            .client
            .get(format!("{}/api/v1/gateway/config", self.server))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| Retry::later(format!("cannot reach the server: {}", short(&e))))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        match status {
            StatusCode::OK => serde_json::from_str(&body)
                .map_err(|_| Retry::later("the server's configuration is not readable")),
            StatusCode::UNAUTHORIZED => Err(Retry {
                reason: error_text(status, &body),
                unauthorized: true,
            }),
            _ => Err(Retry::later(error_text(status, &body))),
        }
    }

    /// Sends one de-identified instance.
    pub async fn send(&self, instance: Vec<u8>) -> Delivery {
        let sent = self
            .client
            .post(format!("{}/dicomweb/studies", self.server))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/dicom")
            .header(reqwest::header::ACCEPT, "application/dicom+json")
            .body(instance)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                return Delivery::Retry(Retry::later(format!(
                    "cannot reach the server: {}",
                    short(&e)
                )));
            }
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        match status {
            StatusCode::OK => Delivery::Sent,
            StatusCode::UNAUTHORIZED => Delivery::Retry(Retry {
                reason: error_text(status, &body),
                unauthorized: true,
            }),
            StatusCode::CONFLICT => match stow_failure(&body) {
                // 0xA700 Out of Resources: the server's storage is busy or full.
                Some((0xA700, comment)) => Delivery::Retry(Retry::later(comment)),
                Some((reason, comment)) => {
                    Delivery::Refused(format!("refused (0x{reason:04X}): {comment}"))
                }
                None => Delivery::Refused(error_text(status, &body)),
            },
            StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::BAD_REQUEST
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::UNPROCESSABLE_ENTITY => Delivery::Refused(error_text(status, &body)),
            _ => Delivery::Retry(Retry::later(error_text(status, &body))),
        }
    }
}

/// An HTTP client error without the URL (which is the server's, not secret, but long).
fn short(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stow_failure_answer_gives_its_reason_and_comment() {
        let body = r#"{"00081199":{"vr":"SQ","Value":[]},"00081198":{"vr":"SQ","Value":[{"00081197":{"vr":"US","Value":[49152]},"00009902":{"vr":"LO","Value":["the instance is not de-identified"]}}]}}"#;
        assert_eq!(
            stow_failure(body),
            Some((0xC000, "the instance is not de-identified".to_owned()))
        );
        assert_eq!(stow_failure("{}"), None);
    }

    #[test]
    fn plain_http_is_refused_except_to_this_machine() {
        assert_eq!(over_https("https://renkei.example.jp"), Ok(true));
        assert_eq!(over_https("https://10.1.2.3:8443/"), Ok(true));
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert_eq!(over_https(local), Ok(false), "{local}");
        }
        for remote in [
            "http://renkei.example.jp",
            "http://10.1.2.3:8080",
            "http://localhost.example.jp",
        ] {
            let refused = over_https(remote).unwrap_err();
            assert!(refused.contains("https://"), "{remote}: {refused}");
        }
        assert!(over_https("ftp://renkei.example.jp").is_err());
        assert!(over_https("renkei.example.jp").is_err());
    }

    #[test]
    fn error_bodies_become_code_and_message() {
        let text = error_text(
            StatusCode::UNAUTHORIZED,
            r#"{"code":"invalid_gateway_token","message":"the gateway token is not valid"}"#,
        );
        assert_eq!(
            text,
            "invalid_gateway_token: the gateway token is not valid"
        );
        assert_eq!(error_text(StatusCode::BAD_GATEWAY, "<html>"), "HTTP 502");
    }
}
