//! A C-STORE instance handled while its data set arrives: once the attributes before its Pixel
//! Data are in, they are de-identified, the instance is indexed and a segment place reserved;
//! then every full chunk of the de-identified object is sealed and written as its pixel bytes
//! come. When the last fragment is in, only the last chunk, one flush and the index commit
//! (long under way) are left before the sender is answered.
//!
//! The result is byte for byte what [`renkei_dicom::prepare::prepare`] makes of the whole file;
//! anything that does not fit (Pixel Data not last, no defined length, no segment room, an
//! organization not in memory yet) falls back to the whole-instance path. An instance that is
//! never completed takes its index entry and its bytes back.

use renkei_core::dicom::IndexedInstance;
use renkei_core::new_id;
use renkei_core::org::Organization;
use renkei_dicom::DeidContext;
use renkei_dicom::layout::{TrailingPixelData, leading_attributes, trailing_pixel_data};
use renkei_dicom::prepare::prepare_leading;
use renkei_dicom::scp::EarlyWork;
use renkei_store::Indexed;
use renkei_store::blobs::{BlobError, ChunkedWrite};
use tokio::task::JoinHandle;

use crate::dicom::{DicomService, IngestFailure, Ingested, index_entry, stage};

/// How much of a data set may arrive without its Pixel Data element showing before the early
/// path gives up (the attributes before pixel data are a few kilobytes in practice).
const MAX_ATTRIBUTES: usize = 4 * 1024 * 1024;
/// Plaintext bytes per sealed chunk (the blob store's).
const CHUNK: usize = 64 * 1024;

/// An instance under way; see the module documentation.
pub struct EarlyIngest {
    dicom: DicomService,
    org: Organization,
    ctx: DeidContext,
    stage: Stage,
}

enum Stage {
    /// The attributes before the pixel data are not all in yet.
    Waiting,
    Writing(Box<Writing>),
    /// Not for the early path: the whole instance goes the usual way.
    Declined,
}

/// An instance de-identified, indexed (or being indexed) and being written.
struct Writing {
    layout: TrailingPixelData,
    /// The de-identified attributes: the object's first bytes; the pixel element follows.
    attributes: Vec<u8>,
    entry: IndexedInstance,
    write: ChunkedWrite,
    index: JoinHandle<Result<Indexed, String>>,
    /// A chunk made of the attributes' end and the pixel data's start.
    seam: Vec<u8>,
}

impl EarlyIngest {
    /// Work on an instance for `org`, whose de-identification rules are `ctx`.
    pub fn new(dicom: DicomService, org: Organization, ctx: DeidContext) -> EarlyIngest {
        EarlyIngest {
            dicom,
            org,
            ctx,
            stage: Stage::Waiting,
        }
    }

    /// Finishes the instance now that `file` is complete; None when it was not taken early
    /// (everything begun is undone first), so the whole-instance path stores it.
    pub async fn finish(mut self, file: &[u8]) -> Option<Result<Ingested, IngestFailure>> {
        let Stage::Writing(writing) = std::mem::replace(&mut self.stage, Stage::Declined) else {
            return None;
        };
        if trailing_pixel_data(file) != Some(writing.layout) {
            // Something follows the pixel data: the object written is not the whole instance.
            undo(self.dicom.clone(), *writing).await;
            return None;
        }
        let Writing {
            layout,
            attributes,
            entry,
            write,
            index,
            mut seam,
        } = *writing;
        let at = std::time::Instant::now();
        let pixels = &file[layout.element_start..layout.element_end];
        let total = attributes.len() + pixels.len();
        let rest = object_bytes(&attributes, pixels, write.taken(), total, &mut seam).to_vec();
        let (object, key) = (write.id().to_owned(), write.key().clone());
        let written = tokio::task::spawn_blocking(move || write.finish(&rest));
        let (written, indexed) = tokio::join!(written, index);
        let written = written.unwrap_or_else(|e| Err(BlobError::Io(e.to_string())));
        let indexed = indexed.unwrap_or_else(|e| Err(e.to_string()));
        stage("store_and_index", at);
        Some(
            self.dicom
                .settle(entry, &object, &key, written, indexed)
                .await,
        )
    }

