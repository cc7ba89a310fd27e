//! The `renkei admin` command line, as IT staff use it, then the result seen over HTTP.

mod common;

use common::{Server, Storage};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    admin_commands_manage_accounts_end_to_end,
    bad_cli_input_is_refused_clearly,
    backup_is_private_and_never_overwrites
);

fn ok(output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn admin_commands_manage_accounts_end_to_end(storage: Storage) {
    ok(storage.admin(
        &[
            "create-org",
            "--name",
            "Oita University Hospital",
            "--slug",
            "oita-u",
        ],
        "",
    ));
    ok(storage.admin(
        &[
            "create-department",
            "--org",
            "oita-u",
            "--name",
            "Cardiovascular Surgery",
        ],
        "",
    ));
    let created = ok(storage.admin(
        &[
            "create-user",
            "--org",
            "oita-u",
            "--login",
            "tanaka",
            "--name",
            "田中 一郎",
            "--kana",
            "たなか いちろう",
            "--profession",
            "doctor",
            "--department",
            "Cardiovascular Surgery",
            "--role",
            "org_admin",
            "--password-stdin",
        ],
        "tanaka's password\n",
    ));
    assert!(created.contains("created user tanaka"));
    ok(storage.admin(
        &[
            "create-user",
            "--org",
            "oita-u",
            "--login",
            "sato",
            "--name",
            "佐藤 花子",
            "--profession",
            "nurse",
        ],
        "",
    ));
    let users: Value = serde_json::from_str(&ok(
        storage.admin(&["list-users", "--org", "oita-u", "--json"], "")
    ))
    .unwrap();
    let tanaka = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "tanaka")
        .unwrap()
        .clone();
    assert_eq!(
        (tanaka["romaji"].as_str(), tanaka["roles"].clone()),
        (Some("tanaka ichirou"), json!(["org_admin"]))
    );
    assert!(tanaka["department_id"].is_string());

    // An organization already exists, so serve creates no first admin; tanaka signs in.
    let server = Server::start(&storage, &[]);
    assert_eq!(server.first_admin_password(), None);
    let api = server.login("tanaka", "tanaka's password").await;
    let (status, _) = api.put("/api/v1/me/password", json!({"current_password": "tanaka's password", "new_password": "a brand new password"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = api.get("/api/v1/me").await;
    assert_eq!(me["organization"]["slug"], "oita-u");

    let retired = ok(storage.admin(&["retire-user", "--login", "tanaka"], ""));
    assert!(retired.contains("tanaka is now retired"));
    let (status, _) = api.get("/api/v1/me").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "retiring from the CLI ends live sessions too"
    );
    let table = ok(storage.admin(&["list-users", "--org", "oita-u"], ""));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("tanaka") && l.contains("retired")),
        "{table}"
    );
    let verified = ok(storage.admin(&["verify-audit"], ""));
    assert!(verified.contains("audit log intact"), "{verified}");

    // A backup, restored, opens as a data folder of its own (SQLite only).
    if storage.database_url.is_none() {
        let backup = storage.dir.path().join("backup");
        let restored = storage.dir.path().join("restored");
        ok(storage.admin(&["backup", "--to", backup.to_str().unwrap()], ""));
        ok(storage.admin(
            &[
                "restore",
                "--from",
                backup.to_str().unwrap(),
                "--data-dir",
                restored.to_str().unwrap(),
            ],
            "",
        ));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_renkei"))
            .args([
                "admin",
                "--data-dir",
                restored.to_str().unwrap(),
                "list-users",
                "--org",
                "oita-u",
            ])
            .output()
            .unwrap();
        assert!(ok(out).contains("tanaka"));
    }
}

