//! Domain types and rules of renkei: organizations, users, policies, audit chain. No I/O.

pub mod access;
pub mod audit;
pub mod clock;
pub mod error;
pub mod kana;
pub mod lock;
pub mod org;
pub mod patch;
pub mod user;
pub mod validate;

pub use error::DomainError;
pub use uuid::Uuid;

/// A new time-ordered identifier (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