    /// Waiting: looks for the end of the attributes; once found, de-identifies them, reserves
    /// the object and starts indexing it.
    fn begin_writing(&mut self, file: &[u8]) -> Stage {
        let Some(layout) = leading_attributes(file) else {
            return if file.len() > MAX_ATTRIBUTES {
                Stage::Declined
            } else {
                Stage::Waiting
            };
        };
        let started = std::time::Instant::now();
        let Ok(prepared) = prepare_leading(&file[..layout.element_start], &self.ctx) else {
            // The whole-instance path gives the sender the reason.
            return Stage::Declined;
        };
        let size = prepared.bytes.len() + (layout.element_end - layout.element_start);
        let stem = format!("dicom-{}", new_id());
        let Some(Ok(write)) = self.dicom.blobs.begin_chunked_write(&stem, size) else {
            return Stage::Declined;
        };
        stage("deidentify", started);
        let entry = index_entry(&prepared, size);
        let request = self
            .dicom
            .index_request(&self.org, &entry, write.id(), write.key());
        let writer = self.dicom.index.clone();
        let index = tokio::spawn(async move { writer.index(request).await });
        Stage::Writing(Box::new(Writing {
            layout,
            attributes: prepared.bytes,
            entry,
            write,
            index,
            seam: Vec::new(),
        }))
    }
}

impl Writing {
    /// Seals and writes every full chunk that has arrived, but the last.
    fn advance(&mut self, file: &[u8]) -> Result<(), BlobError> {
        let pixels = &file[self.layout.element_start..file.len().min(self.layout.element_end)];
        let available = self.attributes.len() + pixels.len();
        while !self.write.at_last_chunk() && self.write.taken() + CHUNK <= available {
            let start = self.write.taken();
            let chunk = object_bytes(
                &self.attributes,
                pixels,
                start,
                start + CHUNK,
                &mut self.seam,
            );
            self.write.write_chunk(chunk)?;
        }
        Ok(())
    }
}

/// Bytes `start..end` of the de-identified object, whose first bytes are the attributes and
/// whose rest is the pixel element as received (as far as it arrived); copied into `seam`
/// only when they span both.
fn object_bytes<'a>(
    attributes: &'a [u8],
    pixels: &'a [u8],
    start: usize,
    end: usize,
    seam: &'a mut Vec<u8>,
) -> &'a [u8] {
    let split = attributes.len();
    if start >= split {
        return &pixels[start - split..end - split];
    }
    if end <= split {
        return &attributes[start..end];
    }
    seam.clear();
    seam.extend_from_slice(&attributes[start..]);
    seam.extend_from_slice(&pixels[..end - split]);
    seam
}

/// Takes back what an instance not completed early began: its index entry, then its bytes.
async fn undo(dicom: DicomService, writing: Writing) {
    let object = writing.write.id().to_owned();
    drop(writing.write);
    if let Ok(Ok(Indexed::New { study })) = writing.index.await {
        if let Err(error) = dicom
            .store
            .unindex_instance(study, &writing.entry.sop_uid, &object)
            .await
        {
            tracing::error!(%error, "an unfinished DICOM instance could not be taken back from the index");
        }
    }
    let _ = dicom.blobs.delete(&object).await;
}

/// [`undo`] in the background, on the runtime the SCP runs on.
fn spawn_undo(dicom: DicomService, writing: Writing) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(undo(dicom, writing))),
        Err(_) => {
            tracing::error!("an unfinished DICOM instance could not be taken back: no runtime")
        }
    }
}

impl EarlyWork for EarlyIngest {
    fn received(&mut self, file: &[u8]) {
        if matches!(self.stage, Stage::Waiting) {
            self.stage = self.begin_writing(file);
        }
        if let Stage::Writing(writing) = &mut self.stage
            && let Err(error) = writing.advance(file)
        {
            tracing::warn!(%error, "writing a DICOM instance while it arrived failed; it is stored whole instead");
            if let Stage::Writing(writing) = std::mem::replace(&mut self.stage, Stage::Declined) {
                spawn_undo(self.dicom.clone(), *writing);
            }
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

impl Drop for EarlyIngest {
    fn drop(&mut self) {
        if let Stage::Writing(writing) = std::mem::replace(&mut self.stage, Stage::Declined) {
            // The instance never completed (the peer vanished, it grew past the limit, its
            // UIDs did not match): nothing of it may stay.
            spawn_undo(self.dicom.clone(), *writing);
        }
    }
}
