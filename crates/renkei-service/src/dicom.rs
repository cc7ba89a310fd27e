//! The imaging service: received DICOM is de-identified with the organization's secret and
//! rules, encrypted, indexed, and later served to those who may see it, then destroyed with
//! the organization's retention.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::error::Kind;
use bytes::Bytes;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use futures_util::stream::BoxStream;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{IndexedInstance, Study, TextRegion};
use renkei_core::media::expiry;
use renkei_core::org::Organization;
use renkei_core::redaction::RedactionRule;
use renkei_core::{Uuid, new_id};
use renkei_dicom::DeidContext;
use renkei_dicom::inflight::InFlight;
use renkei_dicom::prepare::{
    PrepareError, Prepared, accept_deidentified, accept_derived, apply_rules, prepare,
};
use renkei_dicom::scp::may_block_here;
use renkei_dicom::text::{TextDetector, scan_prepared};
use renkei_store::blobs::{BlobError, BlobStore, WrappedKey};
use renkei_store::{Attached, IndexRequest, Indexed, Reach, Store, StoreError};

use crate::dicom_index::{IndexWriter, PendingIndex};
use crate::error::{OrService, ServiceError, ServiceResult};
use crate::messaging::inbox::InboxHints;

/// The label an organization's UID-mapping secret is sealed under.
const DEID_SECRET: &str = "dicom_deid";

/// Why an instance was not stored, in the terms of a DICOM status.
#[derive(Debug)]
pub enum IngestFailure {
    /// The bytes are not a DICOM object we can read (C-STORE 0xC000).
    CannotUnderstand(String),
    /// The data set lacks what its SOP class needs (C-STORE 0xA900).
    DoesNotMatch(String),
    /// Storage failed (C-STORE 0xA700).
    OutOfResources(String),
    /// Sent by a gateway as de-identified, but it is not (C-STORE 0xC000); never stored.
    NotDeidentified(String),
}

/// Where an instance comes from, which decides what is done to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestSource {
    /// From a PACS, a modality or a user: still identified, de-identified here.
    Identified,
    /// From a gateway of the organization, which de-identified it with the organization's key
    /// and rules: checked, then stored as it is (de-identifying twice would remap UIDs again).
    Gateway,
    /// Made here from a stored instance (a redaction): checked like a gateway's, stored as it is.
    Derived,
    /// Made by renkei from instances it stored (a presentation state of annotations): stored
    /// as it is.
    Presentation,
}

impl IngestFailure {
    /// The failure as an HTTP error (STOW-RS).
    pub fn error(&self) -> ServiceError {
        match self {
            IngestFailure::CannotUnderstand(m) => {
                ServiceError::new(Kind::Invalid, "dicom_unreadable", m.clone())
            }
            IngestFailure::DoesNotMatch(m) => {
                ServiceError::new(Kind::Invalid, "dicom_missing_attribute", m.clone())
            }
            IngestFailure::OutOfResources(m) => {
                ServiceError::new(Kind::Unavailable, "storage_unavailable", m.clone())
            }
            IngestFailure::NotDeidentified(m) => {
                ServiceError::new(Kind::Invalid, "dicom_not_deidentified", m.clone())
            }
        }
    }
}

/// A stored instance.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub study_id: Uuid,
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub sop_class: String,
    /// Already stored earlier (a resend): nothing changed.
    pub duplicate: bool,
}

