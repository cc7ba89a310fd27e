//! Whole objects written to the local folder durably: a temporary file beside the object,
//! flushed to disk, renamed into place, then the folder flushed, so a stored object survives a
//! crash or power loss and a half-written one never appears under its name.

use std::fs::{self, File};
use std::io::{ErrorKind, IoSlice};
use std::path::Path;

use super::BlobError;

fn io(path: &Path, e: std::io::Error) -> BlobError {
    BlobError::Io(format!("{}: {e}", path.display()))
}

/// Writes all of `pieces`, one after the other, at `offset` (`pwritev`, again after a short
/// write).
pub fn write_all_vectored_at(
    file: &File,
    offset: u64,
    pieces: &[IoSlice<'_>],
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut owned: Vec<IoSlice<'_>> = pieces.iter().filter(|p| !p.is_empty()).copied().collect();
    let mut pieces = owned.as_mut_slice();
    let mut offset = offset;
    while !pieces.is_empty() {
        let count = pieces.len().min(1024);
        let at = libc::off_t::try_from(offset)
            .map_err(|_| std::io::Error::from(ErrorKind::InvalidInput))?;
        // SAFETY: `IoSlice` is ABI compatible with `iovec` on Unix; the first `count` slices
        // are valid for reads for the whole call, and the descriptor is borrowed from `file`.
        let written = unsafe {
            libc::pwritev(
                file.as_raw_fd(),
                pieces.as_ptr().cast::<libc::iovec>(),
                count as libc::c_int,
                at,
            )
        };
        match written {
            n if n > 0 => {
                offset += n as u64;
                IoSlice::advance_slices(&mut pieces, n as usize);
            }
            0 => return Err(std::io::Error::from(ErrorKind::WriteZero)),
            _ => {
                let error = std::io::Error::last_os_error();
                if error.kind() != ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    Ok(())
}

/// Flushes `len` bytes written at `offset` to disk, then drops them from the page cache: a
/// stored object is read rarely and later, so its pages go back to be reused at once for the
/// next write (on a fresh virtual machine, a page never used before costs about ten times more
/// to fill than a recycled one) instead of crowding out what is read often.
pub fn flush_and_release(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    file.sync_data()?;
    if let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) {
        // SAFETY: posix_fadvise only reads its integer arguments; the descriptor is borrowed
        // from `file` for the whole call. Advice: its failure changes nothing stored.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), offset, len, libc::POSIX_FADV_DONTNEED) };
    }
    Ok(())
}

/// Writes `pieces`, one after the other, as the file `path`, durable when this returns.
pub fn write_durably(path: &Path, pieces: &[IoSlice<'_>]) -> Result<(), BlobError> {
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
        .and_then(|file| {
            write_all_vectored_at(&file, 0, pieces)?;
            let len = pieces.iter().map(|piece| piece.len() as u64).sum();
            flush_and_release(&file, 0, len)
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
        write_durably(&path, &[IoSlice::new(b"sealed "), IoSlice::new(b"bytes")]).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"sealed bytes");
        write_durably(&path, &[IoSlice::new(b"replaced")]).unwrap();
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
        assert!(write_durably(&path, &[IoSlice::new(b"bytes")]).is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["taken"]);
    }
}
