//! DICOM data in flight (C-STORE data sets being assembled, STOW-RS parts being read): one
//! memory budget shared by every association and upload, and sealed spill files on disk for
//! instances above a threshold or once the budget is spent.

mod budget;
mod buffer;
mod spill;

pub use budget::{Budget, Charge};
pub use buffer::{Buffer, Held};
pub use spill::SpillFile;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an instance in flight could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum InFlightError {
    /// The memory budget cannot hold the instance now (DICOM 0xA700: the sender retries later).
    #[error("the server's memory for instances in flight is in use; try again later")]
    MemoryExhausted,
    /// The disk budget for spilled instances is spent (0xA700 as well).
    #[error("the server's spill space for large instances is in use; try again later")]
    DiskExhausted,
    /// Writing or reading a spill file failed.
    #[error("a spill file could not be written or read: {0}")]
    Io(#[from] std::io::Error),
}

impl InFlightError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            InFlightError::MemoryExhausted => "dicom_memory_exhausted",
            InFlightError::DiskExhausted => "dicom_spill_exhausted",
            InFlightError::Io(_) => "dicom_spill_failed",
        }
    }

    /// A short reason for the sender (a DICOM Error Comment: at most 64 characters, no data).
    pub fn comment(&self) -> &'static str {
        match self {
            InFlightError::MemoryExhausted => "memory for instances in flight exhausted; retry",
            InFlightError::DiskExhausted => "spill space for large instances exhausted; retry",
            InFlightError::Io(_) => "spill file could not be written",
        }
    }
}

/// The limits of data in flight.
#[derive(Debug, Clone)]
pub struct InFlightLimits {
    /// Bytes of instance data held in memory at once, by all associations and uploads.
    pub memory_budget: u64,
    /// An instance larger than this goes to a sealed spill file instead of memory.
    pub spill_threshold: u64,
    /// Bytes of spill files on disk at once.
    pub disk_budget: u64,
}

impl Default for InFlightLimits {
    fn default() -> Self {
        InFlightLimits {
            memory_budget: 512 * 1024 * 1024,
            spill_threshold: 16 * 1024 * 1024,
            disk_budget: 8 * 1024 * 1024 * 1024,
        }
    }
}

/// The memory and disk budgets of data in flight, and where spill files go.
#[derive(Debug)]
pub struct InFlight {
    memory: Arc<Budget>,
    disk: Arc<Budget>,
    spill_threshold: u64,
    spill_dir: PathBuf,
}

impl InFlight {
    /// Budgets per `limits`, spilling into `spill_dir` (created private; spill files a crash
    /// left behind are removed).
    pub fn new(limits: &InFlightLimits, spill_dir: &Path) -> std::io::Result<Arc<InFlight>> {
        spill::prepare_dir(spill_dir)?;
        Ok(Arc::new(InFlight {
            memory: Budget::new(limits.memory_budget),
            disk: Budget::new(limits.disk_budget),
            spill_threshold: limits.spill_threshold,
            spill_dir: spill_dir.to_path_buf(),
        }))
    }

    /// Default limits, spilling into a private folder of the system's temporary directory;
    /// one per process (for tests and tools; the server spills into its data folder).
    pub fn in_temp_dir() -> Arc<InFlight> {
        static SHARED: std::sync::OnceLock<Arc<InFlight>> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| {
                let dir = std::env::temp_dir().join(format!("renkei-spill-{}", std::process::id()));
                let limits = InFlightLimits::default();
                InFlight::new(&limits, &dir).unwrap_or_else(|_| {
                    // No folder to spill into: everything stays in memory, within the budget.
                    Arc::new(InFlight {
                        memory: Budget::new(limits.memory_budget),
                        disk: Budget::new(0),
                        spill_threshold: u64::MAX,
                        spill_dir: dir,
                    })
                })
            })
            .clone()
    }

    /// The memory budget.
    pub fn memory(&self) -> &Arc<Budget> {
        &self.memory
    }

    /// The disk budget of spill files.
    pub fn disk(&self) -> &Arc<Budget> {
        &self.disk
    }

    /// Instances larger than this are spilled.
    pub fn spill_threshold(&self) -> u64 {
        self.spill_threshold
    }

    /// Where spill files are written.
    pub fn spill_dir(&self) -> &Path {
        &self.spill_dir
    }
}
