//! Test harness: the real `renkei` binary on an ephemeral port, on SQLite or PostgreSQL,
//! driven over HTTP like a client and through its command line like an administrator.

#![allow(dead_code)]

pub mod delivery;
pub mod dicom;
pub mod lb;
pub mod link;
pub mod oidc;
pub mod partners;
pub mod passkey;
pub mod tls;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use renkei_store::scratch::ScratchDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Generates a `sqlite` and a `postgres` test for each scenario `fn name(Storage)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Storage::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(storage) = $crate::common::Storage::postgres(stringify!($name)).await else { return };
                super::$name(storage).await;
            }
        }
    )+};
}

/// Where a test's data lives: a temporary folder, and a scratch PostgreSQL database or not.
pub struct Storage {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    scratch: Option<ScratchDatabase>,
}

impl Storage {
    pub fn sqlite() -> Storage {
        Storage {
            dir: tempfile::tempdir().unwrap(),
            database_url: None,
            scratch: None,
        }
    }

    pub async fn postgres(purpose: &str) -> Option<Storage> {
        let scratch = ScratchDatabase::create(purpose).await?;
        Some(Storage {
            dir: tempfile::tempdir().unwrap(),
            database_url: Some(scratch.url().to_owned()),
            scratch: Some(scratch),
        })
    }

    /// A folder of its own on the same database: another node of the same deployment.
    pub fn another_node(&self) -> Storage {
        Storage {
            dir: tempfile::tempdir().unwrap(),
            database_url: self.database_url.clone(),
            scratch: None,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The database URL for opening it behind renkei's back (as an attacker would).
    pub fn raw_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir().join("renkei.db").display()),
        }
    }

    pub fn storage_args(&self) -> Vec<String> {
        let mut args = vec![
            "--data-dir".to_owned(),
            self.data_dir().display().to_string(),
        ];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".to_owned(), url.clone()]);
        }
        args
    }

    /// Runs `renkei admin <args>` with `stdin` as standard input.
    /// Admits a DICOM peer of the organization `first` from `allow` (`renkei admin add-dicom-peer`).
    pub fn add_dicom_peer(&self, ae_title: &str, allow: &str) {
        let added = self.admin(
            &[
                "add-dicom-peer",
                "--org",
                "first",
                "--ae-title",
                ae_title,
                "--allow",
                allow,
            ],
            "",
        );
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }

    pub fn admin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_renkei"))
            .arg("admin")
            .args(self.storage_args())
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

/// A running `renkei serve`.
pub struct Server {
    child: Child,
    pub base: String,
    /// Every line the server printed on stdout.
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr_path: PathBuf,
    /// The HTTP client of [`Server::client`] (one trusting a test CA over HTTPS).
    pub http: reqwest::Client,
}

impl Server {
    /// Starts the server on `storage` with extra `RENKEI_*` settings, on an ephemeral port.
    pub fn start(storage: &Storage, env: &[(&str, &str)]) -> Server {
        Server::start_on(storage, env, "127.0.0.1:0")
    }

    /// Starts the server on `storage` listening on `listen`.
    pub fn start_on(storage: &Storage, env: &[(&str, &str)], listen: &str) -> Server {
        Server::start_with(storage, env, listen, &[])
    }

    /// Starts the server as people reach it at `http://localhost:PORT`, its `public_url`: what
    /// passkeys (bound to that origin) and single sign-on (its callback under it) both need.
    pub fn start_at_localhost(storage: &Storage, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let public_url = format!("http://localhost:{port}");
        let mut env = env.to_vec();
        env.push(("RENKEI_PUBLIC_URL", &public_url));
        let mut server = Server::start_on(storage, &env, &format!("127.0.0.1:{port}"));
        server.base = public_url;
        server
    }

    /// Starts the server with extra `serve` flags.
    pub fn start_with(
        storage: &Storage,
        env: &[(&str, &str)],
        listen: &str,
        flags: &[&str],
    ) -> Server {
        let stderr_path = storage
            .dir
            .path()
            .join(format!("stderr-{}.log", renkei_core::new_id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_renkei"))
            .arg("serve")
            .args(storage.storage_args())
            .args(["--listen", listen])
            .args(flags)
            // Servers of parallel tests cannot share the default UDP port of the call relay.
            .env("RENKEI_CALL_UDP_LISTEN", "127.0.0.1:0")
            .envs(env.iter().copied())
            .current_dir(storage.dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("renkei listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "server did not start: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                )
            });
        Server {
            child,
            base,
            stdout,
            stderr_path,
            http: reqwest::Client::new(),
        }
    }

    /// The one-time password printed at first start, if it was.
    pub fn first_admin_password(&self) -> Option<String> {
        self.stdout.lock().unwrap().iter().find_map(|l| {
            l.trim()
                .strip_prefix("password:")
                .map(|p| p.trim().to_owned())
        })
    }

    /// The DICOM address the server printed, when it serves DICOM.
    pub fn dicom_addr(&self) -> Option<String> {
        self.printed_addr("renkei DICOM listening on ")
    }

    /// The address of DICOM over TLS the server printed, when it serves it.
    pub fn dicom_tls_addr(&self) -> Option<String> {
        self.printed_addr("renkei DICOM over TLS listening on ")
    }

    /// The first word after `prefix` on a line the server printed.
    pub fn printed_addr(&self, prefix: &str) -> Option<String> {
        self.stdout.lock().unwrap().iter().find_map(|l| {
            l.strip_prefix(prefix)
                .map(|rest| rest.split(' ').next().unwrap_or("").to_owned())
        })
    }

    /// The server's process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The address it listens on, e.g. `127.0.0.1:41234`.
    pub fn addr(&self) -> String {
        let base = self.base.trim_start_matches("https://");
        base.trim_start_matches("http://").to_owned()
    }

    /// Asks the process to stop (SIGTERM), as a service manager does.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Whether the process ended within `within`.
    pub fn exited_within(&mut self, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Kills the process at once (SIGKILL): no graceful shutdown.
    pub fn stop(mut self) {
        self.kill();
    }

    /// Kills the process at once (SIGKILL), keeping the handle (its logs stay readable).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// An anonymous client.
    pub fn client(&self) -> Api {
        Api {
            http: self.http.clone(),
            base: self.base.clone(),
            token: None,
        }
    }

    /// An anonymous client connecting from `local` (another loopback address, e.g.
    /// `127.0.0.2`: a client the per-address limit has not seen).
    pub fn client_from(&self, local: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .local_address(local.parse::<std::net::IpAddr>().unwrap())
                .build()
                .unwrap(),
            base: self.base.clone(),
            token: None,
        }
    }

    /// Signs in; panics unless it succeeds.
    pub async fn login(&self, login: &str, password: &str) -> Api {
        let mut api = self.client();
        let (status, body) = api
            .post(
                "/api/v1/auth/login",
                json!({"login": login, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {login}: {body}");
        api.token = Some(body["token"].as_str().unwrap().to_owned());
        api
    }

    /// Signs in as the first administrator and replaces the one-time password with `ADMIN_PASSWORD`.
    pub async fn first_admin(&self) -> Api {
        let one_time = self
            .first_admin_password()
            .expect("first start prints a password");
        let api = self.login("admin", &one_time).await;
        let (status, body) = api
            .put(
                "/api/v1/me/password",
                json!({"current_password": one_time, "new_password": ADMIN_PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        api
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const ADMIN_PASSWORD: &str = "admin password 2026";

/// The NATS server for tests of several nodes: `RENKEI_TEST_NATS_URL`, by default the local
/// one on port 4222; `None` (said aloud) when it is not reachable, a failure under `CI=true`.
pub fn shared_nats() -> Option<String> {
    let url = std::env::var("RENKEI_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let host = url.trim_start_matches("nats://");
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(host)
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        });
    if reachable {
        return Some(url);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "NATS is required under CI but {url} is not reachable"
    );
    eprintln!("SKIPPED: NATS is not reachable at {url} (scripts/test.sh starts one)");
    None
}

/// A NATS server of the test's own on an ephemeral port, to stop and start again.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
}

impl NatsServer {
    /// Starts `nats-server` (Debian's package; `scripts/setup.sh` installs it), or `None`
    /// (said aloud) without it.
    pub fn start() -> Option<NatsServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = NatsServer { child: None, port };
        if !server.resume() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "nats-server is required under CI"
            );
            eprintln!("SKIPPED: nats-server is not installed (scripts/setup.sh installs it)");
            return None;
        }
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on its port and waits until it accepts connections; false when
    /// `nats-server` cannot be run.
    pub fn resume(&mut self) -> bool {
        let Ok(child) = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return false;
        };
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not listen on {}", self.port);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Several `renkei serve` on one database, telling each other through NATS on subjects of
/// their own (a prefix unique to the test), as behind a load balancer.
pub struct Cluster {
    pub nodes: Vec<Server>,
    env: Vec<(String, String)>,
    /// Each node's NATS URL (none for a single node on its in-process bus).
    nats: Vec<String>,
}

impl Cluster {
    /// One node, on its in-process bus: what every single-node test runs.
    pub fn single(storage: &Storage) -> Cluster {
        Cluster {
            nodes: vec![Server::start(storage, &[])],
            env: Vec::new(),
            nats: Vec::new(),
        }
    }

    /// `count` nodes on `storage` (PostgreSQL) and the NATS server at `nats`, started one
    /// after the other (the first one creates the first administrator).
    pub fn start(storage: &Storage, nats: &str, count: usize, env: &[(&str, &str)]) -> Cluster {
        let owned: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Cluster::start_each(storage, &vec![nats.to_owned(); count], &owned)
    }

    /// One node per URL of `nats` (each reaching NATS its own way, e.g. through a
    /// [`link::Link`]), with the settings `env`, started one after the other.
    pub fn start_each(storage: &Storage, nats: &[String], env: &[(String, String)]) -> Cluster {
        let prefix = format!("test{}", renkei_core::new_id().simple());
        let mut all = vec![("RENKEI_NATS_SUBJECT_PREFIX".to_owned(), prefix)];
        all.extend(env.iter().cloned());
        let mut cluster = Cluster {
            nodes: Vec::new(),
            env: all,
            nats: nats.to_vec(),
        };
        for i in 0..nats.len() {
            let node = Server::start(storage, &cluster.env(i));
            cluster.nodes.push(node);
        }
        cluster
    }

    /// Node `i`'s settings.
    fn env(&self, i: usize) -> Vec<(&str, &str)> {
        let nats = self
            .nats
            .get(i)
            .map(|url| ("RENKEI_NATS_URL", url.as_str()));
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(nats)
            .collect()
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &Server {
        &self.nodes[i]
    }

    /// Node `i`'s address, e.g. `127.0.0.1:41234`.
    pub fn addr(&self, i: usize) -> String {
        self.nodes[i].addr()
    }

    /// Kills node `i` (SIGKILL), waits `down`, and starts it again on the same port.
    pub async fn kill_and_restart(&mut self, storage: &Storage, i: usize, down: Duration) {
        let listen = self.nodes[i].addr();
        self.nodes[i].kill();
        tokio::time::sleep(down).await;
        self.nodes[i] = Server::start_on(storage, &self.env(i), &listen);
    }
}

/// A JSON client with an optional bearer token.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    /// PUT naming the version edited in If-Match.
    pub async fn put_if_match(&self, path: &str, body: Value, version: i64) -> (StatusCode, Value) {
        let req = self.http.put(self.url(path)).json(&body);
        self.send(req.header("if-match", format!("\"{version}\"")))
            .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    pub async fn patch(
        &self,
        path: &str,
        body: Value,
        if_match: Option<i64>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.patch(self.url(path)).json(&body);
        if let Some(v) = if_match {
            req = req.header("if-match", format!("\"{v}\""));
        }
        self.send(req).await
    }

    /// Sends raw bytes with a content type.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        self.send(
            self.http
                .request(method, self.url(path))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    /// The caller's own organization id.
    pub async fn org_id(&self) -> String {
        let (status, me) = self.get("/api/v1/me").await;
        assert_eq!(status, StatusCode::OK, "{me}");
        me["user"]["org_id"].as_str().unwrap().to_owned()
    }

    /// Creates a user in `org` and returns it.
    pub async fn create_user(&self, org: &str, login: &str, password: &str, extra: Value) -> Value {
        let mut body = json!({
            "login": login, "display_name": format!("User {login}"), "kana": "てすと",
            "profession": "nurse", "password": password,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let (status, user) = self.post(&format!("/api/v1/orgs/{org}/users"), body).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        user
    }
}

/// Signs in as a freshly created user whose one-time password has been replaced.
pub async fn active_user(server: &Server, admin: &Api, org: &str, login: &str) -> (Api, Value) {
    active_user_with(server, admin, org, login, json!({})).await
}

/// Like [`active_user`], with extra fields for the new user (roles, profession…).
pub async fn active_user_with(
    server: &Server,
    admin: &Api,
    org: &str,
    login: &str,
    extra: Value,
) -> (Api, Value) {
    let user = admin
        .create_user(org, login, "one-time password", extra)
        .await;
    let api = server.login(login, "one-time password").await;
    let (status, body) = api
        .put(
            "/api/v1/me/password",
            json!({"current_password": "one-time password", "new_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    (api, user)
}

pub const USER_PASSWORD: &str = "user password 2026";

/// A user `login` of a new organization "Beppu Clinic", signed in with a permanent password.
pub async fn user_of_another_org(server: &Server, admin: &Api, login: &str) -> Api {
    let (_, other) = admin
        .post("/api/v1/orgs", json!({"name": "Beppu Clinic"}))
        .await;
    admin
        .create_user(
            other["id"].as_str().unwrap(),
            login,
            "one-time password",
            json!({}),
        )
        .await;
    let first = server.login(login, "one-time password").await;
    first
        .put(
            "/api/v1/me/password",
            json!({"current_password": "one-time password", "new_password": USER_PASSWORD}),
        )
        .await;
    server.login(login, USER_PASSWORD).await
}

/// A WebSocket client speaking renkei's protocol.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// The `welcome` frame, once [`Ws::connect`] read it (`conn` is this socket's id).
    pub welcome: Value,
}

/// How a WebSocket session ended: close code and reason.
#[derive(Debug, PartialEq)]
pub struct Closed(pub u16, pub String);

impl Ws {
    /// Connects without saying hello.
    pub async fn open(server: &Server) -> Ws {
        Ws::open_at(&server.addr()).await.unwrap()
    }

    /// Connects to `addr` without saying hello; `None` when nothing listens there.
    pub async fn open_at(addr: &str) -> Option<Ws> {
        let (stream, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .ok()?;
        Some(Ws {
            stream,
            welcome: Value::Null,
        })
    }

    /// Connects, says hello with `positions`, and reads up to `synced`; returns the replayed events.
    pub async fn connect(
        server: &Server,
        token: &str,
        positions: Option<Value>,
    ) -> (Ws, Vec<Value>) {
        Ws::connect_at(&server.addr(), token, positions).await
    }

    /// [`Ws::connect`] to `addr` (a node, or a load balancer in front of nodes).
    pub async fn connect_at(addr: &str, token: &str, positions: Option<Value>) -> (Ws, Vec<Value>) {
        let mut ws = Ws::open_at(addr).await.expect("a WebSocket");
        let mut hello = json!({"type": "hello", "token": token});
        if let Some(p) = positions {
            hello["positions"] = p;
        }
        ws.send(hello).await;
        let welcome = ws.next().await.expect("welcome");
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        ws.welcome = welcome;
        let mut replay = Vec::new();
        loop {
            let frame = ws.next().await.expect("replay or synced");
            match frame["type"].as_str() {
                Some("synced") => break,
                Some("event") => replay.push(frame["event"].clone()),
                _ => {}
            }
        }
        (ws, replay)
    }

    pub async fn send(&mut self, frame: Value) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                frame.to_string().into(),
            ))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, message: tokio_tungstenite::tungstenite::Message) {
        use futures_util::SinkExt;
        let _ = self.stream.send(message).await;
    }

    /// The next JSON frame within 5 s; `Err` with the close code when the server closed.
    pub async fn next_or_close(&mut self) -> Result<Value, Closed> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await;
            match next {
                Err(_) => return Err(Closed(0, "timeout".into())),
                Ok(None) | Ok(Some(Err(_))) => return Err(Closed(1006, "dropped".into())),
                Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t).unwrap()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(frame
                        .map(|f| Closed(f.code.into(), f.reason.to_string()))
                        .unwrap_or(Closed(1005, String::new())));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next JSON frame within 5 s, if any.
    pub async fn next(&mut self) -> Option<Value> {
        self.next_or_close().await.ok()
    }

    /// The next frame of `kind`, skipping others (typing, receipts…).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self
                .next()
                .await
                .unwrap_or_else(|| panic!("no {kind} frame"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Whether a frame of `kind` arrives within `ms`.
    pub async fn quiet_for(&mut self, kind: &str, ms: u64) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            match tokio::time::timeout(left, self.next_or_close()).await {
                Err(_) | Ok(Err(_)) => return true,
                Ok(Ok(frame)) if frame["type"] == kind => return false,
                Ok(Ok(_)) => continue,
            }
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `text` percent-encoded for a query string.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// pydicom's folder of real DICOM test files, or `None` (said aloud) without pydicom.
pub fn pydicom_test_files() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import pydicom,os;print(os.path.join(os.path.dirname(pydicom.__file__),'data','test_files'))"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    match out {
        Some(out) => Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())),
        None => {
            eprintln!("SKIPPED: pydicom is not installed (scripts/setup.sh installs it)");
            None
        }
    }
}

/// Splits simple CSV (quoted cells may hold commas and doubled quotes) into rows of cells.
#[allow(dead_code)]
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}