async fn bad_cli_input_is_refused_clearly(storage: Storage) {
    let out = storage.admin(&["create-org", "--name", "大分大学病院"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("slug_required"));
    ok(storage.admin(&["create-org", "--name", "Oita", "--slug", "oita"], ""));
    let out = storage.admin(
        &["create-org", "--name", "Oita again", "--slug", "oita"],
        "",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("slug_taken"));
    let out = storage.admin(
        &[
            "create-user",
            "--org",
            "nowhere",
            "--login",
            "x1",
            "--name",
            "X",
            "--profession",
            "nurse",
        ],
        "",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organization"));
    let out = storage.admin(
        &[
            "create-user",
            "--org",
            "oita",
            "--login",
            "x1",
            "--name",
            "X",
            "--profession",
            "wizard",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("profession must be one of"));
    let out = storage.admin(
        &[
            "create-user",
            "--org",
            "oita",
            "--login",
            "x1",
            "--name",
            "X",
            "--profession",
            "nurse",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("weak_password"));
    let out = storage.admin(&["retire-user", "--login", "ghost"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));
    let users = ok(storage.admin(&["list-users", "--org", "oita", "--json"], ""));
    assert_eq!(
        serde_json::from_str::<Value>(&users).unwrap(),
        json!([]),
        "nothing was half-created"
    );
}

/// Settings come from `renkei.toml` in the working directory, `RENKEI_*` variables override
/// the file, and flags override both.
#[tokio::test]
async fn configuration_file_environment_and_flags_layer_in_order() {
    let storage = Storage::sqlite();
    std::fs::write(
        storage.dir.path().join("renkei.toml"),
        "login_attempts_per_minute = 1\nlisten = \"127.0.0.1:1\"\ndata_dir = \"/nonexistent/by-file\"\n",
    )
    .unwrap();
    // The file's listen address and data folder lose to the harness's flags; its attempt limit holds.
    let server = Server::start(&storage, &[]);
    let anon = server.client();
    let wrong = json!({"login": "admin", "password": "guess"});
    assert_eq!(
        anon.post("/api/v1/auth/login", wrong.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anon.post("/api/v1/auth/login", wrong.clone()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    server.stop();
    // The environment overrides the file.
    let server = Server::start(&storage, &[("RENKEI_LOGIN_ATTEMPTS_PER_MINUTE", "5")]);
    let anon = server.client();
    for _ in 0..3 {
        assert_eq!(
            anon.post("/api/v1/auth/login", wrong.clone()).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // A bad value is refused at start with a clear message.
    std::fs::write(
        storage.dir.path().join("renkei.toml"),
        "login_attempts_per_minute = \"many\"\n",
    )
    .unwrap();
    let out = storage.admin(&["verify-audit"], "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("configuration"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A backup holds message bodies and the audit log: only its owner may read it, and an
/// existing file is never overwritten.
async fn backup_is_private_and_never_overwrites(storage: Storage) {
    use std::os::unix::fs::PermissionsExt;
    ok(storage.admin(&["create-org", "--name", "Oita", "--slug", "oita"], ""));
    let copy = storage.dir.path().join("backup");
    let out = storage.admin(&["backup", "--to", copy.to_str().unwrap()], "");
    if storage.database_url.is_some() {
        assert!(
            !out.status.success(),
            "PostgreSQL is backed up with its own tools"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("docs/OPERATIONS.md"), "{stderr}");
        return;
    }
    ok(out);
    for (path, expected) in [
        (copy.clone(), 0o700),
        (copy.join("renkei.db"), 0o600),
        (copy.join("manifest.json"), 0o600),
    ] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{} is {mode:o}", path.display());
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(copy.join("manifest.json")).unwrap()).unwrap();
    let db = std::fs::metadata(copy.join("renkei.db")).unwrap().len();
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "renkei.db" && f["size"] == db),
        "{manifest}"
    );

    let again = storage.admin(&["backup", "--to", copy.to_str().unwrap()], "");
    assert!(
        !again.status.success(),
        "an existing backup is not overwritten"
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(std::fs::metadata(copy.join("renkei.db")).unwrap().len(), db);

    // A damaged backup is refused whole.
    let mut bytes = std::fs::read(copy.join("renkei.db")).unwrap();
    bytes[100] ^= 1;
    std::fs::write(copy.join("renkei.db"), bytes).unwrap();
    let target = storage.dir.path().join("restored");
    let damaged = storage.admin(
        &[
            "restore",
            "--from",
            copy.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ],
        "",
    );
    assert!(!damaged.status.success());
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert!(stderr.contains("does not match its manifest"), "{stderr}");
    assert!(!target.exists(), "nothing was restored");
}
