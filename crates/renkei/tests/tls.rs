//! renkei's own TLS, against a throw-away CA: HTTPS (TLS 1.2 and 1.3, never older), HSTS and
//! Secure cookies, WebSocket over wss, the certificate reloaded on SIGHUP while open
//! connections go on, the plain-HTTP redirect, and DICOM over TLS from dcmtk's storescu.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::dicom::dcmtk;
use common::tls::TestCa;
use common::{Server, Storage, contains, pydicom_test_files};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A server on `storage` serving HTTPS with `cert`, with `extra` settings.
fn start_tls(
    storage: &Storage,
    ca: &TestCa,
    cert: &common::tls::ServerCert,
    extra: &[(&str, &str)],
) -> Server {
    let (cert_path, key_path) = (
        cert.cert_path.display().to_string(),
        cert.key_path.display().to_string(),
    );
    let mut env = vec![
        ("RENKEI_TLS_CERT", cert_path.as_str()),
        ("RENKEI_TLS_KEY", key_path.as_str()),
    ];
    env.extend_from_slice(extra);
    let mut server = Server::start(storage, &env);
    server.http = ca.client().build().unwrap();
    server
}

/// Sends SIGHUP to the server.
fn hang_up(server: &Server) {
    let sent = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits until `check` holds, for at most 10 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(10), "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A WebSocket over TLS to `addr`, signed in with `token` (past `welcome` and `synced`).
async fn wss(
    ca: &TestCa,
    addr: &str,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tls = ca.connect(addr).await.expect("a TLS handshake");
    let port = addr.rsplit_once(':').unwrap().1;
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://localhost:{port}/ws"), tls)
        .await
        .expect("a WebSocket over TLS");
    ws.send(Message::Text(
        json!({"type": "hello", "token": token}).to_string().into(),
    ))
    .await
    .unwrap();
    next_of(&mut ws, "welcome").await;
    next_of(&mut ws, "synced").await;
    ws
}

async fn next_of<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>, kind: &str) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} frame"))
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == kind {
                return value;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_hsts_secure_cookies_wss_a_redirect_and_certificates_reloaded_on_sighup() {
    let storage = Storage::sqlite();
    let ca = TestCa::new(storage.dir.path());
    let first = ca.issue(storage.dir.path(), "first");
    let server = start_tls(
        &storage,
        &ca,
        &first,
        &[("RENKEI_HTTP_REDIRECT_LISTEN", "127.0.0.1:0")],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let admin = server.first_admin().await;
    let token = admin.token.clone().unwrap();

    // Signing in over HTTPS: HSTS on the answer, both cookies Secure (without secure_cookies).
    let login = server
        .http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"login": "admin", "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(
        login.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookies: Vec<&str> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );

    // TLS 1.2 is served as well as 1.3.
    let tls12 = ca
        .client()
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let health = tls12
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    refuses_tls_1_1(&server.addr(), &ca);

    // Plain HTTP on the redirect port: 301 to the same path and query on HTTPS.
    let redirect_addr = server
        .printed_addr("renkei redirecting http://")
        .expect("the redirect address is printed");
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = plain
        .get(format!("http://{redirect_addr}/app/chat?c=42"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::MOVED_PERMANENTLY);
    let port = server.addr().rsplit_once(':').unwrap().1.to_owned();
    assert_eq!(
        moved.headers()["location"],
        format!("https://127.0.0.1:{port}/app/chat?c=42").as_str()
    );

    // A WebSocket over TLS, open across both reloads below.
    let addr = server.addr();
    let mut open = wss(&ca, &addr, &token).await;
    assert_eq!(ca.served_leaf(&addr).await, first.leaf_der);

    // Broken files: SIGHUP keeps the pair in use, and says so.
    std::fs::write(&first.cert_path, "not a certificate").unwrap();
    hang_up(&server);
    eventually("the failed reload is logged", async || {
        server.logs().contains("not reloaded")
    })
    .await;
    assert_eq!(ca.served_leaf(&addr).await, first.leaf_der);

    // A new certificate: served to new connections after SIGHUP.
    let second = ca.issue(storage.dir.path(), "second");
    std::fs::copy(&second.cert_path, &first.cert_path).unwrap();
    std::fs::copy(&second.key_path, &first.key_path).unwrap();
    hang_up(&server);
    eventually("the new certificate is served", async || {
        ca.served_leaf(&addr).await == second.leaf_der
    })
    .await;
    let (status, _) = server.client().get("/healthz").await;
    assert_eq!(status, StatusCode::OK);

    // The socket opened before both reloads still answers.
    open.send(Message::Text(
        json!({"type": "ping", "active": true}).to_string().into(),
    ))
    .await
    .unwrap();
    next_of(&mut open, "pong").await;
}

/// A client that offers at most TLS 1.1 is turned away by the server: curl (allowed to offer
/// it by OpenSSL's security level 0) gets a fatal alert back for its ClientHello.
fn refuses_tls_1_1(addr: &str, ca: &TestCa) {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--tlsv1.1", "--tls-max", "1.1"])
        .args(["--ciphers", "DEFAULT@SECLEVEL=0", "--cacert"])
        .arg(&ca.ca_path)
        .arg(format!("https://{addr}/healthz"))
        .output();
    let Ok(out) = out else {
        eprintln!("SKIPPED: the TLS 1.1 check needs curl (scripts/setup.sh installs it)");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "TLS 1.1 was accepted");
    assert!(
        stderr.contains("alert"),
        "the server's alert, not a client-side refusal: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storescu_over_tls_stores_de_identified_instances() {
    let Some(files) = pydicom_test_files() else {
        return;
    };
    let ct = files.join("CT_small.dcm").display().to_string();
    let storage = Storage::sqlite();
    let ca = TestCa::new(storage.dir.path());
    let cert = ca.issue(storage.dir.path(), "server");
    let server = start_tls(
        &storage,
        &ca,
        &cert,
        &[("RENKEI_DICOM_TLS_LISTEN", "127.0.0.1:0")],
    );
    let admin = server.first_admin().await;
    storage.add_dicom_peer("CT01", "127.0.0.0/8");
    let addr = server
        .dicom_tls_addr()
        .expect("the DICOM TLS port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();

    // Plain DICOM on the TLS port gets nowhere.
    let Some(plain) = dcmtk(
        "storescu",
        &["-aet", "CT01", "-aec", "RENKEI", host, port, &ct],
    ) else {
        return;
    };
    assert!(!plain.status.success(), "plain DICOM on the TLS port");

    // storescu over TLS, checking the server's certificate against the CA.
    let ca_path = ca.ca_path.display().to_string();
    let sent = dcmtk(
        "storescu",
        &[
            "+tla", "+cf", &ca_path, "-aet", "CT01", "-aec", "RENKEI", host, port, &ct,
        ],
    )
    .unwrap();
    assert!(
        sent.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&sent.stderr),
        server.logs()
    );

    // Stored as over plain DICOM: in the inbox, de-identified.
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox}");
    let (study, series, sops) = common::dicom::locate(&admin, "ModalitiesInStudy=CT").await;
    let (status, _, body) = common::dicom::get_bytes_accepting(
        &admin,
        &format!(
            "/dicomweb/studies/{study}/series/{series}/instances/{}",
            sops[0]
        ),
        Some("multipart/related; type=\"application/dicom\""),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.len() > 1000);
    assert!(
        !contains(&body, b"CompressedSamples"),
        "the patient's name is gone"
    );
}
