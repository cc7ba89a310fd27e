//! The web client's copy of the OpenAPI document (`web/openapi.json`, which its TypeScript
//! types are generated from) is exactly what `renkei openapi` prints and what the server serves.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, Storage};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(the_web_clients_copy_is_the_served_document);

const REGENERATE: &str = "regenerate it: cargo run -p renkei -- openapi > web/openapi.json && \
                          (cd web && npm run gen:api)";

/// `web/openapi.json`, as committed.
fn committed_copy() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn the_web_clients_copy_is_the_served_document(storage: Storage) {
    let committed = committed_copy();

    let printed = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .arg("openapi")
        .output()
        .expect("run renkei openapi");
    assert!(
        printed.status.success(),
        "renkei openapi failed: {printed:?}"
    );
    let printed = String::from_utf8(printed.stdout).expect("UTF-8");
    assert!(
        printed == committed,
        "web/openapi.json is not what `renkei openapi` prints; {REGENERATE}"
    );

    let server = Server::start(&storage, &[]);
    let (status, served) = server.client().get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{served}");
    let committed: Value = serde_json::from_str(&committed).expect("web/openapi.json is JSON");
    assert!(
        committed == served,
        "web/openapi.json is not the document the server serves; {REGENERATE}"
    );
}
