//! The schema version: `renkei --version` names it, and a database migrated by a newer release
//! (a migration this binary does not know) is refused at start with a clear message, unchanged.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, Storage};
use sqlx::{Connection, Row};

on_both_backends!(a_database_migrated_by_a_newer_release_is_refused);

#[test]
fn the_version_names_the_schema_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "renkei {} (database schema {})",
            env!("CARGO_PKG_VERSION"),
            renkei_store::SCHEMA_VERSION
        )
    );
}

async fn a_database_migrated_by_a_newer_release_is_refused(storage: Storage) {
    Server::start(&storage, &[]).stop();
    let future = renkei_store::SCHEMA_VERSION + 1;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&storage.raw_url())
        .await
        .unwrap();
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)")
        .bind(future)
        .bind("from_a_newer_release")
        .execute(&mut conn)
        .await
        .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .arg("serve")
        .args(storage.storage_args())
        .args(["--listen", "127.0.0.1:0"])
        .env("RENKEI_CALL_UDP_LISTEN", "127.0.0.1:0")
        .current_dir(storage.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("renkei started on a database from a newer release");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "the start fails");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("schema is version {future}"))
            && stderr.contains(&format!("up to {}", renkei_store::SCHEMA_VERSION))
            && stderr.contains("never migrates backwards"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening"),
        "nothing is served"
    );
    let newest: i64 = sqlx::query("SELECT MAX(version) AS v FROM schema_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("v");
    assert_eq!(newest, future, "the database is left as it was");
    conn.close().await.unwrap();
}
