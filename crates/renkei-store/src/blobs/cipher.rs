//! Chunked authenticated encryption of one object (the STREAM construction): each 64 KiB
//! chunk is sealed with XChaCha20-Poly1305 under a nonce made of a per-object random prefix,
//! the chunk's index and a last-chunk flag, with the object id as associated data. Altered,
//! swapped, dropped or appended chunks, and a cut-off end, all fail to open.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::BlobError;
use super::keyring::DataKey;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Bytes the cipher adds to each chunk.
pub const TAG: usize = 16;
/// `RKB1` then the 19-byte nonce prefix.
pub const HEADER: usize = 4 + 19;
const MAGIC: &[u8; 4] = b"RKB1";

/// Seals or opens the chunks of one object.
pub struct ChunkCipher {
    cipher: XChaCha20Poly1305,
    prefix: [u8; 19],
    aad: Vec<u8>,
}

impl ChunkCipher {
    /// A cipher for a new object, with a fresh nonce prefix; returns it with the header to
    /// write before the first chunk.
    pub fn for_writing(key: &DataKey, object: &str) -> Result<(ChunkCipher, Vec<u8>), BlobError> {
        let mut prefix = [0u8; 19];
        getrandom::fill(&mut prefix)
            .map_err(|e| BlobError::Crypto(format!("random source: {e}")))?;
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&prefix);
        Ok((ChunkCipher::new(key, prefix, object), header))
    }

    /// A cipher for a stored object, from its header.
    pub fn for_reading(
        key: &DataKey,
        object: &str,
        header: &[u8],
    ) -> Result<ChunkCipher, BlobError> {
        if header.len() != HEADER || &header[..4] != MAGIC {
            return Err(BlobError::Corrupt("not an encrypted renkei object".into()));
        }
        let mut prefix = [0u8; 19];
        prefix.copy_from_slice(&header[4..]);
        Ok(ChunkCipher::new(key, prefix, object))
    }

    fn new(key: &DataKey, prefix: [u8; 19], object: &str) -> ChunkCipher {
        ChunkCipher {
            cipher: XChaCha20Poly1305::new(key.into()),
            prefix,
            aad: object.as_bytes().to_vec(),
        }
    }

    fn nonce(&self, index: u32, last: bool) -> XNonce {
        let mut nonce = [0u8; 24];
        nonce[..19].copy_from_slice(&self.prefix);
        nonce[19..23].copy_from_slice(&index.to_be_bytes());
        nonce[23] = u8::from(last);
        XNonce::from(nonce)
    }

    /// Seals chunk `index` (at most [`CHUNK`] bytes).
    pub fn seal(&self, index: u32, last: bool, plain: &[u8]) -> Result<Vec<u8>, BlobError> {
        self.cipher
            .encrypt(
                &self.nonce(index, last),
                Payload {
                    msg: plain,
                    aad: &self.aad,
                },
            )
            .map_err(|_| BlobError::Crypto("encryption failed".into()))
    }

    /// Seals chunk `index` where it lies: `chunk` holds the plaintext followed by [`TAG`]
    /// bytes of room for the tag.
    pub fn seal_in_place(&self, index: u32, last: bool, chunk: &mut [u8]) -> Result<(), BlobError> {
        let failed = || BlobError::Crypto("encryption failed".into());
        let plain_len = chunk.len().checked_sub(TAG).ok_or_else(failed)?;
        let (plain, room) = chunk.split_at_mut(plain_len);
        let tag = self
            .cipher
            .encrypt_in_place_detached(&self.nonce(index, last), &self.aad, plain)
            .map_err(|_| failed())?;
        room.copy_from_slice(&tag);
        Ok(())
    }

    /// Opens chunk `index`; fails if it was altered, moved, or is not where the stream ends.
    pub fn open(&self, index: u32, last: bool, sealed: &[u8]) -> Result<Vec<u8>, BlobError> {
        self.cipher
            .decrypt(
                &self.nonce(index, last),
                Payload {
                    msg: sealed,
                    aad: &self.aad,
                },
            )
            .map_err(|_| BlobError::Corrupt(format!("chunk {index} does not authenticate")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_open_only_in_place_and_with_the_right_end() {
        let key = [9u8; 32];
        let (w, header) = ChunkCipher::for_writing(&key, "media/a").unwrap();
        let r = ChunkCipher::for_reading(&key, "media/a", &header).unwrap();
        let c0 = w.seal(0, false, b"first").unwrap();
        let c1 = w.seal(1, true, b"last").unwrap();
        assert_eq!(r.open(0, false, &c0).unwrap(), b"first");
        assert_eq!(r.open(1, true, &c1).unwrap(), b"last");
        let mut in_place = b"last".to_vec();
        in_place.resize(4 + TAG, 0);
        w.seal_in_place(1, true, &mut in_place).unwrap();
        assert_eq!(in_place, c1, "sealing in place gives the same bytes");
        assert!(r.open(1, true, &c0).is_err(), "swapped");
        assert!(r.open(0, true, &c0).is_err(), "stream cut after chunk 0");
        let mut altered = c1.clone();
        altered[0] ^= 1;
        assert!(r.open(1, true, &altered).is_err(), "altered");
        let elsewhere = ChunkCipher::for_reading(&key, "media/b", &header).unwrap();
        assert!(
            elsewhere.open(0, false, &c0).is_err(),
            "another object's chunk"
        );
    }
}