/// De-identification, storage, index and retrieval of DICOM.
#[derive(Clone)]
pub struct DicomService {
    pub store: Store,
    pub blobs: BlobStore,
    /// Recently opened instances, parsed, so scrolling a stack or playing a cine does not
    /// decrypt and parse the file per frame. In memory only; emptied by every sweep.
    pub opened: Arc<Mutex<OpenedInstances>>,
    /// Indexes instances, several per transaction when they arrive together.
    pub index: IndexWriter,
    /// Organizations' de-identification secrets once opened (they never change).
    pub secrets: Arc<Mutex<HashMap<Uuid, [u8; 32]>>>,
    /// The server's runtime, where the store's connections live (see [`DicomService::on_server`]).
    server: tokio::runtime::Handle,
    /// Tells live inboxes that a study arrived or grew.
    pub hints: InboxHints,
    /// Rendered inbox thumbnails, in memory only (see `crate::thumbnail`).
    pub thumbnails: Arc<Mutex<crate::thumbnail::Thumbnails>>,
    /// The memory budget and spill files of DICOM data in flight (C-STORE and STOW-RS).
    pub inflight: Arc<InFlight>,
    /// Organizations' per-device redaction rules, as read at most [`RULES_FRESH`] ago.
    pub rules: Arc<Mutex<ReadRules>>,
    /// Finds burned-in text at ingest (see `renkei_dicom::text`).
    pub text: Arc<dyn TextDetector>,
}

/// Organizations' redaction rules, with when they were read.
pub type ReadRules = HashMap<Uuid, (std::time::Instant, Arc<Vec<RedactionRule>>)>;

/// How long an organization's redaction rules are used before being read again: a change made
/// on this node applies at once (it forgets them), on another node within this time.
pub const RULES_FRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// Parsed instances by (study, SOP Instance UID).
pub type OpenedInstances = HashMap<(Uuid, String), Arc<DefaultDicomObject>>;

/// Parsed instances kept in memory.
const OPENED_CAPACITY: usize = 64;

/// Records how long an ingest stage took since `since`; returns now.
fn stage(name: &'static str, since: std::time::Instant) -> std::time::Instant {
    metrics::histogram!("renkei_dicom_ingest_seconds", "stage" => name)
        .record(since.elapsed().as_secs_f64());
    std::time::Instant::now()
}

/// Why de-identification refused an instance, as an ingest failure.
fn prepare_failure(e: PrepareError) -> IngestFailure {
    match e {
        PrepareError::Missing(_) => IngestFailure::DoesNotMatch(e.to_string()),
        PrepareError::NotDeidentified(_) => IngestFailure::NotDeidentified(e.to_string()),
        _ => IngestFailure::CannotUnderstand(e.to_string()),
    }
}

/// Looks for burned-in text in a prepared instance (modalities that carry it only). A scan that
/// fails holds the instance as if text were found: it is not called clean unseen.
fn text_found(prepared: &Prepared, detector: &dyn TextDetector) -> (bool, Vec<TextRegion>) {
    match scan_prepared(prepared, detector) {
        Ok(regions) => (
            !regions.is_empty(),
            regions.into_iter().map(crate::text::region).collect(),
        ),
        Err(e) => {
            tracing::warn!(
                code = e.code(),
                "text detection failed; the instance is held"
            );
            (true, Vec::new())
        }
    }
}

/// The index entry of a prepared instance, held when text was found or Burned In Annotation
/// says YES.
fn index_entry(
    prepared: &Prepared,
    (found, text_regions): (bool, Vec<TextRegion>),
) -> IndexedInstance {
    let report = &prepared.report;
    IndexedInstance {
        study_uid: report.study_instance_uid.clone().unwrap_or_default(),
        series_uid: report.series_instance_uid.clone().unwrap_or_default(),
        sop_uid: report.sop_instance_uid.clone(),
        sop_class: prepared.sop_class_uid.clone(),
        transfer_syntax: prepared.transfer_syntax.clone(),
        patient_tail: report.patient_id_tail.clone(),
        study_date: report.study_date.clone(),
        modality: report.modality.clone(),
        body_part: report.body_part.clone(),
        study_description: prepared.study_description.clone(),
        series_description: prepared.series_description.clone(),
        series_number: prepared.series_number,
        instance_number: prepared.instance_number,
        frames: i64::from(report.number_of_frames.unwrap_or(1)),
        burned_in_risk: report.burned_in_risk || found,
        held: found || report.burned_in_declared,
        text_regions,
        size: prepared.bytes.len() as i64,
    }
}

