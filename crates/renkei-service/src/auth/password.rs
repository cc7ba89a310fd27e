//! Argon2id hashing of passwords and passcodes on a small fixed pool of threads, so a burst of
//! sign-ins neither starves the async threads nor leaves one 19 MiB arena per blocking thread.

use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::ServiceError;

/// Argon2id cost parameters (memory KiB, iterations, lanes).
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl Default for Cost {
    /// OWASP's recommended Argon2id setting: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Cost {
            memory_kib: 19 * 1024,
            iterations: 2,
            lanes: 1,
        }
    }
}

/// One hashing thread's Argon2 instance and the memory it reuses for every hash, so hashing
/// allocates nothing per call and memory stays at `threads` × `memory_kib`.
struct Worker {
    argon2: Argon2<'static>,
    params: Params,
    blocks: Vec<Block>,
}

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// Hashes and verifies on `threads` dedicated threads (one per core by default).
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Default for Hasher {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Hasher::new(Cost::default(), threads)
    }
}

/// Length of the hashes made here, in bytes.
const HASH_LEN: usize = 32;

impl Worker {
    fn new(cost: Cost) -> Option<Worker> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, None).ok()?;
        Some(Worker {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            blocks: Vec::new(),
            params,
        })
    }

    /// The raw Argon2id output of `secret` with `salt`, into `out`, in the reused memory.
    /// The memory is allocated at the first hash, then kept.
    fn raw(&mut self, secret: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
        if self.blocks.is_empty() {
            self.blocks = vec![Block::default(); self.params.block_count()];
        }
        self.argon2
            .hash_password_into_with_memory(secret, salt, out, &mut self.blocks)
    }

    /// The PHC string of `secret` with a fresh random salt.
    fn hash(&mut self, secret: &[u8]) -> Result<String, ServiceError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| ServiceError::internal(&e))?;
        let salt_b64 = SaltString::encode_b64(&salt).map_err(|e| ServiceError::internal(&e))?;
        let mut out = [0u8; HASH_LEN];
        self.raw(secret, &salt, &mut out)
            .map_err(|e| ServiceError::internal(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| ServiceError::internal(&e))?,
            salt: Some(salt_b64.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| ServiceError::internal(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `secret` matches `phc`: in the reused memory when it was made with this
    /// worker's parameters, else by the library (older parameters).
    fn verify(&mut self, secret: &[u8], phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let ours = parsed.algorithm == Algorithm::Argon2id.ident()
            && parsed.version == Some(Version::V0x13.into())
            && Params::try_from(&parsed).is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    == (
                        self.params.m_cost(),
                        self.params.t_cost(),
                        self.params.p_cost(),
                    )
            });
        match (ours, parsed.salt, parsed.hash) {
            (true, Some(salt), Some(expected)) => {
                let mut salt_bytes = [0u8; 64];
                let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
                    return false;
                };
                let mut out = vec![0u8; expected.len()];
                self.raw(secret, salt, &mut out).is_ok()
                    && Output::new(&out).is_ok_and(|got| got == expected)
            }
            _ => self.argon2.verify_password(secret, &parsed).is_ok(),
        }
    }
}

impl Hasher {
    /// A pool of `threads` hashing threads with these cost parameters; each allocates its
    /// Argon2 memory once and reuses it.
    pub fn new(cost: Cost, threads: usize) -> Hasher {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let Some(mut worker) = Worker::new(cost) else {
                        return;
                    };
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut worker),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Hasher { jobs: tx }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Worker) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |worker| {
            let _ = reply.send(work(worker));
        });
        self.jobs
            .send(job)
            .map_err(|_| ServiceError::internal(&"the password hashing threads stopped"))?;
        answer
            .await
            .map_err(|_| ServiceError::internal(&"a password hashing thread failed"))
    }

    /// The PHC string of `secret` with a fresh random salt.
    pub async fn hash(&self, secret: &str) -> Result<String, ServiceError> {
        let secret = secret.to_owned();
        self.run(move |worker| worker.hash(secret.as_bytes()))
            .await?
    }

    /// Whether `secret` matches the PHC string `phc` (whatever parameters it was made with).
    pub async fn verify(&self, secret: &str, phc: &str) -> Result<bool, ServiceError> {
        let (secret, phc) = (secret.to_owned(), phc.to_owned());
        self.run(move |worker| worker.verify(secret.as_bytes(), &phc))
            .await
    }

    /// Spends the time of one verification without a stored hash, so an unknown login takes
    /// as long to refuse as a wrong password.
    pub async fn waste_verification(&self) {
        let _ = self.hash("timing equaliser").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    fn small() -> Cost {
        Cost {
            memory_kib: 64,
            iterations: 1,
            lanes: 1,
        }
    }

    #[tokio::test]
    async fn hashes_verify_in_reused_memory_and_with_the_library() {
        let hasher = Hasher::new(small(), 1);
        let phc = hasher.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse", &phc).await.unwrap());
        assert!(!hasher.verify("wrong horse", &phc).await.unwrap());
        // The library agrees with the reused-memory path, both ways.
        let parsed = PasswordHash::new(&phc).unwrap();
        let library = Argon2::default();
        assert!(library.verify_password(b"correct horse", &parsed).is_ok());
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = other
            .hash_password(b"pw 1234567", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify("pw 1234567", &theirs).await.unwrap());
        // Hashes made with other parameters still verify.
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap(),
        )
        .hash_password(b"pw 1234567", &salt)
        .unwrap()
        .to_string();
        assert!(hasher.verify("pw 1234567", &older).await.unwrap());
        assert!(!hasher.verify("pw 7654321", &older).await.unwrap());
    }
}
