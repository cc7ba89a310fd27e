//! Authentication at the HTTP edge: the session extractors and their gates, gateway tokens, and
//! the per-address rate limit. Hashing, tokens, the second factor and sessions' rules live in
//! `renkei_service::auth`.

pub mod gateway_token;
pub mod ratelimit;
pub mod session;

pub use renkei_service::auth::{backoff, password, second_factor, token};
