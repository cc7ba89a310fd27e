//! Authentication at the HTTP edge: the session extractors and their gates, gateway and SCIM tokens.
//! Hashing, tokens, the second factor, the per-address limit and sessions' rules live in
//! `renkei_service::auth`.

pub mod gateway_token;
pub mod scim_token;
pub mod session;

pub use renkei_service::auth::{address_limit, backoff, password, second_factor, sso, token};
