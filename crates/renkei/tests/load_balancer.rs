//! Several nodes: two `renkei serve` processes on one PostgreSQL database (and one S3 bucket
//! when `RENKEI_TEST_S3_URL` is set), behind HAProxy run with `deploy/haproxy.cfg` as
//! docs/DEPLOYMENT.md gives it (only its addresses changed). HTTP and a WebSocket chat pass
//! through it; a node whose `/readyz` fails (database unreachable, draining for a shutdown)
//! is taken out and put back; media uploaded through one node download through another, also
//! once the first was killed.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{ADMIN_PASSWORD, Api, Server, Storage, Ws, active_user, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The master key every node shares (nodes of one deployment must).
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A free TCP port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings of a node of a deployment: the shared key, objects in S3 under `prefix` when
/// an S3 server is configured, DICOM on, and a short drain.
fn node_env(prefix: &str) -> Vec<(String, String)> {
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

fn start_node(storage: &Storage, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start(storage, &env)
}

/// `deploy/haproxy.cfg` with this test's addresses: the `bind`s, one `server` line per node
/// in each backend (the file's first, its options kept; a DICOM server checked on its node's
/// HTTP port), the admin socket; nothing else changes.
fn haproxy_config(
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
struct Haproxy {
    child: Child,
    socket: std::path::PathBuf,
    /// What it printed (server state changes).
    log: std::path::PathBuf,
}

impl Haproxy {
    fn start(config: &str, dir: &Path) -> Haproxy {
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
            socket: dir.join("admin.sock"),
            log,
        }
    }

    /// The check status of each server of `backend` (`UP`, `DOWN`, `UP 1/2`…) from the
    /// admin socket.
    fn states(&self, backend: &str) -> Vec<(String, String)> {
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
        let (Some(px), Some(sv), Some(status)) =
            (column("pxname"), column("svname"), column("status"))
        else {
            return Vec::new();
        };
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > status && f[px] == backend && f[sv].starts_with("renkei"))
            .map(|f| (f[sv].to_owned(), f[status].to_owned()))
            .collect()
    }

    /// Waits (at most 20 s) until the servers of `backend` are as `want` says.
    async fn until(&self, backend: &str, want: &[(&str, &str)]) {
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

fn have_haproxy() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: haproxy is not installed (scripts/setup.sh installs it)");
    }
    found
}

/// A client of the load balancer at `addr` with `api`'s session.
fn through(addr: &str, api: &Api) -> Api {
    Api {
        http: reqwest::Client::new(),
        base: format!("http://{addr}"),
        token: api.token.clone(),
    }
}

