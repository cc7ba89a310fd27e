//! The store-and-forward queue on disk: one sealed file per de-identified instance, written
//! durably (temporary file, fsync, rename, fsync of the folder) before the sender is told it
//! was stored, removed only after the server has it. Failed instances move aside with their
//! reason; instances whose pixels may show a patient are held aside (`crate::held`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::held::{self, HELD_DIR, HeldError, HeldNote};
use crate::seal::{GatewayKey, SealError};

/// The extension of a sealed instance file (queued, failed or held).
pub(crate) const QUEUED: &str = "rkq";
const PARTIAL: &str = "partial";

/// Why the queue could not do something.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("queue folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("queued file: {0}")]
    Seal(#[from] SealError),
    #[error("{0}")]
    Held(#[from] HeldError),
}

/// One queued instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The file name without its extension; names sort in the order instances arrived.
    pub name: String,
    /// Bytes on disk (sealed).
    pub size: u64,
}

/// Why an instance was set aside, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedNote {
    pub name: String,
    /// Unix milliseconds.
    pub failed_at: i64,
    /// What the server (or the queue) said; never patient data.
    pub reason: String,
}

/// The queue in `<data_dir>/queue`, failures in `<data_dir>/failed`.
pub struct Spool {
    data_dir: PathBuf,
    queue: PathBuf,
    failed: PathBuf,
    held: PathBuf,
    key: GatewayKey,
    counter: AtomicU64,
}

/// Unix milliseconds now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Writes `sealed` as `<dir>/<name>.rkq` durably: temporary file, fsync, rename, fsync of the
/// folder.
fn write_durably(dir: &Path, name: &str, sealed: &[u8]) -> std::io::Result<()> {
    let partial = dir.join(format!("{name}.{PARTIAL}"));
    let mut file = fs::File::create(&partial)?;
    file.write_all(sealed)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&partial, dir.join(format!("{name}.{QUEUED}")))?;
    sync_dir(dir)
}

