//! Helpers for imaging tests: STOW-RS uploads, raw GETs, what pydicom reads from a file.

use std::path::Path;
use std::process::Command;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::Api;

/// A `multipart/related; type="application/dicom"` body of `files`: (content type, body).
pub fn multipart(files: &[Vec<u8>]) -> (String, Vec<u8>) {
    let boundary = "renkei-test-boundary";
    let mut body = Vec::new();
    for f in files {
        body.extend(format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
        body.extend(f);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"),
        body,
    )
}

/// STOW-RS of `files` in one request.
pub async fn stow(api: &Api, files: &[Vec<u8>]) -> (StatusCode, Value) {
    let (ct, body) = multipart(files);
    api.raw(Method::POST, "/dicomweb/studies", &ct, body).await
}

/// GET with the caller's token and an optional `Accept`: status, headers, body bytes.
pub async fn get_bytes_accepting(
    api: &Api,
    path: &str,
    accept: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = api.http.get(api.url(path));
    if let Some(token) = &api.token {
        req = req.bearer_auth(token);
    }
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// GET with the caller's token: status, headers, body bytes.
pub async fn get_bytes(api: &Api, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    get_bytes_accepting(api, path, None).await
}

/// The last `n` digits of an ID (what de-identification keeps of a Patient ID).
pub fn last_digits(id: &str, n: usize) -> String {
    let digits: Vec<char> = id.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(n)..].iter().collect()
}

/// What a Python expression over `d` (the file read by pydicom) prints, one line per value.
pub fn pydicom_eval(path: &Path, expressions: &[&str]) -> Vec<String> {
    let prints: String = expressions.iter().map(|e| format!(";print({e})")).collect();
    let script = format!(
        "import pydicom;p={:?};d=pydicom.dcmread(p){prints}",
        path.display().to_string()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
