//! Client secrets sealed for the database: a data key of their own wrapped by the master key,
//! both bound to the organization, so a row moved to another organization does not open.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use renkei_core::Uuid;
use renkei_store::blobs::{BlobStore, WrappedKey};

use crate::error::ServiceError;

fn label(org_id: Uuid) -> String {
    format!("sso-client-secret:{org_id}")
}

fn crypto_error(what: &str) -> ServiceError {
    ServiceError::internal(&format!("sso client secret: {what}"))
}

/// Seals `secret` for organization `org_id`: the wrapped data key and the sealed text.
pub fn seal(
    blobs: &BlobStore,
    org_id: Uuid,
    secret: &str,
) -> Result<(WrappedKey, String), ServiceError> {
    let mut key = [0u8; 32];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut key).map_err(|e| ServiceError::internal(&e))?;
    getrandom::fill(&mut nonce).map_err(|e| ServiceError::internal(&e))?;
    let wrapped = blobs
        .seal_secret(&key, &label(org_id))
        .map_err(|e| ServiceError::internal(&e))?;
    let aad = label(org_id);
    let sealed = XChaCha20Poly1305::new(&key.into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| crypto_error("could not seal"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok((wrapped, STANDARD.encode(out)))
}

/// Opens what [`seal`] sealed for `org_id`.
pub fn open(
    blobs: &BlobStore,
    org_id: Uuid,
    key: &WrappedKey,
    sealed: &str,
) -> Result<String, ServiceError> {
    let key = blobs
        .open_secret(key, &label(org_id))
        .map_err(|e| ServiceError::internal(&e))?;
    let bytes = STANDARD
        .decode(sealed)
        .map_err(|_| crypto_error("not base64"))?;
    if bytes.len() < 24 {
        return Err(crypto_error("too short"));
    }
    let aad = label(org_id);
    let plain = XChaCha20Poly1305::new(&key.into())
        .decrypt(
            XNonce::from_slice(&bytes[..24]),
            Payload {
                msg: &bytes[24..],
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| crypto_error("does not open"))?;
    String::from_utf8(plain).map_err(|_| crypto_error("not text"))
}