/// What is done to a received instance before it is stored.
enum Rules {
    /// De-identified under the organization's context, then redacted by the first of its
    /// per-device rules that matches.
    Deidentify(DeidContext, Arc<Vec<RedactionRule>>),
    /// Checked to be de-identified already, with at most this many patient ID digits.
    Check(u8),
    /// Made here from stored instances (a presentation state): stored as it is.
    Presentation,
}

/// The bytes of an instance after its blocking work: written there (a local store), or still
/// to be written (a remote one), with their data key.
enum ObjectBytes {
    Written(Result<(), BlobError>),
    ToWrite(renkei_store::blobs::keyring::DataKey, Vec<u8>),
}

/// An instance after its blocking work ([`ready`], [`Readied::write`]).
struct Handled {
    entry: IndexedInstance,
    object: String,
    key: WrappedKey,
    /// Its index entry, sent to the writer.
    pending: PendingIndex,
    bytes: ObjectBytes,
    /// When de-identification ended.
    at: std::time::Instant,
}

/// An instance de-identified (or checked), with its object id and sealed key, to be indexed
/// and written.
struct Readied {
    prepared: Prepared,
    entry: IndexedInstance,
    object: String,
    data_key: renkei_store::blobs::keyring::DataKey,
    key: WrappedKey,
    /// Its index entry, to send to the writer.
    request: IndexRequest,
    /// When de-identification ended.
    at: std::time::Instant,
}

/// De-identifies (or checks) an instance and gives it an object id and a key (blocking work).
fn ready(
    bytes: Vec<u8>,
    rules: Rules,
    (blobs, detector): (&BlobStore, &dyn TextDetector),
    (org_id, expires_at): (Uuid, Timestamp),
    started: std::time::Instant,
) -> Result<Readied, IngestFailure> {
    let prepared = match rules {
        Rules::Deidentify(ctx, redaction) => prepare(bytes, &ctx).and_then(|prepared| {
            apply_rules(prepared, &redaction, &ctx.org_secret, ctx.patient_id_digits)
        }),
        Rules::Check(digits) => accept_deidentified(bytes, digits),
        Rules::Presentation => accept_derived(bytes),
    }
    .map_err(prepare_failure)?;
    let at = stage("deidentify", started);
    let entry = index_entry(&prepared, text_found(&prepared, detector));
    let at = stage("text", at);
    let object = blobs.reserve_object_id(&format!("dicom-{}", new_id()), prepared.bytes.len());
    let (data_key, key) = blobs.new_object_key(&object).map_err(storage)?;
    let request = IndexRequest {
        org_id,
        entry: entry.clone(),
        object_id: object.clone(),
        key: key.clone(),
        expires_at,
    };
    Ok(Readied {
        prepared,
        entry,
        object,
        data_key,
        key,
        request,
        at,
    })
}

impl Readied {
    /// Seals and writes the instance's bytes in a local store (blocking work, done while its
    /// index entry, sent as `pending`, commits); keeps them to write in a remote one.
    fn write(mut self, blobs: &BlobStore, pending: PendingIndex) -> Handled {
        let bytes = if blobs.writes_locally() {
            let parts = &mut self.prepared.bytes.parts_mut();
            let written = blobs.put_sealed_bytes_locally(&self.object, &self.data_key, parts);
            stage("store", self.at);
            ObjectBytes::Written(written)
        } else {
            ObjectBytes::ToWrite(self.data_key, self.prepared.bytes.into_vec())
        };
        Handled {
            entry: self.entry,
            object: self.object,
            key: self.key,
            pending,
            bytes,
            at: self.at,
        }
    }
}

