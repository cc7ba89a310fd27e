//! Authentication's rules: password hashing, tokens, the second factor, passkeys' relying
//! party, sign-in back-off, the per-address limit, and sessions with their gates and their
//! coalesced activity.

pub mod address_limit;
pub mod backoff;
pub mod passkey;
pub mod password;
pub mod second_factor;
pub mod session;
pub mod sso;
pub mod token;
pub mod touches;
