//! The held-out burned-in text set: generated images with names in Latin letters and Japanese
//! (an ultrasound header band, CR corner text, a printed wristband label) and clean ones
//! (speckle, radiograph-like gradients and shapes, blank labels with barcodes), run through
//! the same detector the server uses at ingest.
//!
//! `RENKEI_TEXT_SET=N` runs N images (the figures in `docs/DEIDENTIFICATION.md` are N = 240);
//! CI runs 36 and fails when detection falls below 70 % or more than one clean image in ten is
//! flagged.

use std::path::{Path, PathBuf};
use std::process::Command;

use dicom_object::OpenFileOptions;
use renkei_dicom::text::tesseract::Tesseract;
use renkei_dicom::text::{GreyImage, Plan, TextDetector, plan, scan, scan_image};

fn generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/burned_in_images.py")
}

fn tesseract() -> Tesseract {
    Tesseract::new().expect("Tesseract with jpn+eng (scripts/setup.sh installs it)")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("renkei-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) {
    let status = Command::new("python3")
        .arg(generator())
        .args(args)
        .status()
        .expect("python3");
    assert!(status.success(), "the generator failed: {args:?}");
}

fn grey(path: &Path) -> GreyImage {
    let img = image::open(path).unwrap().to_luma8();
    let (width, height) = img.dimensions();
    GreyImage {
        width,
        height,
        pixels: img.into_raw(),
    }
}

#[derive(Default)]
struct Tally {
    text: (u32, u32),
    clean: (u32, u32),
}

#[test]
fn planted_names_are_flagged_and_clean_images_are_not() {
    let count: u32 = std::env::var("RENKEI_TEXT_SET")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(36);
    let dir = temp_dir("text-set");
    run(&[dir.to_str().unwrap(), &count.to_string()]);
    let detector = tesseract();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut tally = Tally::default();
    let mut by_kind: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    let started = std::time::Instant::now();
    for path in &names {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let flagged = !scan_image(grey(path), &detector).unwrap().is_empty();
        let (label, kind) = {
            let mut parts = name.split('-');
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        };
        let slot = if label == "text" {
            &mut tally.text
        } else {
            &mut tally.clean
        };
        slot.0 += u32::from(flagged);
        slot.1 += 1;
        let k = by_kind.entry(format!("{label}-{kind}")).or_default();
        k.0 += u32::from(flagged);
        k.1 += 1;
        if flagged != (label == "text") {
            println!("missed or false flag: {name}");
        }
    }
    let rate = |(hit, all): (u32, u32)| f64::from(hit) / f64::from(all.max(1));
    println!(
        "{} images in {:.1} s: detection {}/{} ({:.1} %), false flags {}/{} ({:.1} %)",
        names.len(),
        started.elapsed().as_secs_f64(),
        tally.text.0,
        tally.text.1,
        100.0 * rate(tally.text),
        tally.clean.0,
        tally.clean.1,
        100.0 * rate(tally.clean)
    );
    for (kind, (hit, all)) in &by_kind {
        println!("  {kind}: flagged {hit}/{all}");
    }
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(tally.text.1 + tally.clean.1, count);
    assert!(
        rate(tally.text) >= 0.70,
        "detection fell to {:.0} %",
        100.0 * rate(tally.text)
    );
    assert!(
        rate(tally.clean) <= 0.10,
        "false flags rose to {:.0} %",
        100.0 * rate(tally.clean)
    );
}

/// A DICOM file of a generated image.
fn dicom(dir: &Path, kind: &str, text: &str, modality: &str) -> dicom_object::DefaultDicomObject {
    let path = dir.join(format!("{kind}-{text}-{modality}.dcm"));
    run(&["dicom", path.to_str().unwrap(), kind, text, modality]);
    OpenFileOptions::new().open_file(&path).unwrap()
}

#[test]
fn an_ultrasound_header_band_is_found_where_it_is_and_ct_is_never_scanned() {
    let dir = temp_dir("text-dicom");
    let detector = tesseract();
    let us = dicom(&dir, "us", "text", "US");
    let Plan::Frames(frames) = plan(&us) else {
        panic!("ultrasound is scanned");
    };
    assert_eq!(frames, vec![0]);
    let regions = scan(&us, &Plan::Frames(frames), &detector).unwrap();
    assert!(!regions.is_empty(), "the name in the header band is found");
    for r in &regions {
        assert!(r.y + r.height <= 60, "in the header band: {r:?}");
        assert_eq!(r.frame, 0);
    }
    let clean = dicom(&dir, "us", "clean", "US");
    assert_eq!(scan(&clean, &plan(&clean), &detector).unwrap(), vec![]);
    // The same pixels labelled CT are never looked at.
    let ct = dicom(&dir, "us", "text", "CT");
    assert_eq!(plan(&ct), Plan::Skip);
    std::fs::remove_dir_all(&dir).ok();
}

/// A detector that must not be called.
struct Refuses;

impl TextDetector for Refuses {
    fn detect(
        &self,
        _: &GreyImage,
    ) -> Result<Vec<renkei_dicom::text::Region>, renkei_dicom::text::DetectError> {
        panic!("CT was scanned");
    }
}

#[test]
fn a_ct_file_reaches_no_detector() {
    let dir = temp_dir("text-ct");
    let ct = dicom(&dir, "cr", "text", "CT");
    let bytes = std::fs::read(dir.join("cr-text-CT.dcm")).unwrap();
    assert_eq!(
        renkei_dicom::text::scan_part10(&bytes, Some("CT"), "1.2.840.10008.5.1.4.1.1.2", &Refuses),
        Ok(vec![])
    );
    assert_eq!(scan(&ct, &plan(&ct), &Refuses), Ok(vec![]));
    std::fs::remove_dir_all(&dir).ok();
}

/// Detection cost per instance (ignored; figures in `docs/BENCHMARKS.md`, release build):
///
/// ```sh
/// cargo test --release -p renkei-dicom --test burned_in_text -- --ignored --nocapture text_detection_cost
/// ```
///
/// An ultrasound frame (1024×768, 8-bit) and a CR (1200×1500 read as 2400×3000, reduced to
/// 1280 on its longer side), each with text and clean (a clean image runs both binarisations).
#[test]
#[ignore]
fn text_detection_cost() {
    let dir = temp_dir("text-cost");
    let detector = tesseract();
    for (kind, text, modality) in [
        ("us", "text", "US"),
        ("us", "clean", "US"),
        ("cr", "text", "CR"),
        ("cr", "clean", "CR"),
    ] {
        let obj = dicom(&dir, kind, text, modality);
        let plan = plan(&obj);
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let regions = scan(&obj, &plan, &detector).unwrap();
            times.push(started.elapsed());
            assert_eq!(regions.is_empty(), text == "clean");
        }
        times.sort();
        println!(
            "{modality} {text}: median {:.0} ms, max {:.0} ms",
            times[2].as_secs_f64() * 1000.0,
            times[4].as_secs_f64() * 1000.0
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
