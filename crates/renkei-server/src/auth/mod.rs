//! Authentication: password hashing, tokens, sessions and their locks, rate limits.

pub mod password;
pub mod ratelimit;
pub mod session;
pub mod token;
