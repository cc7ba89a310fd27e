//! Turning received DICOM bytes into what may be stored: parsed, de-identified, re-written,
//! with the facts the index needs. No I/O.

use std::ops::Range;

use dicom_core::DataElement;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

use renkei_core::redaction::{RedactionRule, rule_for};

use crate::engine::describe;
use crate::layout::trailing_pixel_data;
use crate::redact::by_rule;
use crate::verify::verify_deidentified;
use crate::{DeidContext, DeidError, DeidReport, deidentify};

/// Why received bytes cannot be stored; the message never holds patient data.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Not a DICOM Part 10 file, or one that does not parse.
    #[error("the data is not a readable DICOM file")]
    Unreadable,
    /// It parsed, but lacks what every stored instance needs.
    #[error("the data set lacks {0}")]
    Missing(&'static str),
    /// De-identification refused it.
    #[error("de-identification failed: {0}")]
    Deidentification(String),
    /// It was sent as de-identified already, but is not (see [`verify_deidentified`]).
    #[error("the instance is not de-identified: {0}")]
    NotDeidentified(String),
    /// Writing the de-identified object failed.
    #[error("the de-identified object could not be written")]
    Unwritable,
    /// A redaction rule matched but its rectangles could not be blanked (the code says why).
    #[error("a redaction rule matched but could not be applied: {0}")]
    Redaction(&'static str),
}

impl PrepareError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PrepareError::Unreadable => "dicom_unreadable",
            PrepareError::Missing(_) => "dicom_missing_attribute",
            PrepareError::Deidentification(_) => "dicom_deidentification_failed",
            PrepareError::NotDeidentified(_) => "dicom_not_deidentified",
            PrepareError::Unwritable => "dicom_unwritable",
            PrepareError::Redaction(_) => "dicom_redaction_failed",
        }
    }
}

/// A de-identified Part 10 file in two parts: what was written, then (when the received file
/// ended with its Pixel Data element) that element where it was received, never copied.
#[derive(Debug, Clone)]
pub struct FileBytes {
    head: Vec<u8>,
    received: Vec<u8>,
    tail: Range<usize>,
}

impl FileBytes {
    /// A file held whole.
    fn whole(bytes: Vec<u8>) -> FileBytes {
        FileBytes {
            head: bytes,
            received: Vec::new(),
            tail: 0..0,
        }
    }

    /// The file's bytes, copied into one buffer (for a reader that needs them whole).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut whole = Vec::with_capacity(self.len());
        whole.extend_from_slice(&self.head);
        whole.extend_from_slice(&self.received[self.tail.clone()]);
        whole
    }

    /// The file's length in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Whether the file is empty (it never is once prepared).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file as two slices, one after the other, to be changed where they lie (sealed).
    pub fn parts_mut(&mut self) -> [&mut [u8]; 2] {
        [&mut self.head, &mut self.received[self.tail.clone()]]
    }

    /// The file in one buffer (copied when it is in two parts).
    pub fn into_vec(mut self) -> Vec<u8> {
        if !self.tail.is_empty() {
            self.head.extend_from_slice(&self.received[self.tail]);
        }
        self.head
    }
}

/// A de-identified instance, ready to encrypt and index.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The whole Part 10 file after de-identification.
    pub bytes: FileBytes,
    pub report: DeidReport,
    pub sop_class_uid: String,
    pub transfer_syntax: String,
    pub series_number: Option<i64>,
    pub instance_number: Option<i64>,
    pub study_description: Option<String>,
    pub series_description: Option<String>,
    /// What per-device redaction rules are matched on.
    pub device: renkei_core::redaction::Device,
}

