//! Helpers for imaging tests: STOW-RS uploads, raw GETs, multipart answers, finding a study
//! with QIDO-RS, what pydicom reads from a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The parts of a `multipart/related` response, and each part's content type.
pub fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a boundary")
        .trim_matches('"');
    let delimiter = format!("\r\n--{boundary}");
    let mut body = [b"\r\n".as_slice(), body].concat();
    let mut out = Vec::new();
    loop {
        let at = find(&body, delimiter.as_bytes()).expect("a delimiter");
        let rest = body[at + delimiter.len()..].to_vec();
        if rest.starts_with(b"--") {
            return out;
        }
        let head_end = find(&rest, b"\r\n\r\n").expect("part headers");
        let head = String::from_utf8_lossy(&rest[2..head_end]).to_string();
        let ct = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Type: "))
            .unwrap_or("")
            .to_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter.as_bytes()).expect("the next delimiter");
        out.push((ct, content[..end].to_vec()));
        body = content[end..].to_vec();
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn uid(object: &Value, tag: &str) -> String {
    object[tag]["Value"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{tag} in {object}"))
        .to_owned()
}

/// The one study QIDO-RS finds for `query`, with its (series, instances) UIDs.
pub async fn locate(api: &Api, query: &str) -> (String, String, Vec<String>) {
    let (status, found) = api.get(&format!("/dicomweb/studies?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1, "{query}: {found}");
    let study = uid(&found[0], "0020000D");
    let (_, series) = api.get(&format!("/dicomweb/studies/{study}/series")).await;
    let series = uid(&series[0], "0020000E");
    let (_, instances) = api
        .get(&format!(
            "/dicomweb/studies/{study}/series/{series}/instances"
        ))
        .await;
    let sops = instances
        .as_array()
        .unwrap()
        .iter()
        .map(|i| uid(i, "00080018"))
        .collect();
    (study, series, sops)
}

/// Runs a dcmtk tool (`echoscu`, `storescu`); `None`, saying so, when dcmtk is not installed.
pub fn dcmtk(tool: &str, args: &[&str]) -> Option<Output> {
    let out = Command::new(tool)
        .args(args)
        .env("TCP_NODELAY", "1")
        .output();
    match out {
        Ok(out) => Some(out),
        Err(_) => {
            eprintln!("SKIPPED: dcmtk's {tool} is not installed (scripts/setup.sh installs it)");
            None
        }
    }
}

/// Rows and columns of [`device_image`].
pub const DEVICE_IMAGE_SIZE: (u32, u32) = (48, 64);

/// An identified ultrasound-like RGB image from `manufacturer`'s `model`, every sample 200,
/// written to `path` by pydicom (Explicit VR Little Endian).
pub fn device_image(path: &Path, manufacturer: &str, model: &str) {
    let (rows, columns) = DEVICE_IMAGE_SIZE;
    let script = format!(
        r#"
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import generate_uid, ExplicitVRLittleEndian
us = '1.2.840.10008.5.1.4.1.1.6.1'
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID, meta.TransferSyntaxUID = us, ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID, ds.SOPInstanceUID = us, generate_uid()
meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
ds.PatientName, ds.PatientID, ds.StudyDate = 'YAMADA^TARO', 'P-0012345678', '20260101'
ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = 'US', {manufacturer:?}, {model:?}
ds.BurnedInAnnotation = 'YES'
ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, 'RGB', 0
ds.Rows, ds.Columns = {rows}, {columns}
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
ds.PixelData = bytes([200]) * ({rows} * {columns} * 3)
ds.save_as({path:?}, enforce_file_format=True)
"#,
        path = path.display().to_string(),
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
}

/// A redaction rule for [`device_image`]'s device (ACME Medical Sono 5, ultrasound): the
/// top band of 8 rows blanked.
pub fn acme_rule() -> Value {
    let (rows, columns) = DEVICE_IMAGE_SIZE;
    serde_json::json!({
        "manufacturer": "ACME Medical",
        "model": "Sono 5",
        "rows": rows,
        "columns": columns,
        "modality": "US",
        "rectangles": [{"x": 0, "y": 0, "width": columns, "height": 8}],
    })
}

/// The generator of burned-in text images (`renkei-dicom/tests/burned_in_images.py`).
pub fn burned_in_generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../renkei-dicom/tests/burned_in_images.py")
}

/// A generated single-frame DICOM file (its path) of `kind` (us, cr), with text or clean, of
/// `modality`, with Burned In Annotation `burned_in` and (Manufacturer, Model) `device` when
/// given; a new SOP Instance UID each time.
pub fn generated_file(
    dir: &Path,
    (kind, text, modality): (&str, &str, &str),
    burned_in: Option<&str>,
    device: Option<(&str, &str)>,
) -> PathBuf {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{kind}-{text}-{modality}-{n}.dcm"));
    let mut args = vec![
        "dicom".to_owned(),
        path.to_str().unwrap().to_owned(),
        kind.into(),
        text.into(),
        modality.into(),
        burned_in.unwrap_or("-").to_owned(),
    ];
    if let Some((manufacturer, model)) = device {
        args.extend([manufacturer.to_owned(), model.to_owned()]);
    }
    let status = Command::new("python3")
        .arg(burned_in_generator())
        .args(&args)
        .status()
        .unwrap();
    assert!(status.success(), "the generator failed");
    path
}

/// The bytes of [`generated_file`].
pub fn generated(
    dir: &Path,
    kind: &str,
    text: &str,
    modality: &str,
    burned_in: Option<&str>,
    device: Option<(&str, &str)>,
) -> Vec<u8> {
    std::fs::read(generated_file(
        dir,
        (kind, text, modality),
        burned_in,
        device,
    ))
    .unwrap()
}

/// Frame 1 of the only instance of the only study of `api`'s inbox, as native bytes
/// (WADO-RS), with the instance's metadata.
pub async fn only_frame(api: &Api) -> (Vec<u8>, Value) {
    let (study, series, sops) = locate(api, "").await;
    assert_eq!(sops.len(), 1);
    let base = format!(
        "/dicomweb/studies/{study}/series/{series}/instances/{}",
        sops[0]
    );
    let (status, headers, body) = get_bytes(api, &format!("{base}/frames/1")).await;
    assert_eq!(status, StatusCode::OK);
    let found = parts(headers["content-type"].to_str().unwrap_or_default(), &body);
    let (_, meta) = api.get(&format!("{base}/metadata")).await;
    (found[0].1.clone(), meta[0].clone())
}

/// Checks an RGB frame of [`device_image`]: black inside `(x, y, width, height)`, 200 elsewhere.
pub fn assert_blanked_rgb(frame: &[u8], (x, y, width, height): (usize, usize, usize, usize)) {
    let (rows, columns) = (DEVICE_IMAGE_SIZE.0 as usize, DEVICE_IMAGE_SIZE.1 as usize);
    assert_eq!(frame.len(), rows * columns * 3);
    for row in 0..rows {
        for column in 0..columns {
            let inside = (x..x + width).contains(&column) && (y..y + height).contains(&row);
            let i = (row * columns + column) * 3;
            let expected = if inside { [0, 0, 0] } else { [200, 200, 200] };
            assert_eq!(frame[i..i + 3], expected, "({column},{row})");
        }
    }
}
