//! Upgrades: every database kept in `tests/fixtures` (written by an earlier release with
//! `scripts/make-upgrade-fixture.sh`) is migrated forward by this binary at start and still
//! reads: its users sign in, their messages (sealed at that start) and their study are there.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Server, Storage};
use reqwest::StatusCode;

const PASSWORD: &str = "fixture password 2026";
/// The master key the fixtures were made with (`scripts/make-upgrade-fixture.sh`).
const MASTER_KEY: &str = "cmVua2VpIHVwZ3JhZGUgZml4dHVyZSwgbm8gc2VjcmU=";

/// The fixtures whose names end with `suffix`, oldest schema first.
fn fixtures(suffix: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .strip_prefix("upgrade-schema-")?
                .strip_suffix(suffix)?
                .parse()
                .ok()?;
            Some((version, entry.path()))
        })
        .collect();
    found.sort();
    assert!(
        !found.is_empty(),
        "no *{suffix} fixture in {}",
        dir.display()
    );
    found.into_iter().map(|(_, path)| path).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_databases_of_earlier_releases_migrate_and_read() {
    for fixture in fixtures(".sqlite") {
        let storage = Storage::sqlite();
        std::fs::create_dir_all(storage.data_dir()).unwrap();
        std::fs::copy(&fixture, storage.data_dir().join("renkei.db")).unwrap();
        still_reads(&storage, &fixture).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_dumps_of_earlier_releases_migrate_and_read() {
    for fixture in fixtures(".pg.sql") {
        let Some(storage) = Storage::postgres("upgrade").await else {
            return;
        };
        let loaded = Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(&fixture)
            .arg(storage.database_url.as_deref().unwrap())
            .output()
            .expect("psql runs (scripts/setup.sh installs it)");
        assert!(
            loaded.status.success(),
            "{}: {}",
            fixture.display(),
            String::from_utf8_lossy(&loaded.stderr)
        );
        still_reads(&storage, &fixture).await;
    }
}

/// Starts this binary on the fixture's database (migrating it) and reads what it holds.
async fn still_reads(storage: &Storage, fixture: &std::path::Path) {
    let name = fixture.display();
    let server = Server::start(storage, &[("RENKEI_MASTER_KEY", MASTER_KEY)]);
    for login in ["doctor-a", "nurse-b"] {
        let api = server.login(login, PASSWORD).await;
        let (status, conversations) = api.get("/api/v1/conversations").await;
        assert_eq!(status, StatusCode::OK, "{name}: {conversations}");
        let ward = conversations
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == "Ward 3")
            .unwrap_or_else(|| panic!("{name}: {login} sees Ward 3: {conversations}"));
        let (status, history) = api
            .get(&format!(
                "/api/v1/conversations/{}/messages",
                ward["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {history}");
        let bodies: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["body"].as_str())
            .collect();
        assert_eq!(
            bodies,
            [
                "fixture message 1",
                "fixture message 2",
                "fixture message 3"
            ],
            "{name}"
        );
        // Sealed at the first start, and indexed: search finds them.
        let (status, found) = api.get("/api/v1/search/messages?q=message%202").await;
        assert_eq!(status, StatusCode::OK, "{name}: {found}");
        assert_eq!(found[0]["body"], "fixture message 2", "{name}: {found}");
        assert_eq!(found.as_array().map(Vec::len), Some(1), "{name}: {found}");
    }
    let doctor = server.login("doctor-a", PASSWORD).await;
    let (status, studies) = doctor.get("/api/v1/studies").await;
    assert_eq!(status, StatusCode::OK, "{name}: {studies}");
    assert_eq!(
        studies.as_array().map(|s| s.len()),
        Some(1),
        "{name}: the CT is listed: {studies}"
    );
    assert_eq!(studies[0]["modalities"][0], "CT", "{name}");
}
