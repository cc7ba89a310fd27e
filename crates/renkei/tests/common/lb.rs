//! A deployment of several nodes behind HAProxy, for the tests of several nodes: the nodes'
//! shared settings, `deploy/haproxy.cfg` rewritten with the test's addresses, and HAProxy
//! itself (started, watched through its admin socket, stopped when dropped).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{Api, Server, Storage, urlencode};

/// The master key every node shares (nodes of one deployment must).
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings of a node of a deployment: the shared key, objects in S3 under `prefix` when
/// an S3 server is configured, DICOM on, and a short drain.
pub fn node_env(prefix: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("RENKEI_MASTER_KEY".to_owned(), MASTER_KEY.to_owned()),
        ("RENKEI_DRAIN_SECONDS".to_owned(), "5".to_owned()),
        ("RENKEI_DICOM_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    if let Ok(url) = std::env::var("RENKEI_TEST_S3_URL") {
        let url = format!("{}/{prefix}", url.trim_end_matches('/'));
        env.push(("RENKEI_OBJECT_STORE_URL".to_owned(), url));
    }
    env
}

pub fn start_node(storage: &Storage, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start(storage, &env)
}

/// `deploy/haproxy.cfg` with this test's addresses: the `bind`s, one `server` line per node
/// in each backend (the file's first, its options kept; a DICOM server checked on its node's
/// HTTP port), the admin socket; nothing else changes.
pub fn haproxy_config(
    template: &str,
    (http, dicom): (&str, &str),
    nodes: &[&Server],
    socket: &Path,
) -> String {
    let mut out = String::new();
    let mut section = "";
    let mut servers_written = false;
    for line in template.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        match words.as_slice() {
            ["frontend" | "backend", name, ..] => {
                section = name;
                servers_written = false;
                out.push_str(line);
            }
            ["bind", _, rest @ ..] => {
                let addr = if section == "renkei_dicom" {
                    dicom
                } else {
                    http
                };
                out.push_str(&format!("{indent}bind {addr} {}", rest.join(" ")));
            }
            ["stats", "socket", _, rest @ ..] => {
                let path = socket.display();
                out.push_str(&format!("{indent}stats socket {path} {}", rest.join(" ")));
            }
            ["server", _, _, rest @ ..] => {
                if servers_written {
                    continue;
                }
                servers_written = true;
                for (i, node) in nodes.iter().enumerate() {
                    let addr = match section {
                        "renkei_dicom" => {
                            let http_port = node.addr().rsplit(':').next().unwrap().to_owned();
                            let dicom = node.dicom_addr().expect("the node serves DICOM");
                            format!("{dicom} port {http_port}")
                        }
                        _ => node.addr(),
                    };
                    let n = i + 1;
                    out.push_str(&format!(
                        "{indent}server renkei{n} {addr} {}\n",
                        rest.join(" ")
                    ));
                }
                continue;
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// HAProxy running a configuration, stopped when dropped.
pub struct Haproxy {
    child: Child,
    /// The addresses it listens on for HTTP (and WebSockets) and for DICOM.
    pub http: String,
    pub dicom: String,
    socket: std::path::PathBuf,
    /// What it printed (server state changes).
    log: std::path::PathBuf,
}

impl Haproxy {
    pub fn start(config: &str, (http, dicom): (&str, &str), dir: &Path) -> Haproxy {
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config).unwrap();
        let checked = Command::new("haproxy")
            .args(["-c", "-q", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            checked.status.success(),
            "{}\n{config}",
            String::from_utf8_lossy(&checked.stderr)
        );
        let log = dir.join("haproxy.log");
        let child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Haproxy {
            child,
            http: http.to_owned(),
            dicom: dicom.to_owned(),
            socket: dir.join("admin.sock"),
            log,
        }
    }

    /// The check status of each server of `backend` (`UP`, `DOWN`, `UP 1/2`…) from the
    /// admin socket.
    pub fn states(&self, backend: &str) -> Vec<(String, String)> {
        self.stat(backend, "status")
    }

    /// The connections each server of `backend` holds now.
    pub fn sessions(&self, backend: &str) -> Vec<(String, u64)> {
        self.stat(backend, "scur")
            .into_iter()
            .map(|(server, n)| (server, n.parse().unwrap_or(0)))
            .collect()
    }

    /// One column of `show stat` for each server of `backend`.
    fn stat(&self, backend: &str, name: &str) -> Vec<(String, String)> {
        let Ok(mut socket) = std::os::unix::net::UnixStream::connect(&self.socket) else {
            return Vec::new();
        };
        socket.write_all(b"show stat\n").unwrap();
        let mut text = String::new();
        socket.read_to_string(&mut text).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or("")
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| header.iter().position(|h| *h == name);
        let (Some(px), Some(sv), Some(value)) = (column("pxname"), column("svname"), column(name))
        else {
            return Vec::new();
        };
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > value && f[px] == backend && f[sv].starts_with("renkei"))
            .map(|f| (f[sv].to_owned(), f[value].to_owned()))
            .collect()
    }

    /// Waits (at most 20 s) until the servers of `backend` are as `want` says.
    pub async fn until(&self, backend: &str, want: &[(&str, &str)]) {
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(s, st)| (s.to_string(), st.to_string()))
            .collect();
        let mut seen = Vec::new();
        for _ in 0..200 {
            seen = self.states(backend);
            if seen == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        panic!("{backend}: wanted {want:?}, saw {seen:?}\n{log}");
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn have_haproxy() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is required under CI (scripts/setup.sh installs it)"
        );
        eprintln!("SKIPPED: haproxy is not installed (scripts/setup.sh installs it)");
    }
    found
}

/// A client of the load balancer at `addr` with `api`'s session.
pub fn through(addr: &str, api: &Api) -> Api {
    Api {
        http: reqwest::Client::new(),
        base: format!("http://{addr}"),
        token: api.token.clone(),
    }
}

/// `deploy/haproxy.cfg` as docs/DEPLOYMENT.md gives it.
pub fn deploy_template() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/haproxy.cfg"
    ))
    .unwrap()
}

