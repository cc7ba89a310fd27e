//! Inbox hints: "organization O's inbox has study S new or grown", gathered from DICOM ingest
//! and published on the bus at most once per study per window, so a 500-instance CT costs a
//! few hints, and ingest never waits for them (a full queue drops a hint; clients also poll
//! slowly as a fallback).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use renkei_core::Uuid;
use tokio::sync::mpsc;

use super::bus::{Bus, Signal};

/// How long hints are gathered before they are published.
const WINDOW: Duration = Duration::from_millis(300);
/// Hints waiting to be gathered; beyond this they are dropped (they repeat anyway).
const QUEUE: usize = 4096;

/// The ingest side: notes that a study of an organization was stored or grew.
#[derive(Clone, Default)]
pub struct InboxHints {
    queue: Option<mpsc::Sender<(Uuid, Uuid)>>,
}

impl InboxHints {
    /// Hints that go nowhere (the command line, which has no sockets).
    pub fn none() -> InboxHints {
        InboxHints { queue: None }
    }

    /// Starts the task that gathers hints and publishes them on `bus` (call within a Tokio
    /// runtime).
    pub fn start(bus: Arc<dyn Bus>) -> InboxHints {
        let (queue, hints) = mpsc::channel(QUEUE);
        tokio::spawn(gather(hints, bus));
        InboxHints { queue: Some(queue) }
    }

    /// Notes a committed instance of `study` in `org`'s inbox; never waits, from any thread.
    pub fn note(&self, org: Uuid, study: Uuid) {
        if let Some(queue) = &self.queue {
            let _ = queue.try_send((org, study));
        }
    }
}

/// Publishes each (organization, study) once per window in which it was noted.
async fn gather(mut hints: mpsc::Receiver<(Uuid, Uuid)>, bus: Arc<dyn Bus>) {
    while let Some(first) = hints.recv().await {
        let mut pending = HashSet::from([first]);
        let until = tokio::time::Instant::now() + WINDOW;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                next = hints.recv() => match next {
                    Some(hint) => { pending.insert(hint); }
                    None => break,
                },
            }
        }
        for (org, study) in pending {
            bus.publish(Signal::InboxChanged { org, study });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::bus::LocalBus;

    #[tokio::test]
    async fn many_instances_of_one_study_make_one_hint() {
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
        let mut heard = bus.subscribe();
        let hints = InboxHints::start(bus.clone());
        let (org, ct, us) = (
            renkei_core::new_id(),
            renkei_core::new_id(),
            renkei_core::new_id(),
        );
        for _ in 0..300 {
            hints.note(org, ct);
        }
        hints.note(org, us);
        let mut studies = Vec::new();
        for _ in 0..2 {
            match heard.recv().await.unwrap() {
                Signal::InboxChanged { org: o, study } => {
                    assert_eq!(o, org);
                    studies.push(study);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        studies.sort();
        let mut expected = vec![ct, us];
        expected.sort();
        assert_eq!(studies, expected);
        assert!(heard.try_recv().is_err(), "one hint per study per window");
    }
}
