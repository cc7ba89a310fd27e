//! Authentication: password hashing, tokens, the second factor, sessions and their locks, rate
//! limits.

pub mod backoff;
pub mod password;
pub mod ratelimit;
pub mod second_factor;
pub mod session;
pub mod token;
