//! Whole objects written to the local folder durably: a temporary file beside the object,
//! flushed to disk, renamed into place, then the folder flushed, so a stored object survives a
//! crash or power loss and a half-written one never appears under its name.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use super::BlobError;

fn io(path: &Path, e: std::io::Error) -> BlobError {
    BlobError::Io(format!("{}: {e}", path.display()))
}

/// Writes `data` as the file `path`, durable when this returns.
pub fn write_durably(path: &Path, data: &[u8]) -> Result<(), BlobError> {
    let folder = path
        .parent()
        .ok_or_else(|| BlobError::Io(format!("{}: no folder", path.display())))?;
    fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| BlobError::Crypto(format!("random source: {e}")))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = folder.join(format!(
        ".{name}.{:016x}.partial",
        u64::from_le_bytes(suffix)
    ));
    let written = File::create(&partial)
        .and_then(|mut file| {
            file.write_all(data)?;
            file.sync_data()
        })
        .and_then(|()| fs::rename(&partial, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&partial);
        return Err(io(path, e));
    }
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io(folder, e))
}

/// Removes the temporary files of writes a crash interrupted in `folder` (none are under way
/// when a store opens); returns how many.
pub fn sweep_partials(folder: &Path) -> usize {
    let Ok(entries) = fs::read_dir(folder) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with('.') && name.ends_with(".partial")
        })
        .filter(|entry| fs::remove_file(entry.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_whole_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blobs").join("object-1");
        write_durably(&path, b"sealed bytes").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"sealed bytes");
        write_durably(&path, b"replaced").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"replaced");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["object-1"], "no partial file remains");
    }

    #[test]
    fn partial_files_left_by_a_crash_are_swept_and_objects_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("object-1"), b"kept").unwrap();
        fs::write(
            dir.path().join(".object-2.0123456789abcdef.partial"),
            b"half",
        )
        .unwrap();
        assert_eq!(sweep_partials(dir.path()), 1);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["object-1"]);
        assert_eq!(sweep_partials(&dir.path().join("missing")), 0);
    }

    #[test]
    fn a_failed_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder, so the rename fails after the partial file was written.
        let path = dir.path().join("taken");
        fs::create_dir_all(path.join("inside")).unwrap();
        assert!(write_durably(&path, b"bytes").is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["taken"]);
    }
}
