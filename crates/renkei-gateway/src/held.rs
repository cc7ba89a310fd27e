//! Instances held at the gateway because their pixels may show a patient: kept sealed in
//! `<data_dir>/held` (one `.rkq` file under its queue name, with a `.json` note that carries no
//! patient data), listed by `renkei gateway status`, and released into the queue or discarded
//! by the hospital's IT (`renkei gateway held release|discard`), each action logged in
//! `<data_dir>/held.log`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use renkei_core::redaction::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spool::{QUEUED, json_notes, now_millis, sync_dir};
use crate::verdict::HoldReason;

/// The folder of held instances in a data folder.
pub const HELD_DIR: &str = "held";
const LOG_FILE: &str = "held.log";

/// Why a held instance could not be listed, released or discarded.
#[derive(Debug, thiserror::Error)]
pub enum HeldError {
    #[error("no held instance has the id {0}")]
    NotFound(String),
    #[error("the id {0} names more than one held instance; give more of it")]
    Ambiguous(String),
    #[error("held folder: {0}")]
    Io(#[from] std::io::Error),
}

impl HeldError {
    pub fn code(&self) -> &'static str {
        match self {
            HeldError::NotFound(_) => "held_not_found",
            HeldError::Ambiguous(_) => "held_ambiguous",
            HeldError::Io(_) => "held_io",
        }
    }
}

/// The device an instance came from, as its redaction rules match it (no patient data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldDevice {
    pub manufacturer: String,
    pub model: String,
    pub rows: u32,
    pub columns: u32,
}

impl HeldDevice {
    pub fn of(device: &Device) -> HeldDevice {
        HeldDevice {
            manufacturer: device.manufacturer.clone(),
            model: device.model.clone(),
            rows: device.rows,
            columns: device.columns,
        }
    }
}

/// What is shown of a held instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldNote {
    /// A short id: the start of the SHA-256 of its (de-identified) SOP Instance UID.
    pub id: String,
    /// Its file name in `held/` (and in `queue/` once released).
    pub name: String,
    /// Unix milliseconds.
    pub held_at: i64,
    pub reason: HoldReason,
    pub modality: String,
    pub device: HeldDevice,
    /// Text regions found (0 when held for Burned In Annotation or a failed scan).
    pub regions: usize,
    /// The redaction rule already applied (`id:version`), if any.
    pub rule: Option<String>,
}

