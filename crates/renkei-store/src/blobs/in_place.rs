//! Sealing a whole object where its plaintext lies: each chunk is encrypted in the caller's
//! buffers (a chunk that spans two buffers is copied out first), its tag kept aside, so the
//! sealed object is written from those pieces without being copied into one buffer.

use std::io::IoSlice;
use std::ops::Range;

use super::BlobError;
use super::cipher::{CHUNK, ChunkCipher, TAG};
use super::keyring::DataKey;

/// Where one chunk's ciphertext lies.
enum Body {
    /// In a part, where its plaintext was.
    InPart { part: usize, range: Range<usize> },
    /// In a buffer of its own (its plaintext spanned parts).
    Copied(Vec<u8>),
}

/// An object sealed in place: its header, then each chunk's ciphertext and tag.
pub struct SealedInPlace {
    header: Vec<u8>,
    chunks: Vec<(Body, [u8; TAG])>,
}

impl SealedInPlace {
    /// Seals the bytes of `parts`, one after the other, as object `id` under `key`: the same
    /// bytes [`super::BlobStore::put`] would store. The parts are left holding ciphertext.
    pub fn seal(key: &DataKey, id: &str, parts: &mut [&mut [u8]]) -> Result<Self, BlobError> {
        let (cipher, header) = ChunkCipher::for_writing(key, id)?;
        let total: usize = parts.iter().map(|part| part.len()).sum();
        let count = total.div_ceil(CHUNK).max(1);
        let mut chunks = Vec::with_capacity(count);
        let (mut part, mut offset) = (0, 0);
        for index in 0..count {
            let len = CHUNK.min(total - index * CHUNK);
            // Skip what is used up (and empty parts) before deciding where the chunk lies.
            while part < parts.len() && offset == parts[part].len() {
                (part, offset) = (part + 1, 0);
            }
            let fits = parts.get(part).is_some_and(|p| p.len() - offset >= len);
            let mut body = if len > 0 && fits {
                let range = offset..offset + len;
                offset += len;
                Body::InPart { part, range }
            } else {
                let mut copied = Vec::with_capacity(len);
                while copied.len() < len {
                    let current = parts
                        .get(part)
                        .ok_or_else(|| BlobError::Io("the parts ended early".into()))?;
                    if offset == current.len() {
                        (part, offset) = (part + 1, 0);
                        continue;
                    }
                    let take = (len - copied.len()).min(current.len() - offset);
                    copied.extend_from_slice(&current[offset..offset + take]);
                    offset += take;
                }
                Body::Copied(copied)
            };
            let plain = match &mut body {
                Body::InPart { part, range } => &mut parts[*part][range.clone()],
                Body::Copied(copied) => copied.as_mut_slice(),
            };
            let index_u32 = u32::try_from(index).map_err(|_| BlobError::TooLarge(u64::MAX))?;
            let tag = cipher.seal_detached(index_u32, index + 1 == count, plain)?;
            chunks.push((body, tag));
        }
        Ok(SealedInPlace { header, chunks })
    }

    /// The sealed object's pieces in order, over the parts it was sealed in.
    pub fn slices<'a>(&'a self, parts: &'a [&mut [u8]]) -> Vec<IoSlice<'a>> {
        let mut slices = Vec::with_capacity(1 + 2 * self.chunks.len());
        slices.push(IoSlice::new(&self.header));
        for (body, tag) in &self.chunks {
            slices.push(IoSlice::new(match body {
                Body::InPart { part, range } => &parts[*part][range.clone()],
                Body::Copied(copied) => copied,
            }));
            slices.push(IoSlice::new(tag));
        }
        slices
    }
}