/// Runs `work` on `server` (the server's runtime) when called on an association's own thread,
/// where it is; Err only when the server's runtime lost it (shutting down, a panic).
pub(crate) async fn on_runtime<T: Send + 'static>(
    server: &tokio::runtime::Handle,
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if may_block_here() {
        return server.spawn(work).await;
    }
    Ok(work.await)
}

/// The object of record of an indexed instance, with its sealed key (none once expired).
struct Record {
    object: String,
    key: Option<WrappedKey>,
    /// When it was indexed.
    indexed_at: Timestamp,
}

/// How long after an instance was indexed its object may still be on its way to a shared
/// object store (S3), written by another node that received the same instance at the same
/// time: until then an object that does not open is waited for, not replaced. (A local store
/// belongs to one process, whose copy is written before its sender is answered.)
const WRITE_GRACE_MS: i64 = 30_000;

/// How often a resend looks again at an object still on its way.
const LOOK_AGAIN: std::time::Duration = std::time::Duration::from_millis(200);

/// What to do with the new copy of an instance already indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resend {
    /// The stored copy opens: it stays, the new copy goes.
    DropNew,
    /// The stored copy does not open yet but may still be being written: look again.
    Wait,
    /// The stored copy is missing (a crash between the index commit and the write): the new
    /// copy, written whole, takes its place.
    Replace,
    /// The stored copy is missing and the new one was not written either.
    Fail,
}

impl Resend {
    /// Decides from whether the stored copy opens, whether it may still be on its way (see
    /// [`WRITE_GRACE_MS`]), and whether the new copy was written whole.
    fn decide(record_opens: bool, on_its_way: bool, new_written: bool) -> Resend {
        match (record_opens, on_its_way, new_written) {
            (true, _, _) => Resend::DropNew,
            (false, true, _) => Resend::Wait,
            (false, false, true) => Resend::Replace,
            (false, false, false) => Resend::Fail,
        }
    }
}

fn storage(e: impl std::fmt::Display) -> IngestFailure {
    tracing::error!(error = %e, "storing a DICOM instance failed");
    IngestFailure::OutOfResources("the instance could not be stored; try again".into())
}

impl DicomService {
    /// The service over `store` and `blobs`, with its index writer (call within a Tokio
    /// runtime).
    pub fn new(store: Store, blobs: BlobStore) -> DicomService {
        DicomService {
            index: IndexWriter::start(store.clone()),
            store,
            blobs,
            opened: Default::default(),
            secrets: Default::default(),
            server: tokio::runtime::Handle::current(),
            hints: InboxHints::none(),
            thumbnails: Default::default(),
            inflight: InFlight::in_temp_dir(),
            rules: Default::default(),
            text: crate::text::detector(),
        }
    }

    /// The same service, finding burned-in text with `detector`.
    pub fn with_text_detector(mut self, detector: Arc<dyn TextDetector>) -> DicomService {
        self.text = detector;
        self
    }

    /// The same service, telling live inboxes through `hints` when a study arrives or grows.
    pub fn with_hints(mut self, hints: InboxHints) -> DicomService {
        self.hints = hints;
        self
    }

