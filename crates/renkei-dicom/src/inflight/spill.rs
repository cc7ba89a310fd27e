//! Sealed spill files: an instance's bytes on disk in chunks encrypted (AES-256-GCM, ring's, as
//! for stored objects) under a key that exists only in memory while the file does; removed when
//! dropped.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};

use super::budget::Charge;
use super::{InFlight, InFlightError};

/// Plaintext bytes per sealed chunk.
const CHUNK: usize = 256 * 1024;
/// The authentication tag after each chunk.
const TAG_LEN: usize = 16;
/// How spill files are named, so that leftovers of a crash can be found and removed.
const SUFFIX: &str = ".spill";

/// Creates `dir` readable only by its owner and removes spill files left in it.
pub(super) fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_name().to_string_lossy().ends_with(SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// One instance's bytes on disk, sealed; the last partial chunk waits in memory.
pub struct SpillFile {
    file: File,
    path: PathBuf,
    cipher: LessSafeKey,
    /// Chunks written.
    chunks: u64,
    /// Plaintext not yet a whole chunk.
    pending: Vec<u8>,
    /// Disk space charged for the chunks written.
    disk: Charge,
}

impl std::fmt::Debug for SpillFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpillFile")
            .field("path", &self.path)
            .field("len", &self.len())
            .finish()
    }
}

impl SpillFile {
    /// A new, empty spill file (mode 0600, never an existing file) under a fresh random key.
    pub fn create(inflight: &InFlight) -> Result<SpillFile, InFlightError> {
        let mut key = [0u8; 32];
        let mut name = [0u8; 16];
        getrandom::fill(&mut key).map_err(|_| std::io::Error::other("no randomness"))?;
        getrandom::fill(&mut name).map_err(|_| std::io::Error::other("no randomness"))?;
        let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
        let path = inflight.spill_dir().join(format!("{name}{SUFFIX}"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        Ok(SpillFile {
            file,
            path,
            cipher: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, &key)
                    .map_err(|_| std::io::Error::other("no AES-256-GCM key"))?,
            ),
            chunks: 0,
            pending: Vec::with_capacity(CHUNK),
            disk: inflight.disk().charge(),
        })
    }

    /// Plaintext bytes held.
    pub fn len(&self) -> u64 {
        self.chunks * CHUNK as u64 + self.pending.len() as u64
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `bytes`, sealing and writing every whole chunk.
    pub fn write(&mut self, mut bytes: &[u8]) -> Result<(), InFlightError> {
        while !bytes.is_empty() {
            let take = (CHUNK - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == CHUNK {
                self.seal_chunk()?;
            }
        }
        Ok(())
    }

    fn seal_chunk(&mut self) -> Result<(), InFlightError> {
        if !self.disk.grow((CHUNK + TAG_LEN) as u64) {
            return Err(InFlightError::DiskExhausted);
        }
        let tag = self
            .cipher
            .seal_in_place_separate_tag(nonce(self.chunks), Aad::empty(), &mut self.pending)
            .map_err(|_| std::io::Error::other("sealing failed"))?;
        let at = self.chunks * (CHUNK + TAG_LEN) as u64;
        self.file.write_all_at(&self.pending, at)?;
        self.file.write_all_at(tag.as_ref(), at + CHUNK as u64)?;
        self.pending.clear();
        self.chunks += 1;
        Ok(())
    }

    /// Appends the plaintext to `into` (each chunk opened where it is read); the file goes when
    /// `self` is dropped.
    pub fn read_into(&self, into: &mut Vec<u8>) -> Result<(), InFlightError> {
        into.reserve(self.len() as usize);
        for index in 0..self.chunks {
            let at = index * (CHUNK + TAG_LEN) as u64;
            let start = into.len();
            into.resize(start + CHUNK, 0);
            self.file.read_exact_at(&mut into[start..], at)?;
            let mut tag = [0u8; TAG_LEN];
            self.file.read_exact_at(&mut tag, at + CHUNK as u64)?;
            self.cipher
                .open_in_place_separate_tag(
                    nonce(index),
                    Aad::empty(),
                    Tag::from(tag),
                    &mut into[start..],
                    0..,
                )
                .map_err(|_| std::io::Error::other("a spill file was changed on disk"))?;
        }
        into.extend_from_slice(&self.pending);
        Ok(())
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(%error, "a spill file could not be removed");
        }
    }
}

/// The nonce of chunk `index`: keys are never reused across files, so a counter suffices.
fn nonce(index: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[..8].copy_from_slice(&index.to_le_bytes());
    Nonce::assume_unique_for_key(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inflight::InFlightLimits;

    #[test]
    fn bytes_round_trip_sealed_and_the_file_goes() {
        let dir = std::env::temp_dir().join(format!("spill-test-{}", std::process::id()));
        let inflight = InFlight::new(&InFlightLimits::default(), &dir).unwrap();
        let plain: Vec<u8> = (0..(CHUNK * 2 + 1000))
            .map(|i| (i % 7) as u8 + b'a')
            .collect();
        let mut spill = SpillFile::create(&inflight).unwrap();
        spill.write(&plain[..100]).unwrap();
        spill.write(&plain[100..]).unwrap();
        let on_disk = std::fs::read(&spill.path).unwrap();
        assert_eq!(on_disk.len(), 2 * (CHUNK + TAG_LEN));
        assert!(
            !on_disk
                .windows(64)
                .any(|w| plain.windows(64).take(7).any(|p| p == w)),
            "plaintext on disk"
        );
        assert_eq!(inflight.disk().used(), on_disk.len() as u64);
        let mut back = b"prefix".to_vec();
        spill.read_into(&mut back).unwrap();
        assert_eq!(&back[6..], &plain[..]);
        let path = spill.path.clone();
        drop(spill);
        assert!(!path.exists());
        assert_eq!(inflight.disk().used(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }
}
