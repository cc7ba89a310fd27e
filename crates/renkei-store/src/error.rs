//! Store errors: what the caller can act on, and the database failures it cannot.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// The record changed since the version the caller edited.
    #[error("the record was changed by someone else")]
    Stale,
    /// A unique value is already taken; the code says which (e.g. `login_taken`).
    #[error("{0}")]
    Duplicate(&'static str),
    /// A reference points to nothing (e.g. an unknown department).
    #[error("{0}")]
    BadReference(&'static str),
    /// Stored data could not be read back (a bug or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The configuration cannot work.
    #[error("{0}")]
    Config(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite database failed on a connection of the calling thread.
    #[error("database error: {0}")]
    Embedded(#[from] rusqlite::Error),
}

impl StoreError {
    /// Whether PostgreSQL failed the transaction to break a deadlock (SQLSTATE 40P01): running
    /// it again may succeed.
    pub fn is_deadlock(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db))
            if db.code().as_deref() == Some("40P01"))
    }

    /// Maps a unique violation to `Duplicate(code)` and a foreign-key violation to
    /// `BadReference(reference)`; passes other errors through.
    pub(crate) fn classify(
        err: sqlx::Error,
        duplicate: &'static str,
        reference: &'static str,
    ) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return StoreError::Duplicate(duplicate);
            }
            if db.is_foreign_key_violation() {
                return StoreError::BadReference(reference);
            }
        }
        StoreError::Database(err)
    }
}