/// The short id of an instance whose SOP Instance UID is `sop_uid`.
pub fn short_id(sop_uid: &str) -> String {
    let digest = Sha256::digest(sop_uid.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join(HELD_DIR)
}

/// Writes `note` beside its held file (temporary file, then rename).
pub fn write_note(data_dir: &Path, note: &HeldNote) -> Result<(), HeldError> {
    let path = dir(data_dir).join(format!("{}.json", note.name));
    let partial = path.with_extension("json.partial");
    fs::write(
        &partial,
        serde_json::to_vec_pretty(note).unwrap_or_default(),
    )?;
    fs::rename(&partial, &path)?;
    sync_dir(&dir(data_dir))?;
    Ok(())
}

/// The held instances of `data_dir`, oldest first.
pub fn notes(data_dir: &Path) -> Result<Vec<HeldNote>, HeldError> {
    Ok(json_notes(&dir(data_dir), |n: &HeldNote| n.name.clone())?)
}

/// The held instance whose id starts with `id`.
fn find(data_dir: &Path, id: &str) -> Result<HeldNote, HeldError> {
    let id = id.trim().to_ascii_lowercase();
    let mut matching = notes(data_dir)?
        .into_iter()
        .filter(|n| !id.is_empty() && n.id.starts_with(&id));
    match (matching.next(), matching.next()) {
        (Some(note), None) => Ok(note),
        (Some(_), Some(_)) => Err(HeldError::Ambiguous(id)),
        (None, _) => Err(HeldError::NotFound(id)),
    }
}

/// Forgets a held instance's note and file (after its file moved to the queue, or to discard).
pub fn forget(data_dir: &Path, name: &str) -> Result<(), HeldError> {
    for file in [format!("{name}.{QUEUED}"), format!("{name}.json")] {
        match fs::remove_file(dir(data_dir).join(file)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    sync_dir(&dir(data_dir))?;
    Ok(())
}

/// What an operator did with a held instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Confirmed clean: sent to the server as it is.
    Released,
    /// Deleted at the gateway: never sent.
    Discarded,
}

/// One line of `held.log`.
#[derive(Debug, Serialize)]
struct Logged<'a> {
    at: i64,
    action: Action,
    id: &'a str,
    modality: &'a str,
    reason: HoldReason,
    /// The operating-system account that ran the command.
    by: String,
}

/// Releases (into the queue: the running gateway sends it) or discards the held instance whose
/// id starts with `id`; logs the action without patient data. Returns its note.
pub fn settle(data_dir: &Path, id: &str, action: Action) -> Result<HeldNote, HeldError> {
    let note = find(data_dir, id)?;
    let file = format!("{}.{QUEUED}", note.name);
    if action == Action::Released {
        let queue = data_dir.join("queue");
        fs::create_dir_all(&queue)?;
        fs::rename(dir(data_dir).join(&file), queue.join(&file))?;
        sync_dir(&queue)?;
    }
    forget(data_dir, &note.name)?;
    let line = Logged {
        at: now_millis(),
        action,
        id: &note.id,
        modality: &note.modality,
        reason: note.reason,
        by: std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_default(),
    };
    let mut log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join(LOG_FILE))?;
    writeln!(log, "{}", serde_json::to_string(&line).unwrap_or_default())?;
    log.sync_all()?;
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::GatewayKey;
    use crate::spool::Spool;

    fn note(spool_name: &str, sop: &str) -> HeldNote {
        HeldNote {
            id: short_id(sop),
            name: spool_name.to_owned(),
            held_at: now_millis(),
            reason: HoldReason::TextFound,
            modality: "US".into(),
            device: HeldDevice::default(),
            regions: 2,
            rule: None,
        }
    }

    #[test]
    fn a_released_instance_joins_the_queue_and_a_discarded_one_is_gone_both_logged() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), GatewayKey::from_bytes(&[3; 32])).unwrap();
        let a = spool
            .hold(b"YAMADA^TARO a", |name| note(name, "1.2.3"))
            .unwrap();
        let b = spool
            .hold(b"YAMADA^TARO b", |name| note(name, "1.2.4"))
            .unwrap();
        assert_eq!(notes(dir.path()).unwrap(), vec![a.clone(), b.clone()]);
        assert!(spool.pending().unwrap().is_empty(), "held is not queued");
        // The same instance again (a resend) is held once.
        let again = spool
            .hold(b"YAMADA^TARO a", |name| note(name, "1.2.3"))
            .unwrap();
        assert_eq!(again, a);
        assert_eq!(notes(dir.path()).unwrap().len(), 2);

        assert!(matches!(
            settle(dir.path(), "zz", Action::Released),
            Err(HeldError::NotFound(_))
        ));
        let released = settle(dir.path(), &a.id[..8], Action::Released).unwrap();
        assert_eq!(released.name, a.name);
        let pending = spool.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(spool.read(&pending[0]).unwrap(), b"YAMADA^TARO a");
        settle(dir.path(), &b.id, Action::Discarded).unwrap();
        assert!(notes(dir.path()).unwrap().is_empty());
        assert_eq!(
            spool.pending().unwrap().len(),
            1,
            "a discarded one is not sent"
        );
        let log = fs::read_to_string(dir.path().join(LOG_FILE)).unwrap();
        assert_eq!(log.lines().count(), 2);
        assert!(log.contains("\"released\"") && log.contains("\"discarded\""));
        assert!(!log.contains("YAMADA"));
        assert_eq!(
            fs::read_dir(dir.path().join(HELD_DIR)).unwrap().count(),
            0,
            "nothing is left in held/"
        );
    }
}
