//! Argon2id hashing of passwords and passcodes on a small fixed pool of threads, so a burst of
//! sign-ins neither starves the async threads nor leaves one 19 MiB arena per blocking thread.

use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::oneshot;

use crate::error::ApiError;

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

type Job = Box<dyn FnOnce(&Argon2<'static>) + Send>;

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

impl Hasher {
    /// A pool of `threads` hashing threads with these cost parameters.
    pub fn new(cost: Cost, threads: usize) -> Hasher {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let Ok(params) =
                        Params::new(cost.memory_kib, cost.iterations, cost.lanes, None)
                    else {
                        return;
                    };
                    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&argon2),
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
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |argon2| {
            let _ = reply.send(work(argon2));
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal(&"the password hashing threads stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal(&"a password hashing thread failed"))
    }

    /// The PHC string of `secret` with a fresh random salt.
    pub async fn hash(&self, secret: &str) -> Result<String, ApiError> {
        let secret = secret.to_owned();
        self.run(move |argon2| {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(|e| ApiError::internal(&e))?;
            let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(&e))?;
            argon2
                .hash_password(secret.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ApiError::internal(&e))
        })
        .await?
    }

    /// Whether `secret` matches the PHC string `phc` (whatever parameters it was made with).
    pub async fn verify(&self, secret: &str, phc: &str) -> Result<bool, ApiError> {
        let (secret, phc) = (secret.to_owned(), phc.to_owned());
        self.run(move |argon2| match PasswordHash::new(&phc) {
            Ok(parsed) => argon2.verify_password(secret.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        })
        .await
    }

    /// Spends the time of one verification without a stored hash, so an unknown login takes
    /// as long to refuse as a wrong password.
    pub async fn waste_verification(&self) {
        let _ = self.hash("timing equaliser").await;
    }
}
