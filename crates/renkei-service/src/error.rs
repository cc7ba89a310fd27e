//! Service errors: a kind, a stable code and a message for people; internals are logged, never
//! returned. The HTTP layer maps a kind to a status in one place (`renkei-server`'s `error`),
//! the command line prints the code and message.

use renkei_core::DomainError;
use renkei_store::StoreError;
use renkei_store::blobs::BlobError;
use serde::Serialize;
use serde_json::Value;

/// What went wrong, in the caller's terms (the HTTP layer picks a status per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is malformed (400).
    BadRequest,
    /// No valid session, or the session ended (401).
    Unauthenticated,
    /// Signed in, but not allowed (403).
    Forbidden,
    /// Absent, or not visible to this caller (indistinguishable, 404).
    NotFound,
    /// The record changed meanwhile, or the value is taken (409).
    Conflict,
    /// It existed and is gone for good: expired, destroyed (410).
    Gone,
    /// Larger than allowed (413).
    TooLarge,
    /// None of the representations the client accepts can be given (406).
    NotAcceptable,
    /// A type of content this place does not take (415).
    UnsupportedType,
    /// Well-formed, but a rule refuses it (422).
    Invalid,
    /// The session or account is locked (423).
    Locked,
    /// Too many attempts; try again later (429).
    TooMany,
    /// A dependency did not answer; try again (503).
    Unavailable,
    /// A failure of ours, logged (500).
    Internal,
}

/// A refusal or failure of a service call.
#[derive(Debug)]
pub struct ServiceError {
    pub kind: Kind,
    pub code: &'static str,
    /// For people; never contains a secret or a patient identifier.
    pub message: String,
    /// On a version conflict: the record as it is now.
    pub current: Option<Value>,
    /// Seconds after which retrying may succeed.
    pub retry_after: Option<i64>,
    /// Wrong passwords left before sign-in is slowed down.
    pub attempts_left: Option<i64>,
}

/// What services return.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// An error of a kind, with a code and a message.
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        ServiceError {
            kind,
            code,
            message: message.into(),
            current: None,
            retry_after: None,
            attempts_left: None,
        }
    }

    /// The stable, machine-readable code, e.g. `session_locked`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// A malformed request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, code, message)
    }

    /// A rule refuses a well-formed request.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, code, message)
    }

    /// A record the caller may not see or that does not exist (indistinguishable).
    pub fn not_found(what: &'static str) -> Self {
        Self::new(Kind::NotFound, what, "not found")
    }

    /// Signed in, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, "forbidden", message)
    }

    /// No valid session.
    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthenticated, code, message)
    }

    /// A conflict carrying the record as it is now, so the editor can see both versions.
    pub fn version_conflict(current: impl Serialize) -> Self {
        let mut err = Self::new(
            Kind::Conflict,
            "version_conflict",
            "someone else changed this record since you loaded it; nothing was saved",
        );
        err.current = serde_json::to_value(current).ok();
        err
    }

    /// The same error with a time after which retrying may succeed.
    pub fn retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// A failure of ours; the cause is logged here and not returned.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            Kind::Internal,
            "internal_error",
            "the server failed; the failure was logged",
        )
    }

    /// A blob operation that failed for any cause but a missing object: the object store (S3)
    /// unreachable or refusing is 503 `storage_unavailable` (retry), stored bytes that do not
    /// open are ours (500); the cause is logged, never returned.
    pub fn from_blob(err: &BlobError) -> Self {
        match err {
            BlobError::Store(_) | BlobError::Io(_) => {
                tracing::error!(error = %err, "object store error");
                Self::new(
                    Kind::Unavailable,
                    "storage_unavailable",
                    "the object store did not answer; try again",
                )
                .retry_after(5)
            }
            other => Self::internal(other),
        }
    }

    /// Maps a store failure; `not_found` names what was missing.
    pub fn from_store(err: StoreError, not_found: &'static str) -> Self {
        match err {
            StoreError::NotFound => Self::not_found(not_found),
            StoreError::Duplicate(code) => {
                Self::new(Kind::Conflict, code, "that value is already taken")
            }
            StoreError::BadReference(code) => {
                Self::invalid(code, "a referenced record does not exist")
            }
            StoreError::Stale => Self::new(
                Kind::Conflict,
                "version_conflict",
                "someone else changed this record; reload it",
            ),
            e @ (StoreError::Database(_) | StoreError::Embedded(_)) => {
                tracing::error!(error = %e, "database error");
                Self::new(
                    Kind::Unavailable,
                    "database_unavailable",
                    "the database did not answer; try again",
                )
                .retry_after(5)
            }
            other => Self::internal(&other),
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

impl From<DomainError> for ServiceError {
    fn from(err: DomainError) -> Self {
        ServiceError::invalid(err.code(), err.to_string())
    }
}

/// Maps store results into service results, naming what a `NotFound` was.
pub trait OrService<T> {
    /// `NotFound` becomes [`Kind::NotFound`] with this code; other store errors map as in
    /// [`ServiceError::from_store`].
    fn or_service(self, not_found: &'static str) -> ServiceResult<T>;
}

impl<T> OrService<T> for Result<T, StoreError> {
    fn or_service(self, not_found: &'static str) -> ServiceResult<T> {
        self.map_err(|e| ServiceError::from_store(e, not_found))
    }
}