/// HAProxy run with `deploy/haproxy.cfg` in front of `nodes`, in `dir`, once every node is
/// up in both backends.
pub async fn in_front_of(nodes: &[&Server], dir: &Path) -> Haproxy {
    let (http, dicom) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let socket = dir.join("admin.sock");
    let config = haproxy_config(&deploy_template(), (&http, &dicom), nodes, &socket);
    let lb = Haproxy::start(&config, (&http, &dicom), dir);
    let up: Vec<(String, &str)> = (1..=nodes.len())
        .map(|n| (format!("renkei{n}"), "UP"))
        .collect();
    let up: Vec<(&str, &str)> = up.iter().map(|(s, st)| (s.as_str(), *st)).collect();
    lb.until("renkei_http", &up).await;
    lb.until("renkei_dicom", &up).await;
    lb
}

/// The S3 URL of the tests (`RENKEI_TEST_S3_URL`, set by scripts/test.sh), or `None` said
/// aloud; a failure under `CI=true`.
pub fn s3_url() -> Option<String> {
    let url = std::env::var("RENKEI_TEST_S3_URL").ok();
    if url.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "RENKEI_TEST_S3_URL is required under CI (scripts/test.sh starts an S3 server)"
        );
        eprintln!("SKIPPED: RENKEI_TEST_S3_URL is not set (scripts/test.sh starts an S3 server)");
    }
    url
}

/// Uploads `body` as media `name` of `content_type`; panics unless it is created.
pub async fn upload(api: &Api, name: &str, content_type: &str, body: Vec<u8>) -> Value {
    let url = format!("/api/v1/media?name={}", urlencode(name));
    let (status, media) = api.raw(Method::POST, &url, content_type, body).await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    media
}

/// Media `id`'s content as served to `api`.
pub async fn download(api: &Api, id: &str) -> (StatusCode, Vec<u8>) {
    let resp = api
        .http
        .get(api.url(&format!("/api/v1/media/{id}/content")))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}
