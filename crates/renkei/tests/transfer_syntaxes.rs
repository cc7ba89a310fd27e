//! Every transfer syntax dcmtk's encoders (`dcmcjpeg`, `dcmcjpls`, `dcmcrle`) produce from a
//! generated signed 16-bit CT and an 8-bit RGB image: each file is sent by storescu proposing
//! exactly its syntax, then read back through DICOMweb — frames as stored (the bytes sent),
//! frames decoded (lossless: the source pixels exactly; lossy: close to them) and the rendered
//! frame (lossless: the same picture as the uncompressed source's; lossy: close to it).
//! The retired JPEG spectral selection and progressive syntaxes are refused at negotiation.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::dicom::{dcmtk, get_bytes_accepting, locate, parts, uid};
use common::{Api, Server, Storage};
use reqwest::StatusCode;

on_both_backends!(every_transfer_syntax_dcmtk_writes_is_stored_rendered_and_served);

/// A generated source image.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Source {
    /// 80×96 signed 16-bit CT (Bits Stored 16), Hounsfield-like ramp with noise.
    Ct,
    /// 80×96 8-bit RGB Secondary Capture.
    Rgb,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Ct => "ct",
            Source::Rgb => "rgb",
        }
    }

    /// The QIDO-RS query that finds its study.
    fn query(self) -> &'static str {
        match self {
            Source::Ct => "ModalitiesInStudy=CT",
            Source::Rgb => "ModalitiesInStudy=OT",
        }
    }
}

/// How close a decoded lossy frame must be to the source.
#[derive(Clone, Copy, Debug)]
enum Fidelity {
    /// Every sample equal.
    Exact,
    /// Mean absolute difference at most this, as a fraction of the source's value range.
    Within(f64),
    /// No sample further than this from the source's (JPEG-LS NEAR).
    Near(f64),
}

/// One dcmtk encoding, as data: its tool and options, the transfer syntax it writes, how
/// faithful it is, and the sources it applies to.
struct Encoding {
    name: &'static str,
    tool: &'static str,
    args: &'static [&'static str],
    syntax: &'static str,
    fidelity: Fidelity,
    sources: &'static [Source],
}

const BOTH: &[Source] = &[Source::Ct, Source::Rgb];

