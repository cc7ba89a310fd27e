//! Direct writes (`O_DIRECT`) of objects into segments, past the page cache: the sealed pieces
//! are gathered into a block-aligned buffer reused by the thread, and the disk takes them from
//! there. Half the CPU of a buffered write and flush, with no page-cache pages to fill (on a
//! fresh virtual machine, never-used pages cost ten times more to fill) or to drop afterwards.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::IoSlice;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Direct I/O's alignment of memory, offsets and lengths (a file system block).
pub const ALIGN: usize = 4096;
/// The most buffer a thread keeps between writes (larger objects get one of their own).
const KEEP: usize = 1 << 20;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `path` open for direct writes, or None when its file system does not do direct I/O.
pub fn open(path: &Path) -> std::io::Result<Option<File>> {
    match OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `pieces`, one after the other, at the block-aligned `offset` of a file opened with
/// [`open`], zeros after them up to the next block boundary, and flushes them to disk.
pub fn write_at(file: &File, offset: u64, pieces: &[IoSlice<'_>]) -> std::io::Result<()> {
    let len: usize = pieces.iter().map(|piece| piece.len()).sum();
    let padded = len.div_ceil(ALIGN) * ALIGN;
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() < padded + ALIGN {
            buffer.resize(padded + ALIGN, 0);
        }
        let start = buffer.as_ptr().align_offset(ALIGN);
        let area = &mut buffer[start..start + padded];
        let mut at = 0;
        for piece in pieces {
            area[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
        area[len..].fill(0);
        let written = file
            .write_all_at(area, offset)
            .and_then(|()| file.sync_data());
        if buffer.len() > KEEP + ALIGN {
            *buffer = Vec::new();
        }
        written
    })
}