fn text(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<String> {
    // `get`, not `element`: a missing attribute is no error (whose backtrace would be captured).
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn number(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<i64> {
    text(obj, tag).and_then(|s| s.split('\\').next().and_then(|n| n.trim().parse().ok()))
}

/// Parses a Part 10 file (with or without its 128-byte preamble), de-identifies it under `ctx`
/// and writes it back.
///
/// When the file ends with its top-level Pixel Data element (little-endian, not deflated: what
/// nearly every modality sends), only the attributes before it are parsed and the element stays
/// in the received bytes, the output's second part (trailing padding after it is dropped);
/// otherwise the whole file is parsed and written back.
pub fn prepare(bytes: Vec<u8>, ctx: &DeidContext) -> Result<Prepared, PrepareError> {
    if let Some(split) = trailing_pixel_data(&bytes)
        && let Ok(attributes) = parse(&bytes[..split.element_start])
    {
        let pixel_data = split.element_start..split.element_end;
        return deidentify_and_write(attributes, ctx, (bytes, pixel_data));
    }
    let mut obj = parse(&bytes)?;
    native_pixels_as_bytes(&mut obj);
    deidentify_and_write(obj, ctx, (Vec::new(), 0..0))
}

/// De-identifies `obj` and writes it, followed by `pixel_data` (where the encoded Pixel Data
/// element that `obj` was parsed without lies in the received bytes, or nothing).
fn deidentify_and_write(
    mut obj: DefaultDicomObject,
    ctx: &DeidContext,
    (received, pixel_data): (Vec<u8>, Range<usize>),
) -> Result<Prepared, PrepareError> {
    let mut report = deidentify(&mut obj, ctx)
        .map_err(|e| PrepareError::Deidentification(e.code().to_owned()))?;
    if !pixel_data.is_empty() && obj.get(tags::NUMBER_OF_FRAMES).is_none() {
        // Single-frame: the report counted frames without seeing the pixel data.
        report.number_of_frames = Some(1);
    }
    let mut head = Vec::with_capacity(4096);
    obj.write_all(&mut head)
        .map_err(|_| PrepareError::Unwritable)?;
    let bytes = FileBytes {
        head,
        received,
        tail: pixel_data,
    };
    finish(&obj, report, bytes)
}

/// Accepts a Part 10 file that a renkei gateway of the organization de-identified already
/// (checked by [`verify_deidentified`], which refuses anything else); its bytes are kept as
/// they are.
pub fn accept_deidentified(
    bytes: Vec<u8>,
    max_patient_id_digits: u8,
) -> Result<Prepared, PrepareError> {
    let obj = parse(&bytes)?;
    let report = verify_deidentified(&obj, max_patient_id_digits).map_err(|e| match e {
        DeidError::NotDeidentified { reason } => PrepareError::NotDeidentified(reason.into()),
        DeidError::Leftover { tag, change } => {
            PrepareError::NotDeidentified(format!("{tag} would be {change}"))
        }
        other => PrepareError::Deidentification(other.code().to_owned()),
    })?;
    finish(&obj, report, FileBytes::whole(bytes))
}

/// `prepared` redacted by the first of `rules` that matches its device (see
/// [`crate::redact::by_rule`]: a derived instance keyed by `org_secret`), then checked again as
/// de-identified with at most `max_patient_id_digits`; unchanged when no rule matches. A rule
/// that matches but cannot be applied refuses the instance: it is never stored unredacted.
pub fn apply_rules(
    prepared: Prepared,
    rules: &[RedactionRule],
    org_secret: &[u8; 32],
    max_patient_id_digits: u8,
) -> Result<Prepared, PrepareError> {
    if rule_for(rules, &prepared.device).is_none() {
        return Ok(prepared);
    }
    let obj = parse(&prepared.bytes.into_vec())?;
    let derived = by_rule(&obj, rules, org_secret)
        .map_err(|e| PrepareError::Redaction(e.code()))?
        .unwrap_or(obj);
    let mut bytes = Vec::new();
    derived
        .write_all(&mut bytes)
        .map_err(|_| PrepareError::Unwritable)?;
    accept_deidentified(bytes, max_patient_id_digits)
}

/// Accepts a Part 10 file that renkei made itself from instances it stored de-identified (a
/// presentation state, [`crate::gsps`]): its facts are read, nothing is checked or changed.
/// Never for bytes a client sent.
pub fn accept_derived(bytes: Vec<u8>) -> Result<Prepared, PrepareError> {
    let obj = parse(&bytes)?;
    let tail = text(&obj, tags::PATIENT_ID).unwrap_or_default();
    let report = describe(&obj, tail, "")
        .map_err(|e| PrepareError::Deidentification(e.code().to_owned()))?;
    finish(&obj, report, FileBytes::whole(bytes))
}

/// Native 16-bit pixel data, parsed as numbers, handed back as the little-endian bytes it was
/// received as, so writing the file copies it instead of encoding 262,144 numbers one by one
/// per 512×512 frame. Only for little-endian transfer syntaxes (big endian keeps the numbers).
fn native_pixels_as_bytes(obj: &mut DefaultDicomObject) {
    let little_endian = matches!(
        obj.meta().transfer_syntax().trim_end_matches('\0'),
        "1.2.840.10008.1.2" | "1.2.840.10008.1.2.1" | "1.2.840.10008.1.2.1.99"
    );
    if !little_endian {
        return;
    }
    let Some(element) = obj.get(tags::PIXEL_DATA) else {
        return;
    };
    let (vr, bytes) = match element.value() {
        Value::Primitive(PrimitiveValue::U16(words)) => (
            element.vr(),
            words
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect::<Vec<u8>>(),
        ),
        _ => return,
    };
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        vr,
        PrimitiveValue::U8(bytes.into()),
    ));
}

fn parse(bytes: &[u8]) -> Result<DefaultDicomObject, PrepareError> {
    OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .map_err(|_| PrepareError::Unreadable)
}

/// The index facts of a de-identified object, with the bytes to store.
fn finish(
    obj: &DefaultDicomObject,
    report: DeidReport,
    bytes: FileBytes,
) -> Result<Prepared, PrepareError> {
    if report.study_instance_uid.is_none() {
        return Err(PrepareError::Missing("Study Instance UID"));
    }
    if report.series_instance_uid.is_none() {
        return Err(PrepareError::Missing("Series Instance UID"));
    }
    let sop_class_uid = text(obj, tags::SOP_CLASS_UID)
        .or_else(|| {
            Some(
                obj.meta()
                    .media_storage_sop_class_uid()
                    .trim_end_matches('\0')
                    .to_owned(),
            )
            .filter(|s| !s.is_empty())
        })
        .ok_or(PrepareError::Missing("SOP Class UID"))?;
    let transfer_syntax = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_owned();
    Ok(Prepared {
        sop_class_uid,
        transfer_syntax,
        series_number: number(obj, tags::SERIES_NUMBER),
        instance_number: number(obj, tags::INSTANCE_NUMBER),
        study_description: text(obj, tags::STUDY_DESCRIPTION),
        series_description: text(obj, tags::SERIES_DESCRIPTION),
        device: crate::redact::device_of(obj),
        bytes,
        report,
    })
}
