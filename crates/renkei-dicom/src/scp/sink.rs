//! Where received instances go: the trait the server implements, and what it is handed.

use std::future::Future;
use std::pin::Pin;

use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions, ReadError};

use super::gatekeeper::Caller;
use super::status;

/// What [`InstanceSink::store`] returns: a boxed future, so that the trait stays dyn-compatible.
pub type StoreFuture<'a> =
    Pin<Box<dyn Future<Output = Result<StoreOutcome, StoreFailure>> + Send + 'a>>;

/// Takes each complete, checked instance; implemented by the server (de-identification,
/// encryption, indexing) and by tests.
pub trait InstanceSink: Send + Sync {
    /// Stores one received instance durably; the SCP answers Success only after this returns
    /// Ok. The SCU waits for the answer, so a slow sink slows the sender, nothing else.
    fn store<'a>(&'a self, caller: &'a Caller, instance: ReceivedInstance) -> StoreFuture<'a>;
}

/// One instance as received: always complete (the last data set fragment arrived), its SOP
/// Class and Instance UIDs checked against the C-STORE request.
#[derive(Debug, Clone)]
pub struct ReceivedInstance {
    /// Affected SOP Class UID of the request, equal to the data set's SOP Class UID.
    pub sop_class_uid: String,
    /// Affected SOP Instance UID of the request, equal to the data set's SOP Instance UID.
    pub sop_instance_uid: String,
    /// The transfer syntax the data set is encoded in (the presentation context's).
    pub transfer_syntax_uid: String,
    /// The complete DICOM Part 10 file: 128-byte preamble, `DICM`, the file meta group built by
    /// the SCP, then the data set exactly as received (nothing re-encoded).
    pub file: Vec<u8>,
    /// Where the data set starts in `file`.
    pub dataset_offset: usize,
}

impl ReceivedInstance {
    /// The data set bytes as the SCU sent them, in `transfer_syntax_uid`.
    pub fn dataset(&self) -> &[u8] {
        self.file.get(self.dataset_offset..).unwrap_or_default()
    }

    /// The whole file parsed with dicom-object (reads every element, pixel data included).
    pub fn to_object(&self) -> Result<DefaultDicomObject, ReadError> {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Always)
            .from_reader(self.file.as_slice())
    }
}

/// Stored: the status sent back to the SCU.
///
/// Renkei stores a de-identified copy by design, and its conformance statement says so; the
/// server answers [`StoreOutcome::Stored`] (0x0000) for that. Warnings exist for sinks that
/// change an instance beyond what the SCU was told to expect: some SCUs log or retry on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// 0x0000 Success.
    Stored,
    /// 0xB000 Warning: Coercion of Data Elements.
    Coerced,
    /// 0xB006 Warning: Elements Discarded.
    ElementsDiscarded,
}

impl StoreOutcome {
    /// The DIMSE status.
    pub fn status(self) -> u16 {
        match self {
            StoreOutcome::Stored => status::SUCCESS,
            StoreOutcome::Coerced => status::COERCION_OF_DATA_ELEMENTS,
            StoreOutcome::ElementsDiscarded => status::ELEMENTS_DISCARDED,
        }
    }
}

/// Not stored: a failure status and an Error Comment (0000,0902) sent back to the SCU.
///
/// The comment goes over the network to the sender and into its logs: it must hold no patient
/// data. The SCP keeps printable ASCII only and cuts it to 64 characters (LO).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFailure {
    /// 0xA700 Refused: Out of Resources (disk full, quota, storage unavailable; the SCU may
    /// retry later).
    #[error("out of resources: {comment}")]
    OutOfResources { comment: String },
    /// 0xA900 Error: Data Set Does Not Match SOP Class.
    #[error("data set does not match SOP class: {comment}")]
    DataSetDoesNotMatchSopClass { comment: String },
    /// 0xC000 Error: Cannot Understand (the data set cannot be parsed or processed).
    #[error("cannot understand: {comment}")]
    CannotUnderstand { comment: String },
}

impl StoreFailure {
    /// 0xA700 with `comment`.
    pub fn out_of_resources(comment: impl Into<String>) -> Self {
        StoreFailure::OutOfResources {
            comment: comment.into(),
        }
    }

    /// 0xA900 with `comment`.
    pub fn does_not_match(comment: impl Into<String>) -> Self {
        StoreFailure::DataSetDoesNotMatchSopClass {
            comment: comment.into(),
        }
    }

    /// 0xC000 with `comment`.
    pub fn cannot_understand(comment: impl Into<String>) -> Self {
        StoreFailure::CannotUnderstand {
            comment: comment.into(),
        }
    }

    /// The DIMSE status.
    pub fn status(&self) -> u16 {
        match self {
            StoreFailure::OutOfResources { .. } => status::OUT_OF_RESOURCES,
            StoreFailure::DataSetDoesNotMatchSopClass { .. } => {
                status::DATA_SET_DOES_NOT_MATCH_SOP_CLASS
            }
            StoreFailure::CannotUnderstand { .. } => status::CANNOT_UNDERSTAND,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreFailure::OutOfResources { .. } => "scp_out_of_resources",
            StoreFailure::DataSetDoesNotMatchSopClass { .. } => "scp_data_set_mismatch",
            StoreFailure::CannotUnderstand { .. } => "scp_cannot_understand",
        }
    }

    /// The Error Comment as given by the sink (before the SCP cleans it for the wire).
    pub fn comment(&self) -> &str {
        match self {
            StoreFailure::OutOfResources { comment }
            | StoreFailure::DataSetDoesNotMatchSopClass { comment }
            | StoreFailure::CannotUnderstand { comment } => comment,
        }
    }
}
