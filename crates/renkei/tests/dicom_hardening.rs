//! DICOM under abuse: peers must be tied to addresses, large instances and uploads go to
//! sealed spill files instead of memory, and a gateway's instance is verified against the
//! whole confidentiality profile before it is stored.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::dicom::{multipart, stow};
use common::{Server, Storage, pydicom_test_files};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    a_dicom_peer_needs_an_address_range,
    large_instances_and_uploads_spill_sealed_and_memory_stays_flat,
    a_gateway_instance_with_identifiers_left_is_refused
);

fn dcmtk(tool: &str, args: &[&str]) -> Option<Output> {
    match Command::new(tool)
        .args(args)
        .env("TCP_NODELAY", "1")
        .output()
    {
        Ok(out) => Some(out),
        Err(_) => {
            eprintln!("SKIPPED: dcmtk's {tool} is not installed (scripts/setup.sh installs it)");
            None
        }
    }
}

/// Peak resident memory of a process (VmHWM), from /proc.
fn peak_resident_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn spill_files(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir.join("spill"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

async fn a_dicom_peer_needs_an_address_range(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let add = |extra: &[&str]| {
        let mut args = vec!["add-dicom-peer", "--org", "first", "--ae-title"];
        args.extend_from_slice(extra);
        storage.admin(&args, "")
    };
    let refused = add(&["CT01"]);
    assert!(
        !refused.status.success(),
        "a peer from any address by default"
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--allow"), "{said}");
    let listed = storage.admin(&["list-dicom-peers", "--org", "first"], "");
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("CT01"));

    let ranged = add(&["CT01", "--allow", "10.1.2.0/24"]);
    assert!(ranged.status.success(), "{ranged:?}");
    let both = add(&["CT02", "--allow", "10.1.2.0/24", "--allow-any-address"]);
    assert!(!both.status.success(), "a range and any address at once");

    let anywhere = add(&["CT03", "--allow-any-address"]);
    assert!(anywhere.status.success(), "{anywhere:?}");
    let warned = String::from_utf8_lossy(&anywhere.stderr);
    assert!(
        warned.contains("WARNING") && warned.contains("ANY address"),
        "{warned}"
    );
    let (status, audit) = admin.get("/api/v1/audit?action=dicom_peer.add").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries = audit.as_array().expect("entries");
    let any_of = |any: bool| {
        entries
            .iter()
            .filter(|e| e.to_string().contains(&format!("\"any_address\":{any}")))
            .count()
    };
    assert_eq!((any_of(true), any_of(false)), (1, 1), "{audit}");
}

async fn large_instances_and_uploads_spill_sealed_and_memory_stays_flat(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let server = Server::start_with(
        &storage,
        &[
            ("RENKEI_DICOM_SPILL_THRESHOLD", "16384"),
            ("RENKEI_DICOM_MAX_INSTANCE_SIZE", "30000000"),
        ],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let data_dir = storage.data_dir();

    // C-STORE above the spill threshold: stored, its spill file gone.
    let peer = storage.admin(
        &[
            "add-dicom-peer",
            "--org",
            "first",
            "--ae-title",
            "STORESCU",
            "--allow",
            "127.0.0.0/8",
        ],
        "",
    );
    assert!(peer.status.success(), "{peer:?}");
    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();
    let ct = dir.join("CT_small.dcm").display().to_string();
    let Some(sent) = dcmtk(
        "storescu",
        &["-aet", "STORESCU", "-aec", "RENKEI", host, port, &ct],
    ) else {
        return;
    };
    assert!(sent.status.success(), "{sent:?}");
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox.as_array().map(Vec::len), Some(1), "{inbox}");
    assert_eq!(spill_files(&data_dir), 0, "the spill file was removed");

    // STOW-RS of 64 parts of 1 MB: read as it arrives, so the server's peak memory does not
    // grow by the upload's size (it grew by more than the body when the body was buffered).
    let before = peak_resident_bytes(server.pid());
    assert!(before > 0, "no /proc for the server");
    let part: Vec<u8> = b"not DICOM, just bytes. "
        .iter()
        .copied()
        .cycle()
        .take(1 << 20)
        .collect();
    let files = vec![part; 64];
    let (status, reply) = stow(&admin, &files).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    let failed = reply["00081198"]["Value"].as_array().expect("failures");
    assert_eq!(failed.len(), 64);
    let grown = peak_resident_bytes(server.pid()).saturating_sub(before);
    assert!(
        grown < 40 << 20,
        "peak memory grew by {grown} bytes for a 64 MB upload"
    );
    assert_eq!(spill_files(&data_dir), 0, "every spill file was removed");

    // A large part is stored whole after its trip through a spill file.
    let large = std::fs::read(dir.join("examples_rgb_color.dcm")).unwrap();
    let (status, reply) = stow(&admin, &[large]).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(spill_files(&data_dir), 0);
    let (_, inbox) = admin.get("/api/v1/studies").await;
    assert_eq!(inbox.as_array().map(Vec::len), Some(2), "{inbox}");
}

/// A small CT marked as de-identified by renkei (UIDs under 2.25, neutral name, the profile's
/// markers), with `extra` Python statements over `d` applied; written to `out`.
fn marked_instance(out: &Path, study: &str, extra: &str) {
    let script = format!(
        r#"
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian
d = Dataset()
d.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
d.SOPInstanceUID = "2.25.{study}1"
d.StudyInstanceUID = "2.25.{study}"
d.SeriesInstanceUID = "2.25.{study}2"
d.Modality = "CT"
d.PatientName = "ANONYMOUS"
d.PatientID = "1234"
d.PatientIdentityRemoved = "YES"
d.DeidentificationMethod = ["DICOM PS3.15 2024b Table E.1-1", "Basic Application Confidentiality Profile"]
code = Dataset()
code.CodeValue = "113100"
code.CodingSchemeDesignator = "DCM"
code.CodeMeaning = "Basic Application Confidentiality Profile"
d.DeidentificationMethodCodeSequence = Sequence([code])
d.Rows = 2
d.Columns = 2
d.BitsAllocated = 16
d.BitsStored = 16
d.HighBit = 15
d.PixelRepresentation = 0
d.SamplesPerPixel = 1
d.PhotometricInterpretation = "MONOCHROME2"
d.PixelData = bytes(8)
{extra}
d.file_meta = FileMetaDataset()
d.file_meta.MediaStorageSOPClassUID = d.SOPClassUID
d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
d.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
d.save_as({out:?}, enforce_file_format=True)
"#,
        out = out.display().to_string()
    );
    let done = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

async fn a_gateway_instance_with_identifiers_left_is_refused(storage: Storage) {
    if pydicom_test_files().is_none() {
        return;
    }
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let added = storage.admin(
        &["create-gateway", "--org", "first", "--name", "ward-b"],
        "",
    );
    assert!(added.status.success(), "{added:?}");
    let token = String::from_utf8_lossy(&added.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .expect("the token is printed")
        .to_owned();
    let as_gateway = |bytes: Vec<u8>| {
        let (content_type, body) = multipart(&[bytes]);
        reqwest::Client::new()
            .post(format!("{}/dicomweb/studies", server.base))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
    };
    let files = tempfile::tempdir().unwrap();

    // Marked and clean: stored as sent.
    let clean = files.path().join("clean.dcm");
    marked_instance(&clean, "1001", "");
    let reply = as_gateway(std::fs::read(&clean).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.status(),
        StatusCode::OK,
        "{}",
        reply.text().await.unwrap()
    );

    // Marked, but each still carrying what Table E.1-1 removes, empties or replaces.
    let planted = [
        ("(0010,0030)", "d.PatientBirthDate = '19600102'"),
        ("(0008,0050)", "d.AccessionNumber = 'ACC998877'"),
        ("(0010,1000)", "d.OtherPatientIDs = 'OTHER-99'"),
        ("(0008,0090)", "d.ReferringPhysicianName = 'Suzuki^Ichiro'"),
        ("(0008,0080)", "d.InstitutionName = 'Tokyo General'"),
        (
            "(0010,0010)",
            "item = Dataset()\nitem.ReferencedSOPInstanceUID = '2.25.5'\nitem.PatientName = 'Yamada^Taro'\nd.ReferencedImageSequence = Sequence([item])",
        ),
    ];
    for (index, (tag, statement)) in planted.iter().enumerate() {
        let path = files.path().join(format!("planted-{index}.dcm"));
        marked_instance(&path, &format!("200{index}"), statement);
        let reply = as_gateway(std::fs::read(&path).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::CONFLICT, "{tag} accepted");
        let body: Value = reply.json().await.unwrap();
        let failure = &body["00081198"]["Value"][0];
        assert_eq!(failure["00081197"]["Value"][0], 0xC000, "{body}");
        let comment = failure["00009902"]["Value"][0].as_str().unwrap_or_default();
        assert!(
            comment.contains("not de-identified") && comment.contains(tag),
            "{comment}"
        );
        let text = body.to_string();
        for value in ["1960", "ACC998877", "OTHER-99", "Suzuki", "Tokyo", "Yamada"] {
            assert!(!text.contains(value), "{value} echoed: {text}");
        }
    }
    // Nothing planted was stored: the inbox holds the clean study only.
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let studies = inbox.as_array().expect("studies");
    assert_eq!(studies.len(), 1, "{inbox}");
    assert_eq!(studies[0]["study_uid"], "2.25.1001");
    assert!(!server.logs().contains("Yamada"));
}
