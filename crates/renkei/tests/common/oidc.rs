//! The identity provider for single sign-on tests: oidc-provider (npm, OpenID-certified) on
//! loopback, a browser that goes through its login form, and a catcher for the logout tokens it
//! posts.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Api, Server};

pub const SECRET: &str = "renkei-test-client-secret";

/// oidc-provider on a loopback port, stopped when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Provider {
    /// Starts the provider for renkei at `server` (its callback), posting logout tokens to
    /// `logout_uri`, its clock moved by `clock_offset` seconds.
    pub fn start(server: &Server, logout_uri: &str, clock_offset: i64) -> Provider {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "oidc-provider is not installed: run `npm ci` in {dir} (scripts/setup.sh does)"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("OIDC_PORT", "0")
            .env("OIDC_CLIENT_SECRET", SECRET)
            .env(
                "OIDC_REDIRECT_URI",
                format!("{}/api/v1/auth/sso/callback", server.base),
            )
            .env("OIDC_LOGOUT_URI", logout_uri)
            .env("OIDC_CLOCK_OFFSET", clock_offset.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("oidc-provider listening on ")
                    .map(String::from)
            })
            .expect("the provider starts");
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Provider { child, issuer }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser as far as these flows need one: cookies per host (expiry ignored, Max-Age=0
/// removes), redirects followed by hand so each hop can be looked at.
pub struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_string()
}

fn origin_of(url: &str) -> String {
    let scheme = url.split("://").next().unwrap_or("http");
    format!("{scheme}://{}", host_of(url))
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    pub async fn send(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> Page {
        let host = host_of(url);
        let cookies = self
            .jar
            .get(&host)
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let mut req = match form {
            Some(fields) => self.http.post(url).form(fields),
            None => self.http.get(url),
        };
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        let resp = req.send().await.unwrap();
        for set in resp.headers().get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let jar = self.jar.entry(host.clone()).or_default();
            if attrs.to_ascii_lowercase().contains("max-age=0") || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.to_string());
            }
        }
        let location = resp.headers().get("location").map(|l| {
            let l = l.to_str().unwrap();
            if l.starts_with('/') {
                format!("{}{l}", origin_of(url))
            } else {
                l.to_string()
            }
        });
        Page {
            status: resp.status(),
            location,
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        self.send(url, None).await
    }

    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jar.get(&host_of(url))?.get(name).cloned()
    }

    /// Starts renkei's sign-in for `org` and signs in at the provider as `login`: the callback
    /// URL the provider sends the browser to (not followed yet), or the page it stopped at.
    pub async fn through_provider(&mut self, server: &Server, org: &str, login: &str) -> String {
        let start = self
            .get(&format!("{}/api/v1/auth/sso/{org}/start", server.base))
            .await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        let authorize = start.location.unwrap();
        assert!(
            authorize.contains("code_challenge_method=S256"),
            "{authorize}"
        );
        assert!(authorize.contains("nonce="), "{authorize}");
        let to_login = self.get(&authorize).await;
        let interaction = to_login.location.expect("to the login form");
        let form = self.get(&interaction).await;
        assert!(form.body.contains("name=\"login\""), "{}", form.body);
        let submitted = self
            .send(
                &interaction,
                Some(&[("prompt", "login"), ("login", login), ("password", "any")]),
            )
            .await;
        let resume = submitted.location.expect("back to the authorization");
        let back = self.get(&resume).await;
        back.location.expect("to renkei's callback")
    }

    /// Follows the callback: where renkei sends the browser (`/` or `/?sso_error=…`).
    pub async fn callback(&mut self, url: &str) -> String {
        let page = self.get(url).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.location.unwrap();
        location[origin_of(&location).len()..].to_string()
    }
}

/// An API client with the session the browser got from renkei.
pub fn session_of(server: &Server, browser: &Browser) -> Api {
    let mut api = server.client();
    api.token = Some(
        browser
            .cookie(&server.base, "renkei_session")
            .expect("a session cookie"),
    );
    api
}

/// Receives the provider's back-channel logout requests (answering 200) and hands over their
/// bodies, so a test posts them to renkei itself (once, or again).
pub struct LogoutCatcher {
    pub uri: String,
    bodies: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
}

impl LogoutCatcher {
    pub async fn start() -> LogoutCatcher {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/logout", listener.local_addr().unwrap());
        let (tx, bodies) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break Some(request[end + 4..end + 4 + length].to_vec());
                    }
                };
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                if let Some(body) = body {
                    let _ = tx.send(body);
                }
            }
        });
        LogoutCatcher { uri, bodies }
    }

    /// The next logout request's body (`logout_token=…`).
    pub async fn next(&mut self) -> Vec<u8> {
        tokio::time::timeout(std::time::Duration::from_secs(30), self.bodies.recv())
            .await
            .expect("the provider posts a logout token")
            .unwrap()
    }
}

/// Signs the browser's account out at the provider (its own logout page, confirmed): the
/// provider then posts logout tokens to its clients.
pub async fn sign_out_at_provider(browser: &mut Browser, provider: &Provider) {
    let end = browser
        .get(&format!("{}/session/end?client_id=renkei", provider.issuer))
        .await;
    let xsrf = end
        .body
        .split("name=\"xsrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a logout form: {}", end.body))
        .to_string();
    let confirm = browser
        .send(
            &format!("{}/session/end/confirm", provider.issuer),
            Some(&[("xsrf", xsrf.as_str()), ("logout", "yes")]),
        )
        .await;
    assert!(
        confirm.status.is_redirection() || confirm.status.is_success(),
        "{}",
        confirm.body
    );
}
