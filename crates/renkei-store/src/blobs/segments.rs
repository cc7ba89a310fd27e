//! Small sealed objects appended into segment files, so storing one costs a single `pwrite`
//! (direct, past the page cache, where the file system allows: [`super::direct`]) and
//! `fdatasync` (which also commits the file's new length) instead of creating, flushing and
//! renaming a file and flushing its folder.
//!
//! An object's place is part of its id (`stem@segment.offset.length`), reserved before its bytes
//! are sealed, so its record can be written while its bytes are. Places are 4 KiB aligned, so
//! deleting an object punches a hole that frees exactly its blocks; a segment that holds no
//! block any more is removed. Blocks are allocated as objects are written, never beforehand:
//! every byte the disk takes is an object's. A spare segment is created in the background; when
//! none is ready the caller stores a file instead. Segments in use are locked (shared), so
//! another process opening the same folder (the admin command line) never tidies them.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, IoSlice};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::local::{flush_and_release, write_all_vectored_at};
use super::{BlobError, direct};

/// Places start on this boundary (a file system block, as direct I/O needs).
const ALIGN: u64 = direct::ALIGN as u64;
/// The bytes of places a segment hands out before the next one takes over.
const SEGMENT: u64 = 64 << 20;
/// Sealed objects larger than this are stored as files.
pub const MAX_OBJECT: u64 = 8 << 20;
/// Zeros written per call where a file system cannot punch holes.
const ZEROS: usize = 1 << 20;

/// Where one object lives: its segment, offset and sealed length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub segment: u64,
    pub offset: u64,
    pub len: u64,
}

impl Place {
    /// The object id for `stem` stored here.
    pub fn id(&self, stem: &str) -> String {
        format!("{stem}@{}.{}.{}", self.segment, self.offset, self.len)
    }

    /// The place named by an object id, if it is a segment object's.
    pub fn of(id: &str) -> Option<Place> {
        let (_, place) = id.rsplit_once('@')?;
        let mut parts = place.split('.').map(str::parse::<u64>);
        let (Some(Ok(segment)), Some(Ok(offset)), Some(Ok(len)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Place {
            segment,
            offset,
            len,
        })
    }

    fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// A segment taking new objects (or ready to).
struct Open {
    number: u64,
    /// Held open for its shared lock, which keeps other processes from tidying it.
    _lock: File,
    size: u64,
    next: u64,
}

#[derive(Default)]
struct State {
    active: Option<Open>,
    spare: Option<Open>,
    preparing: bool,
    next_number: u64,
}

/// The segment files of one local store.
pub struct Segments {
    dir: PathBuf,
    state: Mutex<State>,
    /// Objects are written with direct I/O (until the file system refuses it).
    direct: AtomicBool,
}

fn io(path: &Path, e: std::io::Error) -> BlobError {
    BlobError::Io(format!("{}: {e}", path.display()))
}

fn aligned(len: u64) -> u64 {
    len.div_ceil(ALIGN) * ALIGN
}

impl Segments {
    /// The segments in `dir` (created if missing). The last two segments, which a previous run
    /// may have left unused, go if they hold nothing.
    pub fn open(dir: &Path) -> Result<Arc<Segments>, BlobError> {
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut numbers: Vec<u64> = fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                entry
                    .file_name()
                    .to_str()?
                    .strip_suffix(".seg")?
                    .parse()
                    .ok()
            })
            .collect();
        numbers.sort_unstable();
        let segments = Segments {
            dir: dir.to_path_buf(),
            direct: AtomicBool::new(true),
            state: Mutex::new(State {
                next_number: numbers.last().map_or(1, |n| n + 1),
                ..State::default()
            }),
        };
        for &number in numbers.iter().rev().take(2) {
            if let Err(error) = segments.tidy(number) {
                tracing::warn!(%error, segment = number, "could not tidy a segment");
            }
        }
        Ok(Arc::new(segments))
    }

