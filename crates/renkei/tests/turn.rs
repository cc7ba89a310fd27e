//! TURN against a real coturn (`turnserver`, Debian's `coturn`) on loopback, configured as
//! docs/CALLS.md tells an operator (`use-auth-secret`, `static-auth-secret`): it accepts the
//! credentials renkei mints at `GET /api/v1/calls/turn`, refuses a wrong or expired one, and
//! with `denied-peer-ip` over loopback refuses to relay there. Skipped loudly without coturn
//! (and failed under `CI=true`).

mod common;

use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Server, Storage, active_user};
use renkei_core::Uuid;
use reqwest::StatusCode;

const SECRET: &str = "turn shared secret for tests";

/// A `turnserver` of ours, stopped when dropped.
struct Coturn {
    child: Child,
    port: u16,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether coturn is installed; otherwise says so (and fails under CI).
fn coturn_installed() -> bool {
    let found = Command::new("turnserver").arg("--version").output().is_ok()
        && Command::new("turnutils_uclient")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "coturn is required under CI (scripts/setup.sh installs it)"
        );
        eprintln!("SKIPPED: coturn's turnserver is not installed (scripts/setup.sh installs it)");
    }
    found
}

/// A loopback port free for both UDP and TCP.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts coturn on loopback with the REST-API secret; `extra` adds options.
fn coturn(dir: &Path, extra: &[&str]) -> Coturn {
    let port = free_port();
    let log = std::fs::File::create(dir.join(format!("turn-{port}.log"))).unwrap();
    let child = Command::new("turnserver")
        .args([
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            "--use-auth-secret",
            &format!("--static-auth-secret={SECRET}"),
            "--realm=renkei.test",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--simple-log",
            "--log-file=stdout",
            &format!(
                "--pidfile={}",
                dir.join(format!("turn-{port}.pid")).display()
            ),
            &format!("--db={}", dir.join(format!("turn-{port}.db")).display()),
        ])
        .args(extra)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start turnserver");
    let turn = Coturn { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "turnserver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    turn
}

/// Allocates a relay on `turn` with these credentials and sends one message through it
/// (`turnutils_uclient -y`: client to client over two allocations).
fn relay_through(turn: &Coturn, username: &str, credential: &str) -> Output {
    Command::new("timeout")
        .args(["30", "turnutils_uclient", "-u", username, "-w", credential])
        .args(["-y", "-n", "1", "-p", &turn.port.to_string(), "127.0.0.1"])
        .output()
        .expect("run turnutils_uclient")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coturn_accepts_minted_credentials_and_refuses_wrong_expired_and_loopback_relays() {
    if !coturn_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let turn = coturn(dir.path(), &["--allow-loopback-peers"]);
    let url = format!("turn:127.0.0.1:{}", turn.port);
    let storage = Storage::sqlite();
    let server = Server::start(
        &storage,
        &[
            ("RENKEI_TURN_SECRET", SECRET),
            ("RENKEI_TURN_URLS", &format!("[\"{url}\"]")),
            ("RENKEI_TURN_TTL_SECONDS", "600"),
        ],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (alice, user) = active_user(&server, &admin, &org, "alice").await;
    let user_id: Uuid = user["id"].as_str().unwrap().parse().unwrap();

    let (status, creds) = alice.get("/api/v1/calls/turn").await;
    assert_eq!(status, StatusCode::OK, "{creds}");
    assert_eq!(creds["urls"], serde_json::json!([url]));
    assert_eq!(creds["ttl"], 600);
    let username = creds["username"].as_str().unwrap();
    let credential = creds["credential"].as_str().unwrap();
    let (expiry, who) = username.split_once(':').unwrap();
    assert_eq!(who, user_id.to_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((expiry.parse::<i64>().unwrap() - (now + 600)).abs() < 60);

    let ok = relay_through(&turn, username, credential);
    assert!(
        ok.status.success(),
        "coturn refused renkei's credentials: {}",
        text(&ok)
    );
    assert!(text(&ok).contains("Total lost packets 0"), "{}", text(&ok));

    let wrong = relay_through(&turn, username, "bm90IHRoZSBjcmVkZW50aWFsIGF0IGFsbA==");
    assert!(
        !wrong.status.success(),
        "a wrong credential: {}",
        text(&wrong)
    );
    assert!(text(&wrong).contains("Cannot complete Allocation"));

    let (old_user, old_credential) = renkei_core::call::turn_credentials(SECRET, user_id, now - 60);
    let expired = relay_through(&turn, &old_user, &old_credential);
    assert!(
        !expired.status.success(),
        "an expired credential: {}",
        text(&expired)
    );
    assert!(text(&expired).contains("Cannot complete Allocation"));
    drop(turn);

    // As operators run it (docs/CALLS.md): no relaying to loopback or private ranges.
    let guarded = coturn(
        dir.path(),
        &[
            "--denied-peer-ip=127.0.0.0-127.255.255.255",
            "--denied-peer-ip=10.0.0.0-10.255.255.255",
        ],
    );
    let refused = relay_through(&guarded, username, credential);
    assert!(
        !refused.status.success(),
        "a relay to loopback: {}",
        text(&refused)
    );
    assert!(text(&refused).contains("403"), "{}", text(&refused));
    server.stop();
}