impl Spool {
    /// Opens (creating) the queue under `data_dir`; files left half-written by a crash are
    /// removed (their sender never got a success, so it sends again).
    pub fn open(data_dir: &Path, key: GatewayKey) -> Result<Spool, SpoolError> {
        let queue = data_dir.join("queue");
        let failed = data_dir.join("failed");
        let held = data_dir.join(HELD_DIR);
        fs::create_dir_all(&queue)?;
        fs::create_dir_all(&failed)?;
        fs::create_dir_all(&held)?;
        for dir in [&queue, &held] {
            for entry in fs::read_dir(dir)? {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == PARTIAL) {
                    fs::remove_file(&path)?;
                }
            }
        }
        Ok(Spool {
            data_dir: data_dir.to_owned(),
            queue,
            failed,
            held,
            key,
            counter: AtomicU64::new(0),
        })
    }

    /// A new file name: names sort in the order instances arrived.
    fn new_name(&self) -> String {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{micros:020}-{n:08}-{}", std::process::id())
    }

    /// Seals and stores one instance durably; returns its name.
    pub fn push(&self, instance: &[u8]) -> Result<String, SpoolError> {
        let name = self.new_name();
        let sealed = self.key.seal(&name, instance)?;
        write_durably(&self.queue, &name, &sealed)?;
        Ok(name)
    }

    /// Seals and keeps one instance in `held/` with the note `note` makes for its name; an
    /// instance already held under the same id (a resend) is kept once. Returns its note.
    pub fn hold(
        &self,
        instance: &[u8],
        note: impl FnOnce(&str) -> HeldNote,
    ) -> Result<HeldNote, SpoolError> {
        let note = note(&self.new_name());
        if let Some(earlier) = held::notes(&self.data_dir)?
            .into_iter()
            .find(|n| n.id == note.id)
        {
            return Ok(earlier);
        }
        self.rehold(instance, &note)?;
        Ok(note)
    }

    /// Replaces (or writes) the held file and note of `note.name`.
    pub fn rehold(&self, instance: &[u8], note: &HeldNote) -> Result<(), SpoolError> {
        let sealed = self.key.seal(&note.name, instance)?;
        write_durably(&self.held, &note.name, &sealed)?;
        held::write_note(&self.data_dir, note)?;
        Ok(())
    }

    /// The notes of the held instances, oldest first.
    pub fn held_notes(&self) -> Result<Vec<HeldNote>, SpoolError> {
        Ok(held::notes(&self.data_dir)?)
    }

    /// The plain bytes of a held instance.
    pub fn read_held(&self, note: &HeldNote) -> Result<Vec<u8>, SpoolError> {
        let sealed = fs::read(self.held.join(format!("{}.{QUEUED}", note.name)))?;
        Ok(self.key.open(&note.name, &sealed)?)
    }

    /// Queues `instance` (a held one, now clean) and forgets the held copy.
    pub fn unhold(&self, instance: &[u8], note: &HeldNote) -> Result<String, SpoolError> {
        let name = self.push(instance)?;
        held::forget(&self.data_dir, &note.name)?;
        Ok(name)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.queue.join(format!("{name}.{QUEUED}"))
    }

    /// The queued instances, oldest first.
    pub fn pending(&self) -> Result<Vec<Queued>, SpoolError> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.queue)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().is_none_or(|e| e != QUEUED) {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            found.push(Queued {
                name: name.to_owned(),
                size: entry.metadata()?.len(),
            });
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// The plain bytes of a queued instance.
    pub fn read(&self, item: &Queued) -> Result<Vec<u8>, SpoolError> {
        let sealed = fs::read(self.path(&item.name))?;
        Ok(self.key.open(&item.name, &sealed)?)
    }

    /// Removes an instance the server has.
    pub fn remove(&self, item: &Queued) -> Result<(), SpoolError> {
        match fs::remove_file(self.path(&item.name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        sync_dir(&self.queue)?;
        Ok(())
    }

    /// Moves an instance the server refused aside, with the reason.
    pub fn set_aside(&self, item: &Queued, reason: &str) -> Result<(), SpoolError> {
        let note = FailedNote {
            name: item.name.clone(),
            failed_at: now_millis(),
            reason: reason.to_owned(),
        };
        let note_path = self.failed.join(format!("{}.json", item.name));
        fs::write(
            &note_path,
            serde_json::to_vec_pretty(&note).unwrap_or_default(),
        )?;
        fs::rename(
            self.path(&item.name),
            self.failed.join(format!("{}.{QUEUED}", item.name)),
        )?;
        sync_dir(&self.failed)?;
        sync_dir(&self.queue)?;
        Ok(())
    }
}

/// The notes of the instances set aside in `data_dir`, oldest first.
pub fn failed_notes(data_dir: &Path) -> Result<Vec<FailedNote>, SpoolError> {
    Ok(json_notes(&data_dir.join("failed"), |n: &FailedNote| {
        n.name.clone()
    })?)
}

/// The `.json` notes of a folder that read as `T` (none when it does not exist), sorted by
/// `name`.
pub(crate) fn json_notes<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: impl Fn(&T) -> String,
) -> std::io::Result<Vec<T>> {
    let mut notes = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(notes),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json")
            && let Ok(note) = serde_json::from_slice::<T>(&fs::read(&path)?)
        {
            notes.push(note);
        }
    }
    notes.sort_by_key(name);
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(dir: &Path) -> Spool {
        Spool::open(dir, GatewayKey::from_bytes(&[9; 32])).unwrap()
    }

    #[test]
    fn instances_come_out_in_order_sealed_on_disk_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let first = spool(dir.path());
        for i in 0..5u8 {
            first
                .push(format!("YAMADA^TARO instance {i}").as_bytes())
                .unwrap();
        }
        for entry in fs::read_dir(dir.path().join("queue")).unwrap() {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(11).any(|w| w == b"YAMADA^TARO"),
                "plaintext on disk"
            );
        }
        drop(first);
        let reopened = spool(dir.path());
        let pending = reopened.pending().unwrap();
        assert_eq!(pending.len(), 5);
        for (i, item) in pending.iter().enumerate() {
            let plain = reopened.read(item).unwrap();
            assert_eq!(plain, format!("YAMADA^TARO instance {i}").as_bytes());
        }
        reopened.remove(&pending[0]).unwrap();
        reopened
            .set_aside(&pending[1], "refused: not DICOM")
            .unwrap();
        assert_eq!(reopened.pending().unwrap().len(), 3);
        let notes = failed_notes(dir.path()).unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].reason, "refused: not DICOM");
    }

    #[test]
    fn a_half_written_file_is_dropped_on_open_and_a_swapped_file_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let queue = spool(dir.path());
        let a = queue.push(b"a").unwrap();
        let b = queue.push(b"b").unwrap();
        fs::write(dir.path().join("queue/x.partial"), b"half").unwrap();
        let q = dir.path().join("queue");
        fs::copy(q.join(format!("{a}.rkq")), q.join(format!("{b}.rkq"))).unwrap();
        let reopened = spool(dir.path());
        assert!(!q.join("x.partial").exists());
        let pending = reopened.pending().unwrap();
        assert_eq!(pending.len(), 2);
        assert!(
            reopened.read(&pending[1]).is_err(),
            "a file under another name opened"
        );
    }
}