    fn path(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number:010}.seg"))
    }

    /// Reserves a place for `len` sealed bytes, or None when the object is too large or no
    /// segment has room yet (one is then created in the background).
    pub fn reserve(self: &Arc<Self>, len: u64) -> Option<Place> {
        if len > MAX_OBJECT {
            return None;
        }
        let mut state = self.state.lock().ok()?;
        loop {
            if let Some(active) = &mut state.active
                && active.next + len <= active.size
            {
                let place = Place {
                    segment: active.number,
                    offset: active.next,
                    len,
                };
                active.next += aligned(len);
                return Some(place);
            }
            match state.spare.take() {
                Some(spare) if len <= spare.size => {
                    state.active = Some(spare);
                    self.prepare_spare(&mut state);
                }
                // Larger than the spare: this one goes to a file, the segments stay.
                Some(spare) => {
                    state.spare = Some(spare);
                    return None;
                }
                None => {
                    self.prepare_spare(&mut state);
                    return None;
                }
            }
        }
    }

    /// Starts creating the next spare segment unless one is ready or under way.
    fn prepare_spare(self: &Arc<Self>, state: &mut State) {
        if state.spare.is_some() || state.preparing {
            return;
        }
        state.preparing = true;
        let number = state.next_number;
        state.next_number += 1;
        let size = SEGMENT;
        let segments = self.clone();
        std::thread::spawn(move || {
            let prepared = segments.create(number);
            let Ok(mut state) = segments.state.lock() else {
                return;
            };
            state.preparing = false;
            match prepared {
                Ok(file) => {
                    state.spare = Some(Open {
                        number,
                        _lock: file,
                        size,
                        next: 0,
                    })
                }
                Err(error) => {
                    tracing::warn!(%error, "could not create a segment; objects go to files");
                    let _ = fs::remove_file(segments.path(number));
                }
            }
        });
    }

    /// Creates segment `number`, empty, durable with its folder entry, locked shared.
    fn create(&self, number: u64) -> Result<File, BlobError> {
        fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let path = self.path(number);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        file.lock_shared().map_err(|e| io(&path, e))?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io(&self.dir, e))?;
        Ok(file)
    }

    /// Writes the sealed bytes of the object at `place`, given as pieces one after the other,
    /// and flushes them (and the segment's length) to disk.
    pub fn write(&self, place: Place, sealed: &[IoSlice<'_>]) -> Result<(), BlobError> {
        let len: usize = sealed.iter().map(|piece| piece.len()).sum();
        if len as u64 != place.len {
            return Err(BlobError::Io("sealed length differs from its place".into()));
        }
        let path = self.path(place.segment);
        if self.direct.load(Ordering::Relaxed) {
            match self.write_direct(&path, place, sealed) {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    tracing::info!(
                        "segments: no direct I/O on this file system; writes are buffered"
                    );
                    self.direct.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(io(&path, e)),
            }
        }
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(lock_shared)
            .map_err(|e| io(&path, e))?;
        write_all_vectored_at(&file, place.offset, sealed)
            .and_then(|()| flush_and_release(&file, place.offset, place.len))
            .map_err(|e| io(&path, e))
    }

    /// Writes the object with direct I/O; Ok(false) when the file system refuses it (nothing
    /// was written then).
    fn write_direct(
        &self,
        path: &Path,
        place: Place,
        sealed: &[IoSlice<'_>],
    ) -> std::io::Result<bool> {
        let Some(file) = direct::open(path)? else {
            return Ok(false);
        };
        let file = lock_shared(file)?;
        match direct::write_at(&file, place.offset, sealed) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(false),
            written => written.map(|()| true),
        }
    }

    /// The sealed bytes at `place`.
    pub fn read(&self, place: Place) -> Result<Vec<u8>, BlobError> {
        let path = self.path(place.segment);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(e) => return Err(io(&path, e)),
        };
        let mut bytes = vec![0u8; place.len as usize];
        match file.read_exact_at(&mut bytes, place.offset) {
            Ok(()) => Ok(bytes),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(BlobError::NotFound),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Frees the blocks of the object at `place`; the segment goes once it holds none and is
    /// no longer in use.
    pub fn remove(&self, place: Place) -> Result<(), BlobError> {
        let path = self.path(place.segment);
        let file = match OpenOptions::new().write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(&path, e)),
        };
        punch(&file, place.offset, aligned(place.end()) - place.offset)
            .and_then(|()| file.sync_data())
            .map_err(|e| io(&path, e))?;
        let empty = file.metadata().map(|m| m.blocks() == 0).unwrap_or(false);
        if empty && !self.in_use_here(place.segment) && file.try_lock().is_ok() {
            fs::remove_file(&path).map_err(|e| io(&path, e))?;
        }
        Ok(())
    }

    fn in_use_here(&self, number: u64) -> bool {
        let Ok(state) = self.state.lock() else {
            return true;
        };
        [&state.active, &state.spare]
            .into_iter()
            .flatten()
            .any(|open| open.number == number)
    }

    /// Removes a segment that holds nothing; skipped while another process uses it.
    fn tidy(&self, number: u64) -> Result<(), BlobError> {
        let path = self.path(number);
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let empty = file.metadata().map_err(|e| io(&path, e))?.blocks() == 0;
        if empty && file.try_lock().is_ok() {
            fs::remove_file(&path).map_err(|e| io(&path, e))?;
        }
        Ok(())
    }
}

/// The file, locked shared (against tidying by another process) while it is written.
fn lock_shared(file: File) -> std::io::Result<File> {
    file.lock_shared()?;
    Ok(file)
}

/// Deallocates `len` bytes at `offset` (they read as zeros afterwards), keeping the size.
fn punch(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Err(std::io::Error::from(ErrorKind::InvalidInput));
    };
    // SAFETY: fallocate only reads its integer arguments; the descriptor is open for writing
    // for the whole call (borrowed from `file`).
    let done = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset,
            len,
        )
    };
    if done == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() != Some(libc::EOPNOTSUPP) {
        return Err(error);
    }
    // A file system without holes: overwrite with zeros instead.
    write_zeros_at(file, offset as u64, len as u64)
}

