//! Master keys: versioned 256-bit keys that wrap every object's own data key.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use super::BlobError;

/// A data key in the clear: 32 random bytes, one per object.
pub type DataKey = [u8; 32];

/// The master keys, by version; new data keys are wrapped with the newest.
pub struct KeyRing {
    keys: BTreeMap<u32, Key>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A wrapped data key as stored in the database: never usable without the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub version: u32,
    /// base64 of nonce (24 bytes) and sealed key (48 bytes).
    pub sealed: String,
}

fn random<const N: usize>() -> Result<[u8; N], BlobError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| BlobError::Crypto(format!("random source: {e}")))?;
    Ok(out)
}

impl KeyRing {
    /// A ring of explicit keys (version → key).
    pub fn from_keys(
        keys: impl IntoIterator<Item = (u32, [u8; 32])>,
    ) -> Result<KeyRing, BlobError> {
        let keys: BTreeMap<u32, Key> = keys.into_iter().map(|(v, k)| (v, Key::from(k))).collect();
        if keys.is_empty() {
            return Err(BlobError::Crypto("no master key".into()));
        }
        Ok(KeyRing { keys })
    }

    /// Loads `master-<version>.key` files (base64) from `dir`, creating version 1 with
    /// permissions 0600 when there is none.
    pub fn load_or_create(dir: &Path) -> Result<KeyRing, BlobError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BlobError::Io(format!("{}: {e}", dir.display())))?;
        let mut keys = Vec::new();
        let entries =
            std::fs::read_dir(dir).map_err(|e| BlobError::Io(format!("{}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = name
                .strip_prefix("master-")
                .and_then(|n| n.strip_suffix(".key"))
            else {
                continue;
            };
            let Ok(version) = version.parse::<u32>() else {
                continue;
            };
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| BlobError::Io(format!("{name}: {e}")))?;
            keys.push((version, parse_key(text.trim())?));
        }
        if keys.is_empty() {
            let key: [u8; 32] = random()?;
            write_private(&dir.join("master-1.key"), &STANDARD.encode(key))?;
            keys.push((1, key));
        }
        KeyRing::from_keys(keys)
    }

    /// The newest version.
    pub fn current_version(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(1)
    }

    /// A fresh random data key.
    pub fn new_data_key() -> Result<DataKey, BlobError> {
        random()
    }

    /// Seals a data key with the newest master key; `object` is authenticated with it, so a
    /// wrapped key moved to another object does not open.
    pub fn wrap(&self, key: &DataKey, object: &str) -> Result<WrappedKey, BlobError> {
        let version = self.current_version();
        let master = &self.keys[&version];
        let nonce: [u8; 24] = random()?;
        let sealed = XChaCha20Poly1305::new(master)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key,
                    aad: object.as_bytes(),
                },
            )
            .map_err(|_| BlobError::Crypto("could not wrap a data key".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(WrappedKey {
            version,
            sealed: STANDARD.encode(out),
        })
    }

    /// Opens a wrapped data key of `object`.
    pub fn unwrap(&self, wrapped: &WrappedKey, object: &str) -> Result<DataKey, BlobError> {
        let master = self.keys.get(&wrapped.version).ok_or_else(|| {
            BlobError::Crypto(format!("master key version {} is missing", wrapped.version))
        })?;
        let bytes = STANDARD
            .decode(&wrapped.sealed)
            .map_err(|_| BlobError::Crypto("wrapped key is not base64".into()))?;
        if bytes.len() != 24 + 48 {
            return Err(BlobError::Crypto("wrapped key has the wrong length".into()));
        }
        let key = XChaCha20Poly1305::new(master)
            .decrypt(
                XNonce::from_slice(&bytes[..24]),
                Payload {
                    msg: &bytes[24..],
                    aad: object.as_bytes(),
                },
            )
            .map_err(|_| {
                BlobError::Crypto("the wrapped key does not open with this master key".into())
            })?;
        key.try_into()
            .map_err(|_| BlobError::Crypto("unwrapped key has the wrong length".into()))
    }
}

/// Parses a base64 32-byte key.
pub fn parse_key(text: &str) -> Result<[u8; 32], BlobError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| BlobError::Crypto("a master key must be base64".into()))?;
    bytes
        .try_into()
        .map_err(|_| BlobError::Crypto("a master key must be 32 bytes".into()))
}

fn write_private(path: &Path, text: &str) -> Result<(), BlobError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| BlobError::Io(format!("{}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| BlobError::Io(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_keys_open_only_for_their_object_and_master() {
        let ring = KeyRing::from_keys([(1, [7u8; 32])]).unwrap();
        let key = KeyRing::new_data_key().unwrap();
        let wrapped = ring.wrap(&key, "media/a").unwrap();
        assert_eq!(ring.unwrap(&wrapped, "media/a").unwrap(), key);
        assert!(ring.unwrap(&wrapped, "media/b").is_err());
        let other = KeyRing::from_keys([(1, [8u8; 32])]).unwrap();
        assert!(other.unwrap(&wrapped, "media/a").is_err());
    }

    #[test]
    fn rotation_keeps_old_versions_readable() {
        let old = KeyRing::from_keys([(1, [1u8; 32])]).unwrap();
        let key = KeyRing::new_data_key().unwrap();
        let wrapped = old.wrap(&key, "x").unwrap();
        let rotated = KeyRing::from_keys([(1, [1u8; 32]), (2, [2u8; 32])]).unwrap();
        assert_eq!(rotated.current_version(), 2);
        assert_eq!(rotated.unwrap(&wrapped, "x").unwrap(), key);
        assert_eq!(rotated.wrap(&key, "x").unwrap().version, 2);
    }

    #[test]
    fn a_new_ring_writes_a_private_key_file_and_reloads_it() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::load_or_create(dir.path()).unwrap();
        let wrapped = ring.wrap(&[3u8; 32], "x").unwrap();
        let again = KeyRing::load_or_create(dir.path()).unwrap();
        assert_eq!(again.unwrap(&wrapped, "x").unwrap(), [3u8; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master-1.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
