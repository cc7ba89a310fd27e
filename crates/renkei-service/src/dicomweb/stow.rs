//! STOW-RS, once the upload is read: each file de-identified (or, from a gateway, checked),
//! encrypted and indexed, or refused with the DICOM failure reason of its kind.

use renkei_dicom::inflight::{Buffer, InFlightError};

use crate::dicom::{IngestFailure, Ingested};
use crate::gateway::Uploader;

/// A file that was not stored.
#[derive(Debug)]
pub struct Refused {
    /// The DICOM Failure Reason (0008,1197).
    pub reason: u16,
    pub message: String,
}

/// What became of an upload's files.
#[derive(Debug, Default)]
pub struct Stowed {
    pub stored: Vec<Ingested>,
    pub refused: Vec<Refused>,
}

/// The Failure Reason of an ingest failure (PS3.18 Table I.2-3, PS3.4 C-STORE statuses).
fn reason(failure: &IngestFailure) -> u16 {
    match failure {
        IngestFailure::CannotUnderstand(_) | IngestFailure::NotDeidentified(_) => 0xC000,
        IngestFailure::DoesNotMatch(_) => 0xA900,
        IngestFailure::OutOfResources(_) => 0xA700,
    }
}

/// Stores the files read from an upload, one by one, each held in memory (charged to the
/// DICOM budget of data in flight) only while it is worked on.
pub async fn store(
    state: &crate::Services,
    uploader: &Uploader,
    files: Vec<Result<Buffer, InFlightError>>,
) -> Stowed {
    let mut stowed = Stowed::default();
    for file in files {
        let held = file.and_then(Buffer::finish).map_err(|e| {
            tracing::warn!(code = e.code(), error = %e, "a STOW-RS part cannot be held");
            IngestFailure::OutOfResources(e.comment().to_owned())
        });
        let outcome = match held {
            Ok(held) => {
                let ingested = state
                    .dicom
                    .ingest(uploader.org(), held.bytes, uploader.source())
                    .await;
                drop(held.charge);
                ingested
            }
            Err(failure) => Err(failure),
        };
        match outcome {
            Ok(ingested) => stowed.stored.push(ingested),
            Err(e) => stowed.refused.push(Refused {
                reason: reason(&e),
                message: e.error().message,
            }),
        }
    }
    stowed
}
