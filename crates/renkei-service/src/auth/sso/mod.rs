//! Single sign-on with the hospital's OpenID Connect provider: settings with their sealed
//! secret, discovery, the authorization code flow (PKCE, nonce, state kept server-side) and
//! back-channel logout.

pub mod config;
pub mod flow;
pub mod logout;
pub mod provider;
pub mod secret;
mod token;