/// Every syntax the three encoders write. Lossy CT is rescaled by dcmcjpeg to 8 (baseline) or
/// 12 bits (extended) with a new Rescale Slope, so it is compared in modality values.
/// dcmcjpls refuses near-lossless for signed pixels, so that one is RGB only.
const ENCODINGS: &[Encoding] = &[
    Encoding {
        name: "jpeg-baseline",
        tool: "dcmcjpeg",
        args: &["+eb"],
        syntax: "1.2.840.10008.1.2.4.50",
        fidelity: Fidelity::Within(0.02),
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-extended",
        tool: "dcmcjpeg",
        args: &["+ee"],
        syntax: "1.2.840.10008.1.2.4.51",
        fidelity: Fidelity::Within(0.02),
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv1",
        tool: "dcmcjpeg",
        args: &["+e1"],
        syntax: "1.2.840.10008.1.2.4.70",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-process14-sv1",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "1"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv2",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "2"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv3",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "3"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv4",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "4"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv5",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "5"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv6",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "6"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-lossless-sv7",
        tool: "dcmcjpeg",
        args: &["+el", "+sv", "7"],
        syntax: "1.2.840.10008.1.2.4.57",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-ls-lossless",
        tool: "dcmcjpls",
        args: &["+el"],
        syntax: "1.2.840.10008.1.2.4.80",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
    Encoding {
        name: "jpeg-ls-near-lossless",
        tool: "dcmcjpls",
        args: &["+en", "+md", "2"],
        syntax: "1.2.840.10008.1.2.4.81",
        fidelity: Fidelity::Near(2.0),
        sources: &[Source::Rgb],
    },
    Encoding {
        name: "rle",
        tool: "dcmcrle",
        args: &[],
        syntax: "1.2.840.10008.1.2.5",
        fidelity: Fidelity::Exact,
        sources: BOTH,
    },
];

/// What dcmcjpeg writes that the SCP refuses: retired syntaxes (PS3.5 2006) no decoder here
/// reads.
const REFUSED: &[(&str, &str, &str)] = &[
    ("jpeg-spectral-selection", "+es", "1.2.840.10008.1.2.4.53"),
    ("jpeg-progressive", "+ep", "1.2.840.10008.1.2.4.55"),
];

/// Writes `{source}-{n}.dcm` for n in 0..=count: one study per source, Instance Number n,
/// a SOP Instance UID each; instance 0 stays uncompressed as the reference.
fn generate(dir: &Path, count: usize) {
    let script = format!(
        r#"
import os, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import generate_uid, ExplicitVRLittleEndian
y, x = np.mgrid[0:96, 0:80]
rng = np.random.default_rng(7)
def image(sop_class, modality):
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "SYNTAX^TARO", "KARTE-00112233"
    ds.Modality, ds.StudyDate, ds.BurnedInAnnotation = modality, "20260101", "NO"
    ds.Rows, ds.Columns = x.shape
    return ds
ct = image("1.2.840.10008.5.1.4.1.1.2", "CT")
ct.SamplesPerPixel, ct.PhotometricInterpretation = 1, "MONOCHROME2"
ct.BitsAllocated, ct.BitsStored, ct.HighBit, ct.PixelRepresentation = 16, 16, 15, 1
ct.RescaleIntercept, ct.RescaleSlope = 0, 1
ct.PixelData = (-1000 + 30 * x + 20 * y + rng.integers(-40, 40, size=x.shape)).astype("<i2").tobytes()
rgb = image("1.2.840.10008.5.1.4.1.1.7", "OT")
rgb.SamplesPerPixel, rgb.PhotometricInterpretation, rgb.PlanarConfiguration = 3, "RGB", 0
rgb.BitsAllocated, rgb.BitsStored, rgb.HighBit, rgb.PixelRepresentation = 8, 8, 7, 0
rgb.ConversionType = "WSD"
rgb.PixelData = np.stack([x * 3, y * 2, 40 + x + y + rng.integers(0, 8, size=x.shape)], axis=-1).astype(np.uint8).tobytes()
for name, ds in (("ct", ct), ("rgb", rgb)):
    for n in range({count} + 1):
        ds.SOPInstanceUID, ds.InstanceNumber = generate_uid(), n
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(os.path.join({dir:?}, f"{{name}}-{{n}}.dcm"), enforce_file_format=True)
"#,
        dir = dir.display().to_string(),
    );
    run("python3", &["-c", &script]);
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A storescu configuration with one profile per transfer syntax, `P{i}`, proposing only
/// that syntax for CT and Secondary Capture.
fn scu_config(dir: &Path, syntaxes: &[&str]) -> PathBuf {
    let mut ts = String::from("[[TransferSyntaxes]]\n");
    let mut pcs = String::from("[[PresentationContexts]]\n");
    let mut profiles = String::from("[[Profiles]]\n");
    for (i, syntax) in syntaxes.iter().enumerate() {
        ts += &format!("[TS{i}]\nTransferSyntax1 = {syntax}\n");
        pcs += &format!(
            "[PC{i}]\nPresentationContext1 = 1.2.840.10008.5.1.4.1.1.2\\TS{i}\n\
             PresentationContext2 = 1.2.840.10008.5.1.4.1.1.7\\TS{i}\n"
        );
        profiles += &format!("[P{i}]\nPresentationContexts = PC{i}\n");
    }
    let path = dir.join("storescu.cfg");
    std::fs::write(&path, format!("{ts}\n{pcs}\n{profiles}")).unwrap();
    path
}

/// What pydicom reads from a file.
struct FileFacts {
    syntax: String,
    /// The first frame's compressed bytes (empty when native).
    first_frame: Vec<u8>,
    slope: f64,
    intercept: f64,
    bits_allocated: u16,
    signed: bool,
}

impl FileFacts {
    /// Every file of `paths`, read by one pydicom run.
    fn read_all(paths: &[String]) -> HashMap<String, FileFacts> {
        let script = "import sys,pydicom;from pydicom.encaps import generate_frames\n\
            for p in sys.argv[1:]:\n \
            d=pydicom.dcmread(p);ts=d.file_meta.TransferSyntaxUID\n \
            f=next(generate_frames(d.PixelData,number_of_frames=1)) if ts.is_encapsulated else b''\n \
            print(ts);print(f.hex());print(float(d.get('RescaleSlope',1)))\n \
            print(float(d.get('RescaleIntercept',0)));print(d.BitsAllocated);print(d.PixelRepresentation)";
        let mut args = vec!["-c", script];
        args.extend(paths.iter().map(String::as_str));
        let out = run("python3", &args);
        let lines: Vec<&str> = out.lines().collect();
        paths
            .iter()
            .zip(lines.chunks_exact(6))
            .map(|(path, lines)| {
                let facts = FileFacts {
                    syntax: lines[0].to_owned(),
                    first_frame: (0..lines[1].len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&lines[1][i..i + 2], 16).unwrap())
                        .collect(),
                    slope: lines[2].parse().unwrap(),
                    intercept: lines[3].parse().unwrap(),
                    bits_allocated: lines[4].parse().unwrap(),
                    signed: lines[5] == "1",
                };
                (path.clone(), facts)
            })
            .collect()
    }

    /// Modality values of decoded frame bytes (stored values for colour).
    fn values(&self, bytes: &[u8]) -> Vec<f64> {
        let stored: Vec<f64> = match (self.bits_allocated, self.signed) {
            (16, true) => bytes
                .chunks_exact(2)
                .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
            (16, false) => bytes
                .chunks_exact(2)
                .map(|c| f64::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            _ => bytes.iter().map(|b| f64::from(*b)).collect(),
        };
        stored
            .into_iter()
            .map(|v| v * self.slope + self.intercept)
            .collect()
    }
}

/// Mean absolute difference of two equally long value lists, as a fraction of `range`.
fn mean_difference(a: &[f64], b: &[f64], range: f64) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64 / range
}

/// The one part of a frames answer: its content type and bytes.
async fn frame(api: &Api, path: &str, accept: Option<&str>) -> (String, Vec<u8>) {
    let (status, headers, body) = get_bytes_accepting(api, path, accept).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    let ct = headers["content-type"].to_str().unwrap();
    let mut found = parts(ct, &body);
    assert_eq!(found.len(), 1, "{path}");
    found.remove(0)
}

/// The rendered frame as RGB pixels (PNG, a fixed window for the CT).
async fn rendered(api: &Api, instance: &str, source: Source) -> Vec<u8> {
    let window = match source {
        Source::Ct => "?window=1000,5000",
        Source::Rgb => "",
    };
    let path = format!("{instance}/frames/1/rendered{window}");
    let (status, _, body) = get_bytes_accepting(api, &path, Some("image/png")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    image::load_from_memory(&body).unwrap().to_rgb8().into_raw()
}

async fn every_transfer_syntax_dcmtk_writes_is_stored_rendered_and_served(storage: Storage) {
    if common::pydicom_test_files().is_none() || dcmtk("dcmcjpeg", &["--version"]).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), ENCODINGS.len() + REFUSED.len());
    let server = Server::start_with(
        &storage,
        &[],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();
    storage.add_dicom_peer("CODECS", "127.0.0.0/8");
    // The directory re-reads on an unknown caller at most once a second.
    let mut echoed = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let echo = dcmtk("echoscu", &["-aet", "CODECS", "-aec", "RENKEI", host, port]).unwrap();
        if echo.status.success() {
            echoed = true;
            break;
        }
    }
    assert!(echoed, "the registered peer can associate");

    let mut syntaxes: Vec<&str> = ENCODINGS.iter().map(|e| e.syntax).collect();
    syntaxes.extend(REFUSED.iter().map(|r| r.2));
    let config = scu_config(dir.path(), &syntaxes);
    let config = config.display().to_string();
    let file = |source: Source, n: usize, suffix: &str| {
        dir.path()
            .join(format!("{}-{n}{suffix}.dcm", source.name()))
            .display()
            .to_string()
    };
    let store = |profile: String, path: String| {
        dcmtk(
            "storescu",
            &[
                "-aet", "CODECS", "-aec", "RENKEI", "-xf", &config, &profile, host, port, &path,
            ],
        )
        .unwrap()
    };

    // The uncompressed references, then every encoding of them.
    for source in BOTH {
        let sent = dcmtk(
            "storescu",
            &[
                "-aet",
                "CODECS",
                "-aec",
                "RENKEI",
                host,
                port,
                &file(*source, 0, ""),
            ],
        )
        .unwrap();
        assert!(
            sent.status.success(),
            "{}",
            String::from_utf8_lossy(&sent.stderr)
        );
    }
    let mut encoded = Vec::new();
    for (i, encoding) in ENCODINGS.iter().enumerate() {
        for source in encoding.sources {
            let (plain, out) = (file(*source, i + 1, ""), file(*source, i + 1, "-enc"));
            let mut args = encoding.args.to_vec();
            args.extend([plain.as_str(), out.as_str()]);
            run(encoding.tool, &args);
            encoded.push((format!("P{i}"), encoding.syntax, out, true));
        }
    }
    for (k, (_, option, syntax)) in REFUSED.iter().enumerate() {
        let n = ENCODINGS.len() + k + 1;
        let (plain, out) = (file(Source::Rgb, n, ""), file(Source::Rgb, n, "-enc"));
        run("dcmcjpeg", &[option, &plain, &out]);
        encoded.push((format!("P{}", ENCODINGS.len() + k), *syntax, out, false));
    }
    let mut paths: Vec<String> = encoded.iter().map(|e| e.2.clone()).collect();
    paths.extend(BOTH.iter().map(|s| file(*s, 0, "")));
    let facts = FileFacts::read_all(&paths);
    for (profile, syntax, path, accepted) in encoded {
        assert_eq!(facts[&path].syntax, syntax, "{path}");
        let sent = store(profile, path.clone());
        assert_eq!(
            sent.status.success(),
            accepted,
            "{path} in {syntax}: {}",
            String::from_utf8_lossy(&sent.stderr)
        );
    }

    for source in BOTH {
        let (study, series, sops) = locate(&admin, source.query()).await;
        let (_, listed) = admin
            .get(&format!(
                "/dicomweb/studies/{study}/series/{series}/instances"
            ))
            .await;
        let expected = 1 + ENCODINGS
            .iter()
            .filter(|e| e.sources.contains(source))
            .count();
        assert_eq!(
            sops.len(),
            expected,
            "{source:?}: every accepted file is stored"
        );
        let by_number = |n: usize| {
            let found = listed
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["00200013"]["Value"][0].as_i64() == Some(n as i64))
                .unwrap_or_else(|| panic!("{source:?} instance {n} in {listed}"));
            format!(
                "/dicomweb/studies/{study}/series/{series}/instances/{}",
                uid(found, "00080018")
            )
        };
        let reference = by_number(0);
        let (_, source_bytes) = frame(&admin, &format!("{reference}/frames/1"), None).await;
        let source_values = facts[&file(*source, 0, "")].values(&source_bytes);
        let range = source_values.iter().cloned().fold(f64::MIN, f64::max)
            - source_values.iter().cloned().fold(f64::MAX, f64::min);
        let source_picture = rendered(&admin, &reference, *source).await;

        for (i, encoding) in ENCODINGS.iter().enumerate() {
            if !encoding.sources.contains(source) {
                continue;
            }
            let what = format!("{} of {source:?}", encoding.name);
            let instance = by_number(i + 1);
            let sent = &facts[&file(*source, i + 1, "-enc")];

            // As stored: the very bytes storescu sent, labelled with their syntax.
            let (part_type, stored) = frame(
                &admin,
                &format!("{instance}/frames/1"),
                Some("multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"),
            )
            .await;
            assert_eq!(
                part_type,
                format!(
                    "application/octet-stream; transfer-syntax={}",
                    encoding.syntax
                ),
                "{what}"
            );
            assert!(
                stored == sent.first_frame,
                "{what}: the stored frame is the one sent"
            );
            // Neither stored nor decoded to: 406, with a code.
            let (status, _, body) = get_bytes_accepting(
                &admin,
                &format!("{instance}/frames/1"),
                Some("multipart/related; type=\"application/octet-stream\"; transfer-syntax=1.2.840.10008.1.2.4.91"),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{what}");
            assert!(
                String::from_utf8_lossy(&body).contains("dicom_transfer_syntax_not_available"),
                "{what}"
            );

            // Decoded: the source pixels (lossy CT in modality values, as it was rescaled).
            let (part_type, decoded) = frame(&admin, &format!("{instance}/frames/1"), None).await;
            assert_eq!(
                part_type, "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1",
                "{what}"
            );
            let values = sent.values(&decoded);
            let frames_off = mean_difference(&values, &source_values, range);
            let picture = rendered(&admin, &instance, *source).await;
            let picture_off = mean_difference(
                &picture.iter().map(|b| f64::from(*b)).collect::<Vec<_>>(),
                &source_picture
                    .iter()
                    .map(|b| f64::from(*b))
                    .collect::<Vec<_>>(),
                255.0,
            );
            eprintln!("{what}: frames off by {frames_off:.5}, rendered off by {picture_off:.5}");
            match encoding.fidelity {
                Fidelity::Exact => {
                    assert!(
                        decoded == source_bytes,
                        "{what}: lossless frames equal the source"
                    );
                    assert!(
                        picture == source_picture,
                        "{what}: renders as the source does"
                    );
                }
                Fidelity::Within(limit) => {
                    assert!(frames_off <= limit, "{what}: frames off by {frames_off}");
                    assert!(
                        picture_off <= limit,
                        "{what}: rendered off by {picture_off}"
                    );
                }
                Fidelity::Near(near) => {
                    let worst = values
                        .iter()
                        .zip(&source_values)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(worst <= near, "{what}: a sample is off by {worst}");
                }
            }
        }
    }
}
