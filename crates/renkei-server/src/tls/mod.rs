//! HTTPS served by renkei itself: the certificate (reloaded on SIGHUP), the TLS listener axum
//! serves on, and the plain-HTTP listener that only redirects to HTTPS.

mod certificate;
mod listener;
mod redirect;

pub use certificate::{Certificates, TlsError};
pub use listener::TlsListener;
pub use redirect::serve_redirect;