/// Writes `len` zeros at `offset`.
fn write_zeros_at(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    let zeros = vec![0u8; ZEROS];
    let (mut at, end) = (offset, offset + len);
    while at < end {
        let take = (end - at).min(ZEROS as u64) as usize;
        file.write_all_at(&zeros[..take], at)?;
        at += take as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(segments: &Arc<Segments>, len: u64) -> Place {
        for _ in 0..500 {
            if let Some(place) = segments.reserve(len) {
                return place;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no segment was created");
    }

    #[test]
    fn ids_name_their_place_and_nothing_else_parses() {
        let place = Place {
            segment: 3,
            offset: 8192,
            len: 530_000,
        };
        assert_eq!(Place::of(&place.id("dicom-1b2c")), Some(place));
        for id in ["dicom-1b2c", "a@1.2", "a@1.2.3.4", "a@x.2.3", "media-9"] {
            assert_eq!(Place::of(id), None, "{id}");
        }
    }

    #[test]
    fn objects_round_trip_aligned_and_deleted_blocks_are_freed() {
        let dir = tempfile::tempdir().unwrap();
        let segments = Segments::open(dir.path()).unwrap();
        let first = ready(&segments, 5000);
        let second = segments.reserve(100).expect("room in the active segment");
        assert_eq!(first.offset, 0);
        assert_eq!(second.offset, 8192, "places are block aligned");
        assert_eq!(second.segment, first.segment);
        // Written from pieces, one of them empty.
        let pieces = [[7u8; 3000].as_slice(), &[], &[7u8; 2000]].map(IoSlice::new);
        segments.write(first, &pieces).unwrap();
        segments
            .write(second, &[IoSlice::new(&[9u8; 100])])
            .unwrap();
        assert_eq!(segments.read(first).unwrap(), vec![7u8; 5000]);
        assert_eq!(segments.read(second).unwrap(), vec![9u8; 100]);
        assert!(
            segments.write(second, &[IoSlice::new(&[1u8; 99])]).is_err(),
            "length checked"
        );
        let path = segments.path(first.segment);
        let blocks = || fs::metadata(&path).unwrap().blocks();
        let before = blocks();
        segments.remove(first).unwrap();
        assert_eq!(segments.read(first).unwrap(), vec![0u8; 5000], "punched");
        assert!(blocks() < before, "the object's blocks were freed");
        assert!(path.exists(), "the active segment stays");
    }

    #[test]
    fn a_new_run_removes_empty_segments_and_only_written_blocks_are_allocated() {
        let dir = tempfile::tempdir().unwrap();
        let (used, path) = {
            let segments = Segments::open(dir.path()).unwrap();
            let place = ready(&segments, 100);
            segments.write(place, &[IoSlice::new(&[3u8; 100])]).unwrap();
            // Wait for the spare created behind the first segment.
            for _ in 0..500 {
                if segments.state.lock().unwrap().spare.is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            (place, segments.path(place.segment))
        };
        let mut names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 2, "the used segment and a spare");
        let segments = Segments::open(dir.path()).unwrap();
        names = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "the unused spare is gone");
        assert_eq!(segments.read(used).unwrap(), vec![3u8; 100]);
        assert!(
            fs::metadata(&path).unwrap().blocks() <= ALIGN / 512 * 2,
            "only the used block stays allocated"
        );
        segments.remove(used).unwrap();
        assert!(!path.exists(), "a segment holding nothing goes");
        let next = ready(&segments, 10);
        assert!(next.segment > used.segment, "numbers are never reused");
    }

    #[test]
    fn objects_written_direct_or_buffered_read_back_whole_beside_their_neighbours() {
        for direct in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let segments = Segments::open(dir.path()).unwrap();
            // false: as on a file system without direct I/O.
            segments.direct.store(direct, Ordering::Relaxed);
            let mut written = Vec::new();
            // Odd sizes, on and off block boundaries, one over the buffer a thread keeps.
            for len in [1usize, 4095, 4096, 4097, 530_001, (2 << 20) + 3] {
                let place = ready(&segments, len as u64);
                let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8 + 1).collect();
                let (head, tail) = bytes.split_at(len / 3);
                segments
                    .write(place, &[IoSlice::new(head), IoSlice::new(tail)])
                    .unwrap();
                written.push((place, bytes));
            }
            for (place, bytes) in &written {
                assert_eq!(&segments.read(*place).unwrap(), bytes, "direct: {direct}");
            }
        }
    }

    #[test]
    fn objects_too_large_for_segments_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let segments = Segments::open(dir.path()).unwrap();
        assert_eq!(segments.reserve(MAX_OBJECT + 1), None);
    }
}
