//! Expiry: one sweep for everything an organization's retention destroys (media, studies,
//! and messages with their day keys).
//! Per kind, links past their conversation's retention are hidden there, due records lose
//! their keys (unreadable from that commit on), then their objects are deleted; each step is
//! resumable, so a crash or downtime is caught up by the next sweep.

use renkei_core::clock::Timestamp;
use renkei_store::blobs::BlobStore;
use renkei_store::{Attached, ExpiredMessages, Store, epoch_of};

use crate::Services;
use crate::error::{Kind, ServiceError, ServiceResult};

/// Records expired or purged per step.
const SWEEP_BATCH: i64 = 100;

/// What expires, in the order a sweep takes it, with its name in logs and its counter.
const KINDS: [(Attached, &str, &str); 2] = [
    (Attached::Media, "media", "renkei_media_expired_total"),
    (Attached::Study, "studies", "renkei_studies_expired_total"),
];

/// What a sweep did with one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Links hidden in conversations whose retention ran out for them.
    pub links_hidden: u64,
    /// Records whose keys and objects were destroyed.
    pub expired: usize,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub media: Tally,
    pub studies: Tally,
}

impl Swept {
    fn of_mut(&mut self, kind: Attached) -> &mut Tally {
        match kind {
            Attached::Media => &mut self.media,
            Attached::Study => &mut self.studies,
        }
    }
}

/// The step of a sweep that failed.
#[derive(Debug, Clone, Copy)]
enum Step {
    DestroyingKeys,
    ListingObjects,
    DeletingObjects,
    MarkingPurged,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::DestroyingKeys => "destroying keys",
            Step::ListingObjects => "listing objects",
            Step::DeletingObjects => "deleting objects",
            Step::MarkingPurged => "marking objects deleted",
        }
    }
}

/// A sweep that stopped: logged with its cause, answered `expiry_sweep_failed` (never as a
/// record not found); what it had done stays done and the next sweep resumes.
fn failed(noun: &str, step: Step, cause: &dyn std::fmt::Display) -> ServiceError {
    tracing::error!(what = noun, step = step.as_str(), error = %cause, "expiry sweep failed");
    ServiceError::new(
        Kind::Unavailable,
        "expiry_sweep_failed",
        format!(
            "the expiry sweep stopped while {} of {noun}; the next sweep resumes it",
            step.as_str()
        ),
    )
}

/// Sweeps every kind at `now`. A kind that fails does not stop the others; the first failure
/// is returned once all were tried.
pub async fn sweep(store: &Store, blobs: &BlobStore, now: Timestamp) -> ServiceResult<Swept> {
    let mut swept = Swept::default();
    let mut failure = None;
    for (kind, noun, counter) in KINDS {
        match sweep_kind(store, blobs, kind, noun, now).await {
            Ok(tally) => {
                if tally.expired > 0 {
                    tracing::info!(what = noun, count = tally.expired, "expired and destroyed");
                    metrics::counter!(counter).increment(tally.expired as u64);
                }
                if tally.links_hidden > 0 {
                    tracing::info!(
                        what = noun,
                        links = tally.links_hidden,
                        "past their conversations' retention, hidden there"
                    );
                }
                *swept.of_mut(kind) = tally;
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    let result = if failure.is_some() { "failed" } else { "ok" };
    metrics::counter!("renkei_sweeps_total", "sweeper" => "expiry", "result" => result)
        .increment(1);
    failure.map_or(Ok(swept), Err)
}

/// Expires one kind: keys first, batch by batch, then the objects of every record expired
/// (now or by an earlier sweep that stopped) that are not deleted yet.
async fn sweep_kind(
    store: &Store,
    blobs: &BlobStore,
    kind: Attached,
    noun: &str,
    now: Timestamp,
) -> ServiceResult<Tally> {
    let mut tally = Tally::default();
    loop {
        let step = store
            .expire_due(kind, now, SWEEP_BATCH)
            .await
            .map_err(|e| failed(noun, Step::DestroyingKeys, &e))?;
        tally.links_hidden += step.links;
        tally.expired += step.records.len();
        if (step.records.len() as i64) < SWEEP_BATCH {
            break;
        }
    }
    loop {
        let batch = store
            .unpurged(kind, SWEEP_BATCH)
            .await
            .map_err(|e| failed(noun, Step::ListingObjects, &e))?;
        for record in &batch {
            for object in &record.objects {
                blobs
                    .delete(object)
                    .await
                    .map_err(|e| failed(noun, Step::DeletingObjects, &e))?;
            }
            store
                .mark_purged(kind, record.id, now)
                .await
                .map_err(|e| failed(noun, Step::MarkingPurged, &e))?;
        }
        if (batch.len() as i64) < SWEEP_BATCH {
            break;
        }
    }
    Ok(tally)
}

/// Conversations whose older messages expire per step.
const MESSAGE_BATCH: i64 = 100;

/// Destroys, for every organization with a message retention, the messages of the days it no
/// longer keeps (with their keys), conversation by conversation; returns what expired. A day
/// is destroyed once all of it is older than the retention: messages live `days` to `days`+1
/// days.
pub async fn sweep_messages(store: &Store, now: Timestamp) -> ServiceResult<Vec<ExpiredMessages>> {
    let fail = |step: Step, e: &dyn std::fmt::Display| failed("messages", step, e);
    let orgs = store
        .list_orgs()
        .await
        .map_err(|e| fail(Step::ListingObjects, &e))?;
    let mut expired = Vec::new();
    for org in orgs {
        let Some(days) = org.policy.message_retention_days else {
            continue;
        };
        let first_kept = epoch_of(now) - days;
        loop {
            let due = store
                .conversations_with_keys_before(org.id, first_kept, MESSAGE_BATCH)
                .await
                .map_err(|e| fail(Step::ListingObjects, &e))?;
            for conversation in &due {
                let done = store
                    .expire_messages(org.id, *conversation, first_kept, days, now)
                    .await
                    .map_err(|e| fail(Step::DestroyingKeys, &e))?;
                expired.extend(done);
            }
            if (due.len() as i64) < MESSAGE_BATCH {
                break;
            }
        }
    }
    if !expired.is_empty() {
        store
            .truncate_wal()
            .await
            .map_err(|e| fail(Step::DestroyingKeys, &e))?;
        let count: i64 = expired.iter().map(|e| e.messages).sum();
        tracing::info!(
            messages = count,
            conversations = expired.len(),
            "messages expired and destroyed"
        );
        metrics::counter!("renkei_messages_expired_total").increment(count as u64);
    }
    Ok(expired)
}

impl Services {
    /// One sweep of everything due at `now`; parsed instances and thumbnails kept in memory
    /// are dropped first, so nothing expired is served from memory. Members see the markers
    /// of expired messages live.
    pub async fn sweep_expired(&self, now: Timestamp) -> ServiceResult<Swept> {
        self.dicom.forget_in_memory();
        let swept = sweep(&self.store, &self.media.blobs, now).await;
        let messages = sweep_messages(&self.store, now).await;
        for expired in messages.iter().flatten() {
            self.messaging
                .advanced(expired.conversation_id, expired.event_seq);
        }
        let swept = swept?;
        messages?;
        Ok(swept)
    }
}
