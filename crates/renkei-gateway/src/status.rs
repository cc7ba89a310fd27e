//! What the gateway is doing, for `renkei gateway status`: counters and the last error kept in
//! `<data_dir>/status.json` by the running gateway, plus what the queue folders hold (queued,
//! failed and held instances).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::held::HeldNote;
use crate::spool::{FailedNote, failed_notes, now_millis};

/// The state of the link to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Nothing to send.
    #[default]
    Idle,
    /// Sending the queue.
    Forwarding,
    /// The last attempt failed; the next one is scheduled.
    Retrying,
    /// The server refused the gateway's token: nothing is sent until it is replaced.
    Unauthorized,
}

/// A failure of the link, kept until the next success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkError {
    /// Unix milliseconds.
    pub at: i64,
    pub reason: String,
}

/// What the running gateway writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub server: String,
    pub gateway_name: String,
    pub organization: String,
    pub pid: u32,
    pub started_at: i64,
    pub state: LinkState,
    /// Instances received from DICOM peers and queued, since the data folder was made.
    pub received_total: u64,
    /// Instances the server confirmed.
    pub sent_total: u64,
    /// Instances the server refused (set aside with their reason).
    pub failed_total: u64,
    /// Instances held at the gateway when they arrived (their pixels may show a patient).
    #[serde(default)]
    pub held_total: u64,
    pub last_sent_at: Option<i64>,
    pub last_error: Option<LinkError>,
    /// When the next attempt is due while retrying (Unix milliseconds).
    pub next_attempt_at: Option<i64>,
}

/// The running gateway's book: updated in memory, written to disk on every change.
pub struct StatusBook {
    path: PathBuf,
    recorded: Mutex<Recorded>,
}

impl StatusBook {
    /// The book in `data_dir`, keeping the counters of earlier runs.
    pub fn open(data_dir: &Path, fresh: Recorded) -> StatusBook {
        let path = data_dir.join("status.json");
        let earlier = read_recorded(data_dir).unwrap_or_default();
        let recorded = Recorded {
            received_total: earlier.received_total,
            sent_total: earlier.sent_total,
            failed_total: earlier.failed_total,
            held_total: earlier.held_total,
            last_sent_at: earlier.last_sent_at,
            ..fresh
        };
        let book = StatusBook {
            path,
            recorded: Mutex::new(recorded),
        };
        book.update(|_| {});
        book
    }

    /// Changes the book and writes it (atomically: temporary file, then rename).
    pub fn update(&self, change: impl FnOnce(&mut Recorded)) {
        let Ok(mut recorded) = self.recorded.lock() else {
            return;
        };
        change(&mut recorded);
        let bytes = serde_json::to_vec_pretty(&*recorded).unwrap_or_default();
        let partial = self.path.with_extension("json.partial");
        let written = fs::write(&partial, bytes).and_then(|()| fs::rename(&partial, &self.path));
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not write the gateway status file");
        }
    }

    /// A copy of the book.
    pub fn snapshot(&self) -> Recorded {
        self.recorded.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn read_recorded(data_dir: &Path) -> Option<Recorded> {
    serde_json::from_slice(&fs::read(data_dir.join("status.json")).ok()?).ok()
}

/// Everything `renkei gateway status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether a gateway process holds this data folder now.
    pub running: bool,
    pub queued: usize,
    pub queued_bytes: u64,
    /// Age of the oldest queued instance, in seconds.
    pub oldest_queued_seconds: Option<i64>,
    pub failed: Vec<FailedNote>,
    /// Instances held now: not sent until a redaction rule clears them or an operator releases
    /// them (`renkei gateway held`).
    pub held: Vec<HeldNote>,
    #[serde(flatten)]
    pub recorded: Recorded,
}

/// Reads the state of the gateway whose data folder is `data_dir` (running or not).
pub fn report(data_dir: &Path) -> Result<Report, String> {
    if !data_dir.is_dir() {
        return Err(format!(
            "{} is not a gateway data folder",
            data_dir.display()
        ));
    }
    let recorded = read_recorded(data_dir).unwrap_or_default();
    let mut queued = 0;
    let mut queued_bytes = 0;
    let mut oldest: Option<String> = None;
    if let Ok(entries) = fs::read_dir(data_dir.join("queue")) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "rkq") {
                continue;
            }
            queued += 1;
            queued_bytes += entry.metadata().map(|m| m.len()).unwrap_or_default();
            let name = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
            if name < oldest || oldest.is_none() {
                oldest = name;
            }
        }
    }
    // Queue names start with the arrival time in microseconds.
    let oldest_queued_seconds = oldest
        .and_then(|name| name.split('-').next()?.parse::<i64>().ok())
        .map(|micros| (now_millis() - micros / 1000) / 1000);
    Ok(Report {
        running: crate::lock::is_held(data_dir),
        queued,
        queued_bytes,
        oldest_queued_seconds,
        failed: failed_notes(data_dir).map_err(|e| e.to_string())?,
        held: crate::held::notes(data_dir).map_err(|e| e.to_string())?,
        recorded,
    })
}

impl Report {
    /// The report as people read it.
    pub fn human(&self) -> String {
        let r = &self.recorded;
        let mut out = String::new();
        let state = if self.running {
            format!("{:?}", r.state).to_lowercase()
        } else {
            "not running".to_owned()
        };
        out.push_str(&format!(
            "gateway   {} ({})\n",
            r.gateway_name, r.organization
        ));
        out.push_str(&format!("server    {}\n", r.server));
        out.push_str(&format!("state     {state}\n"));
        out.push_str(&format!(
            "queued    {} ({} bytes{})\n",
            self.queued,
            self.queued_bytes,
            self.oldest_queued_seconds
                .map(|s| format!(", oldest {s} s"))
                .unwrap_or_default()
        ));
        out.push_str(&format!("received  {}\n", r.received_total));
        out.push_str(&format!("sent      {}\n", r.sent_total));
        out.push_str(&format!("failed    {}\n", self.failed.len()));
        if let Some(error) = &r.last_error {
            out.push_str(&format!("last error {}\n", error.reason));
        }
        for note in &self.failed {
            out.push_str(&format!("  failed {}: {}\n", note.name, note.reason));
        }
        out.push_str(&format!("held      {}\n", self.held.len()));
        for note in &self.held {
            out.push_str(&format!("  {}\n", held_line(note)));
        }
        out
    }
}

/// One held instance on one line, as `status` and `held list` print it.
pub fn held_line(note: &HeldNote) -> String {
    let d = &note.device;
    let reason = serde_json::to_value(note.reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "held {} {:<4} {} {} {}x{}  {reason}, {} region(s), held {} s ago",
        note.id,
        note.modality,
        d.manufacturer,
        d.model,
        d.columns,
        d.rows,
        note.regions,
        (now_millis() - note.held_at) / 1000
    )
}
