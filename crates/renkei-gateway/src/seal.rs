//! The gateway's own key and the sealing of what it keeps on disk (queued instances, the
//! cached configuration): XChaCha20-Poly1305, a fresh nonce per file, the file's name as
//! associated data so that files cannot be swapped.

use std::fs;
use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// What every sealed file starts with (format version 1).
const MAGIC: &[u8; 4] = b"RKG1";
const NONCE_LEN: usize = 24;

/// Why a sealed file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the file is not a sealed gateway file")]
    Format,
    #[error("the file was altered, belongs elsewhere, or was sealed under another key")]
    Authentication,
    #[error("the operating system's random source failed")]
    Random,
    #[error("the key file: {0}")]
    KeyFile(String),
}

/// The gateway's key (32 bytes), kept in a file only its owner may read.
#[derive(Clone)]
pub struct GatewayKey {
    cipher: XChaCha20Poly1305,
}

impl GatewayKey {
    /// The key in `path`, created (mode 0600) if it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<GatewayKey, SealError> {
        let key_error = |e: std::io::Error| SealError::KeyFile(format!("{}: {e}", path.display()));
        let key = match fs::read(path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| SealError::KeyFile(format!("{}: not 32 bytes", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|_| SealError::Random)?;
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(key_error)?;
                }
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(key_error)?;
                file.write_all(&key).map_err(key_error)?;
                file.sync_all().map_err(key_error)?;
                key
            }
            Err(e) => return Err(key_error(e)),
        };
        Ok(GatewayKey::from_bytes(&key))
    }

    /// A key from its bytes.
    pub fn from_bytes(key: &[u8; 32]) -> GatewayKey {
        GatewayKey {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// `plain` sealed under this key, bound to `label`.
    pub fn seal(&self, label: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| SealError::Authentication)?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain bytes of a file sealed under this key with `label`.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let rest = sealed.strip_prefix(MAGIC).ok_or(SealError::Format)?;
        if rest.len() < NONCE_LEN {
            return Err(SealError::Format);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| SealError::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_same_key_and_label() {
        let key = GatewayKey::from_bytes(&[1; 32]);
        let sealed = key.seal("a", b"PATIENT^NAME").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"PATIENT^NAME"));
        assert_eq!(key.open("a", &sealed).unwrap(), b"PATIENT^NAME");
        assert!(matches!(
            key.open("b", &sealed),
            Err(SealError::Authentication)
        ));
        let other = GatewayKey::from_bytes(&[2; 32]);
        assert!(matches!(
            other.open("a", &sealed),
            Err(SealError::Authentication)
        ));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(matches!(
            key.open("a", &altered),
            Err(SealError::Authentication)
        ));
        assert!(matches!(key.open("a", b"RKG1"), Err(SealError::Format)));
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/gateway.key");
        let sealed = GatewayKey::load_or_create(&path)
            .unwrap()
            .seal("x", b"1")
            .unwrap();
        let again = GatewayKey::load_or_create(&path).unwrap();
        assert_eq!(again.open("x", &sealed).unwrap(), b"1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
