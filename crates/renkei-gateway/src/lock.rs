//! One gateway per data folder: an exclusive lock on `<data_dir>/gateway.lock`, held while the
//! gateway runs and released by the operating system when it dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Takes the folder's lock, or says that another gateway holds it.
pub fn acquire(data_dir: &Path) -> Result<File, String> {
    let path = data_dir.join("gateway.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(format!(
            "another gateway is running with the data folder {}",
            data_dir.display()
        )),
        Err(TryLockError::Error(e)) => Err(format!("{}: {e}", path.display())),
    }
}

/// Whether a running gateway holds the folder's lock.
pub fn is_held(data_dir: &Path) -> bool {
    let Ok(file) = OpenOptions::new()
        .write(true)
        .open(data_dir.join("gateway.lock"))
    else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}