    /// The organization's UID secret from the store (made on first use).
    async fn open_secret(&self, org: &Organization) -> Result<[u8; 32], IngestFailure> {
        let label = format!("{DEID_SECRET}:{}", org.id);
        let sealed = match self.store.org_secret(org.id, DEID_SECRET).await {
            Ok(sealed) => sealed,
            Err(StoreError::NotFound) => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(storage)?;
                let sealed = self.blobs.seal_secret(&secret, &label).map_err(storage)?;
                self.store
                    .keep_org_secret(org.id, DEID_SECRET, &sealed)
                    .await
                    .map_err(storage)?
            }
            Err(e) => return Err(storage(e)),
        };
        self.blobs.open_secret(&sealed, &label).map_err(storage)
    }

    /// The organization's de-identification rules, with its UID secret (made on first use).
    pub async fn context(&self, org: &Organization) -> Result<DeidContext, IngestFailure> {
        let known = self
            .secrets
            .lock()
            .ok()
            .and_then(|s| s.get(&org.id).copied());
        let secret = match known {
            Some(secret) => secret,
            None => {
                let (this, owner) = (self.clone(), org.clone());
                let secret = self
                    .on_server(async move { this.open_secret(&owner).await })
                    .await??;
                if let Ok(mut secrets) = self.secrets.lock() {
                    secrets.insert(org.id, secret);
                }
                secret
            }
        };
        let mut ctx = DeidContext::new(secret);
        ctx.patient_id_digits = u8::try_from(org.policy.patient_id_digits).unwrap_or(4);
        Ok(ctx)
    }

    /// The organization's per-device redaction rules (read at most [`RULES_FRESH`] ago).
    pub async fn redaction_rules(
        &self,
        org: Uuid,
    ) -> Result<Arc<Vec<RedactionRule>>, IngestFailure> {
        let known = self.rules.lock().ok().and_then(|r| {
            r.get(&org)
                .filter(|(at, _)| at.elapsed() < RULES_FRESH)
                .map(|(_, rules)| rules.clone())
        });
        if let Some(rules) = known {
            return Ok(rules);
        }
        let store = self.store.clone();
        let rules = self
            .on_server(async move { store.redaction_rules(org).await })
            .await?
            .map_err(storage)?;
        let rules = Arc::new(rules);
        if let Ok(mut cache) = self.rules.lock() {
            cache.insert(org, (std::time::Instant::now(), rules.clone()));
        }
        Ok(rules)
    }

    /// Forgets the organization's rules read earlier (after a change).
    pub fn forget_rules(&self, org: Uuid) {
        if let Ok(mut cache) = self.rules.lock() {
            cache.remove(&org);
        }
    }

    /// De-identifies (or, from a gateway, checks), encrypts and indexes one Part 10 file;
    /// durable when this returns Ok. A resend of a stored instance is a duplicate and changes
    /// nothing.
    pub async fn ingest(
        &self,
        org: &Organization,
        bytes: Vec<u8>,
        source: IngestSource,
    ) -> Result<Ingested, IngestFailure> {
        let started = std::time::Instant::now();
        let rules = match source {
            IngestSource::Identified => Rules::Deidentify(
                self.context(org).await?,
                self.redaction_rules(org.id).await?,
            ),
            IngestSource::Gateway | IngestSource::Derived => {
                Rules::Check(u8::try_from(org.policy.patient_id_digits).unwrap_or(4))
            }
            IngestSource::Presentation => Rules::Presentation,
        };
        let policy = (org.id, expiry(Timestamp::now(), org.policy.retention_days));
        let handled = if may_block_here() {
            // On an association's own thread: the work runs here, between two awaits.
            let readied = ready(bytes, rules, (&self.blobs, &*self.text), policy, started)?;
            let pending = self.index.submit(readied.request.clone()).await;
            readied.write(&self.blobs, pending)
        } else {
            // One blocking task: de-identified, sent to the index, then written.
            let (blobs, index, text) = (self.blobs.clone(), self.index.clone(), self.text.clone());
            tokio::task::spawn_blocking(move || {
                let readied = ready(bytes, rules, (&blobs, &*text), policy, started)?;
                let pending = index.submit_blocking(readied.request.clone());
                Ok(readied.write(&blobs, pending))
            })
            .await
            .map_err(storage)??
        };
        let written = match handled.bytes {
            ObjectBytes::Written(written) => written,
            ObjectBytes::ToWrite(data_key, bytes) => {
                let (blobs, object) = (self.blobs.clone(), handled.object.clone());
                let put = async move {
                    blobs
                        .put_sealed_bytes(&object, data_key, Bytes::from(bytes))
                        .await
                };
                let written = self.on_server(put).await?;
                stage("store", handled.at);
                written
            }
        };
        let indexed = handled.pending.answer().await;
        stage("store_and_index", handled.at);
        let (entry, object, key) = (handled.entry, handled.object, handled.key);
        let ingested = if matches!((&written, &indexed), (Ok(()), Ok(Indexed::New { .. }))) {
            // Stored whole and new: settled without the store.
            self.settle(entry, &object, &key, written, indexed).await?
        } else {
            let this = self.clone();
            self.on_server(async move { this.settle(entry, &object, &key, written, indexed).await })
                .await??
        };
        if !ingested.duplicate {
            // Committed and its bytes durable: live inboxes may list (and draw) it now.
            self.hints.note(org.id, ingested.study_id);
        }
        Ok(ingested)
    }

    /// Runs `work`, which uses the store or a remote blob store, on the server's runtime, where
    /// their connections live: an association's own runtime must not open one (it ends with
    /// the association).
    pub(crate) async fn on_server<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, IngestFailure> {
        on_runtime(&self.server, work).await.map_err(storage)
    }

    /// Settles an instance whose bytes were written (or not) as `object` while it was indexed
    /// (or not): a new instance stored whole is kept; a resend keeps one copy; an instance
    /// whose bytes failed is taken back from the index; nothing is left half-stored.
    async fn settle(
        &self,
        entry: IndexedInstance,
        object: &str,
        key: &WrappedKey,
        written: Result<(), BlobError>,
        indexed: Result<Indexed, String>,
    ) -> Result<Ingested, IngestFailure> {
        let (study_id, duplicate) = match (written, indexed) {
            (Ok(()), Ok(Indexed::New { study })) => (study, false),
            (
                written,
                Ok(Indexed::Existing {
                    study,
                    object_id,
                    key: record_key,
                    indexed_at,
                }),
            ) => {
                let record = Record {
                    object: object_id,
                    key: record_key,
                    indexed_at,
                };
                self.keep_one_copy(study, &entry.sop_uid, record, object, key, written.is_ok())
                    .await?;
                (study, true)
            }
            (Err(e), Ok(Indexed::New { study })) => {
                // Take the record back: its bytes are not stored.
                let undone = self
                    .store
                    .unindex_instance(study, &entry.sop_uid, object)
                    .await;
                let _ = self.blobs.delete(object).await;
                undone.map_err(storage)?;
                return Err(storage(e));
            }
            (_, Err(e)) => {
                let _ = self.blobs.delete(object).await;
                return Err(storage(e));
            }
        };
        metrics::counter!("renkei_dicom_instances_total", "duplicate" => duplicate.to_string())
            .increment(1);
        Ok(Ingested {
            study_id,
            study_uid: entry.study_uid,
            series_uid: entry.series_uid,
            sop_uid: entry.sop_uid,
            sop_class: entry.sop_class,
            duplicate,
        })
    }

    /// After a resend of an indexed instance (or the same instance received at the same time by
    /// another node): the stored copy stays and the new one goes — waiting while the stored
    /// copy may still be being written; if it does not open after that (a crash between the
    /// index commit and the disk flush), the new copy, if written, takes its place.
    async fn keep_one_copy(
        &self,
        study: Uuid,
        sop_uid: &str,
        mut record: Record,
        new: &str,
        key: &WrappedKey,
        new_written: bool,
    ) -> Result<(), IngestFailure> {
        loop {
            let record_opens = record.object == new
                || match &record.key {
                    Some(record_key) => self
                        .blobs
                        .opens(&record.object, record_key)
                        .await
                        .map_err(storage)?,
                    None => false,
                };
            let ago = Timestamp::now().millis() - record.indexed_at.millis();
            let on_its_way = !self.blobs.writes_locally() && ago < WRITE_GRACE_MS;
            match Resend::decide(record_opens, on_its_way, new_written) {
                Resend::DropNew => {
                    if record.object != new {
                        let _ = self.blobs.delete(new).await;
                    }
                    return Ok(());
                }
                Resend::Wait => {
                    tokio::time::sleep(LOOK_AGAIN).await;
                    match self.store.instance_object(study, sop_uid).await {
                        Ok((object, key)) => {
                            record.object = object;
                            record.key = Some(key);
                        }
                        Err(StoreError::NotFound) => {
                            // Its first sender's copy failed and was taken back: this sender
                            // is asked to send again (then it is new).
                            let _ = self.blobs.delete(new).await;
                            return Err(storage("the first copy of a resend was taken back"));
                        }
                        Err(e) => return Err(storage(e)),
                    }
                }
                Resend::Replace => {
                    tracing::warn!(study = %study, "a DICOM instance's object was missing; a resend restored it");
                    self.store
                        .repoint_instance(study, sop_uid, &record.object, new, key)
                        .await
                        .map_err(storage)?;
                    // Whatever is left of the missing copy (its key is gone with the repoint).
                    let _ = self.blobs.delete(&record.object).await;
                    return Ok(());
                }
                Resend::Fail => {
                    return Err(storage(
                        "the stored copy is missing and the new one was not written",
                    ));
                }
            }
        }
    }

    /// The study `id` if `user` (of organization `org`) may see it: its organization's users
    /// (the inbox: only the organization's retention applies), and members of conversations
    /// it was shared in while the two organizations' agreement holds the images scope. 404
    /// otherwise, 410 once expired, or once every link through which the user reaches
    /// another organization's study expired under its conversation's retention.
    pub async fn visible_study(&self, id: Uuid, user: Uuid, org: Uuid) -> ServiceResult<Study> {
        let study = self.store.study(id).await.or_service("study_not_found")?;
        let mut reach = Reach::Live;
        if study.org_id != org {
            reach = self
                .store
                .reach(Attached::Study, id, user, None, Timestamp::now())
                .await
                .or_service("study_not_found")?;
            let images =
                crate::cooperation::cooperates_for_images(self.store.clone(), org, study.org_id);
            if reach == Reach::Unlinked || !images.await? {
                return Err(ServiceError::not_found("study_not_found"));
            }
        }
        if study.expired {
            return Err(ServiceError::new(
                Kind::Gone,
                "study_expired",
                "this study has expired and was destroyed",
            ));
        }
        if reach == Reach::Expired {
            return Err(ServiceError::new(
                Kind::Gone,
                "study_expired",
                "this study is past the retention of the conversations it was shared in",
            ));
        }
        Ok(study)
    }

    /// The de-identified Part 10 bytes of an instance, streamed.
    pub async fn open_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
    ) -> ServiceResult<BoxStream<'static, Result<Bytes, BlobError>>> {
        let (object, key) = self
            .store
            .instance_object(study, sop_uid)
            .await
            .or_service("instance_not_found")?;
        self.blobs
            .get(&object, &key)
            .await
            .map_err(|e| ServiceError::from_blob(&e))
    }

    /// An instance parsed, from memory or from the store.
    pub async fn parsed_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
    ) -> ServiceResult<Arc<DefaultDicomObject>> {
        let key = (study, sop_uid.to_owned());
        if let Some(obj) = self.opened.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(obj);
        }
        let obj = Arc::new(self.read_instance(study, sop_uid).await?);
        if let Ok(mut opened) = self.opened.lock() {
            if opened.len() >= OPENED_CAPACITY {
                opened.clear();
            }
            opened.insert(key, obj.clone());
        }
        Ok(obj)
    }

    /// An instance parsed from the store, without keeping it.
    pub async fn read_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
    ) -> ServiceResult<DefaultDicomObject> {
        let (object, wrapped) = self
            .store
            .instance_object(study, sop_uid)
            .await
            .or_service("instance_not_found")?;
        let bytes = self
            .blobs
            .get_bytes(&object, &wrapped)
            .await
            .map_err(|e| ServiceError::from_blob(&e))?;
        let obj = tokio::task::spawn_blocking(move || {
            OpenFileOptions::new()
                .read_preamble(ReadPreamble::Auto)
                .from_reader(&bytes[..])
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?
        .map_err(|e| ServiceError::internal(&e))?;
        Ok(obj)
    }

    /// Destroys an instance of `study` (a redaction replaced it), with `audit` in the same
    /// commit: its key and index entry go (its bytes are unreadable from then on), then its
    /// object and whatever memory holds of it. `instance_not_found` when there is none.
    pub async fn destroy_instance(
        &self,
        study: Uuid,
        sop_uid: &str,
        audit: &renkei_core::audit::AuditEvent,
    ) -> ServiceResult<()> {
        let object = self
            .store
            .destroy_instance(study, sop_uid, audit)
            .await
            .or_service("instance_not_found")?;
        if let Ok(mut opened) = self.opened.lock() {
            opened.remove(&(study, sop_uid.to_owned()));
        }
        if let Ok(mut thumbnails) = self.thumbnails.lock() {
            thumbnails.clear();
        }
        if let Err(e) = self.blobs.delete(&object).await {
            // Its key is gone: what is left cannot be read; the object is deleted by hand.
            tracing::warn!(error = %e, "the object of a destroyed DICOM instance was not deleted");
        }
        Ok(())
    }

    /// Drops the parsed instances and thumbnails kept in memory (before every expiry sweep).
    pub fn forget_in_memory(&self) {
        if let Ok(mut opened) = self.opened.lock() {
            opened.clear();
        }
        if let Ok(mut thumbnails) = self.thumbnails.lock() {
            thumbnails.clear();
        }
    }
}

/// Allows a DICOM peer to send to `org` (audited).
pub async fn add_peer(
    store: &Store,
    actor: Option<Uuid>,
    org: &Organization,
    input: &renkei_core::dicom::NewDicomPeer,
) -> ServiceResult<renkei_core::dicom::DicomPeer> {
    let peer = input.build(org.id, Timestamp::now())?;
    let event = renkei_core::audit::AuditEvent::new(
        "dicom_peer.add",
        Some(org.id),
        actor,
        "dicom_peer",
        Some(peer.id),
    )
    .with_details(serde_json::json!({
        "ae_title": peer.ae_title,
        "allow": peer.allow,
        "any_address": peer.allow.is_empty(),
    }));
    store
        .insert_dicom_peer(&peer, &event)
        .await
        .or_service("organization_not_found")?;
    Ok(peer)
}

/// Stops accepting a DICOM peer (audited).
pub async fn remove_peer(
    store: &Store,
    actor: Option<Uuid>,
    org: Uuid,
    ae_title: &str,
) -> ServiceResult<()> {
    let event = renkei_core::audit::AuditEvent::new(
        "dicom_peer.remove",
        Some(org),
        actor,
        "dicom_peer",
        None,
    )
    .with_details(serde_json::json!({"ae_title": ae_title}));
    store
        .delete_dicom_peer(org, ae_title, &event)
        .await
        .or_service("dicom_peer_not_found")
}

#[cfg(test)]
mod tests {
    use super::Resend;

    #[test]
    fn a_resend_keeps_the_stored_copy_and_waits_for_one_still_on_its_way() {
        assert_eq!(Resend::decide(true, false, true), Resend::DropNew);
        assert_eq!(Resend::decide(true, true, false), Resend::DropNew);
        // Indexed a moment ago by another node whose write has not finished: wait for it.
        assert_eq!(Resend::decide(false, true, true), Resend::Wait);
        assert_eq!(Resend::decide(false, true, false), Resend::Wait);
        // Missing for good (a crash lost it): the new copy replaces it, if it was written.
        assert_eq!(Resend::decide(false, false, true), Resend::Replace);
        assert_eq!(Resend::decide(false, false, false), Resend::Fail);
    }
}
