//! Argon2id hashing of passwords and passcodes, off the async threads.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;

/// Argon2id with fixed cost parameters (memory KiB, iterations, lanes).
#[derive(Debug, Clone, Copy)]
pub struct Hasher {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl Default for Hasher {
    /// OWASP's recommended Argon2id setting: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Hasher {
            memory_kib: 19 * 1024,
            iterations: 2,
            lanes: 1,
        }
    }
}

impl Hasher {
    fn argon2(&self) -> Result<Argon2<'static>, ApiError> {
        let params = Params::new(self.memory_kib, self.iterations, self.lanes, None)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// The PHC string of `secret` with a fresh random salt.
    pub async fn hash(&self, secret: &str) -> Result<String, ApiError> {
        let argon2 = self.argon2()?;
        let secret = secret.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(|e| ApiError::internal(&e))?;
            let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(&e))?;
            argon2
                .hash_password(secret.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ApiError::internal(&e))
        })
        .await
        .map_err(|e| ApiError::internal(&e))?
    }

    /// Whether `secret` matches the PHC string `phc` (whatever parameters it was made with).
    pub async fn verify(&self, secret: &str, phc: &str) -> Result<bool, ApiError> {
        let argon2 = self.argon2()?;
        let (secret, phc) = (secret.to_owned(), phc.to_owned());
        tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return false;
            };
            argon2.verify_password(secret.as_bytes(), &parsed).is_ok()
        })
        .await
        .map_err(|e| ApiError::internal(&e))
    }

    /// Spends the time of one verification without a stored hash, so an unknown login takes
    /// as long to refuse as a wrong password.
    pub async fn waste_verification(&self) {
        let _ = self.hash("timing equaliser").await;
    }
}