/// Lets connections to the database in or not (as when PostgreSQL is down or unreachable),
/// ending the ones open when not.
async fn database_reachable(url: &str, reachable: bool) {
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
    let admin_url = std::env::var("RENKEI_TEST_POSTGRES_URL").unwrap();
    let pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let allow = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}");
    sqlx::query(sqlx::AssertSqlSafe(allow))
        .execute(&pool)
        .await
        .unwrap();
    if !reachable {
        let end = "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1";
        sqlx::query(end).bind(name).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_passes_http_and_websockets_and_takes_out_a_node_that_is_not_ready() {
    if !have_haproxy() {
        return;
    }
    let Some(first) = Storage::postgres("load_balancer").await else {
        return;
    };
    let second = first.another_node();
    let env = node_env(&format!("lb-{}", renkei_core::new_id()));
    // One after the other: the first creates the first administrator.
    let mut nodes = vec![start_node(&first, &env)];
    nodes.push(start_node(&second, &env));
    let admin = nodes[0].first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&nodes[0], &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&nodes[1], &admin, &org, "bob").await;

    let (http, dicom) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/haproxy.cfg"
    ))
    .unwrap();
    let socket = first.dir.path().join("admin.sock");
    let config = haproxy_config(&template, (&http, &dicom), &[&nodes[0], &nodes[1]], &socket);
    let lb = Haproxy::start(&config, first.dir.path());
    let both_up = [("renkei1", "UP"), ("renkei2", "UP")];
    lb.until("renkei_http", &both_up).await;
    lb.until("renkei_dicom", &both_up).await;

    // HTTP and a WebSocket chat through the balancer.
    let (alice_lb, bob_lb) = (through(&http, &alice), through(&http, &bob));
    let (status, conv) = alice_lb
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "Ward 3", "member_ids": [bob_user["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    let conv = conv["id"].as_str().unwrap().to_owned();
    let (mut ws, _) = Ws::connect_at(&http, alice.token.as_deref().unwrap(), None).await;
    ws.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "lb-1", "body": "BP 120/80"})).await;
    let ack = ws.next_of("ack").await;
    assert_eq!(ack["client_msg_id"], "lb-1", "{ack}");
    let event = ws.next_of("event").await;
    assert_eq!(event["event"]["message"]["body"], "BP 120/80", "{event}");
    let history = format!("/api/v1/conversations/{conv}/messages");
    for _ in 0..4 {
        // Whichever node answers, the history is the database's.
        let (status, messages) = bob_lb.get(&history).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(messages[0]["client_msg_id"], "lb-1", "{messages}");
    }

    // DICOM through the balancer: whichever node an association reaches takes it (both do,
    // as leastconn alternates between idle nodes).
    first.add_dicom_peer("LBTEST", "127.0.0.0/8");
    let (host, port) = dicom.rsplit_once(':').unwrap();
    let echo = ["-aet", "LBTEST", "-aec", "RENKEI", host, port];
    let mut echoed = 0;
    for _ in 0..40 {
        // A refused echo has a node re-read its peers (at most once a second).
        match common::dicom::dcmtk("echoscu", &echo) {
            None => break,
            Some(out) if out.status.success() => echoed += 1,
            Some(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
        if echoed == 4 {
            break;
        }
    }
    assert!(
        echoed == 4 || common::dicom::dcmtk("echoscu", &["--version"]).is_none(),
        "C-ECHO through the balancer"
    );

    // PostgreSQL unreachable: each node's /readyz answers 503 database_unavailable, the
    // balancer takes both out and answers 503 with a code of its own; once the database is
    // back, both come back by themselves.
    database_reachable(first.database_url.as_deref().unwrap(), false).await;
    let (status, body) = nodes[0].client().get("/readyz").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database_unavailable")
        ),
        "{body}"
    );
    lb.until("renkei_http", &[("renkei1", "DOWN"), ("renkei2", "DOWN")])
        .await;
    let (status, body) = bob_lb.get("/api/v1/me").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("no_node_ready")),
        "{body}"
    );
    database_reachable(first.database_url.as_deref().unwrap(), true).await;
    lb.until("renkei_http", &both_up).await;
    assert_eq!(bob_lb.get(&history).await.0, StatusCode::OK);

    // A node asked to stop drains: /readyz says so, the balancer takes it out while the
    // other serves every request, then it exits; a WebSocket it held reconnects through the
    // balancer to the other.
    nodes[0].terminate();
    // The signal is handled on the node's own time: ask until it answers (bounded).
    let mut answer = nodes[0].client().get("/readyz").await;
    for _ in 0..50 {
        if answer.0 == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = nodes[0].client().get("/readyz").await;
    }
    let (status, body) = answer;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("draining")),
        "{body}"
    );
    let draining = async {
        loop {
            let (status, body) = bob_lb.get("/api/v1/me").await;
            assert_eq!(
                status,
                StatusCode::OK,
                "no request fails while a node drains: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        _ = lb.until("renkei_http", &[("renkei1", "DOWN"), ("renkei2", "UP")]) => {}
        _ = draining => unreachable!(),
    }
    assert!(
        nodes[0].exited_within(Duration::from_secs(15)),
        "the drained node exits"
    );
    for _ in 0..4 {
        assert_eq!(bob_lb.get(&history).await.0, StatusCode::OK);
    }
    let (mut again, _) = Ws::connect_at(&http, alice.token.as_deref().unwrap(), None).await;
    again.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": "lb-2", "body": "after the drain"})).await;
    assert_eq!(again.next_of("ack").await["client_msg_id"], "lb-2");
    drop(ws);
}

async fn upload(api: &Api, name: &str, body: Vec<u8>) -> Value {
    let url = format!("/api/v1/media?name={}", urlencode(name));
    let (status, media) = api.raw(Method::POST, &url, "application/pdf", body).await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    media
}

async fn download(api: &Api, id: &str) -> (StatusCode, Vec<u8>) {
    let resp = api
        .http
        .get(api.url(&format!("/api/v1/media/{id}/content")))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_uploaded_through_one_node_downloads_through_another_after_it_is_killed() {
    if std::env::var("RENKEI_TEST_S3_URL").is_err() {
        eprintln!("SKIPPED: RENKEI_TEST_S3_URL is not set (scripts/test.sh starts an S3 server)");
        return;
    }
    let Some(first) = Storage::postgres("media_two_nodes").await else {
        return;
    };
    let second = first.another_node();
    let env = node_env(&format!("media-{}", renkei_core::new_id()));
    let a = start_node(&first, &env);
    let b = start_node(&second, &env);
    let admin = a.first_admin().await;
    let on_b = b.login("admin", ADMIN_PASSWORD).await;
    let pdf = [b"%PDF-1.4\n".as_slice(), &[b'x'; 200_000], b"\n%%EOF\n"].concat();
    let media = upload(&admin, "referral.pdf", pdf.clone()).await;
    let id = media["id"].as_str().unwrap();
    let (status, through_a) = download(&admin, id).await;
    assert_eq!(
        (status, &through_a),
        (StatusCode::OK, &pdf),
        "a PDF is stored as it is"
    );
    assert_eq!(
        download(&on_b, id).await,
        (StatusCode::OK, through_a.clone())
    );
    // Nothing of it is kept on either node's disk: the objects are in the bucket.
    for storage in [&first, &second] {
        let blobs = storage.data_dir().join("blobs");
        assert!(!blobs.exists(), "{} holds no objects", blobs.display());
    }
    a.stop();
    assert_eq!(download(&on_b, id).await, (StatusCode::OK, through_a));
}
