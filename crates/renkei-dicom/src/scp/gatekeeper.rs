//! Who may associate: the server's decision on each calling AE title and peer address.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

/// Decides, for each A-ASSOCIATE-RQ whose called AE title is ours, whether the caller may send.
///
/// Called once per association, before anything is accepted; keep it fast (no network calls):
/// the association waits on it.
pub trait Gatekeeper: Send + Sync {
    /// Which callers may associate (AE title + peer IP); returns the caller's identity with an
    /// org/context token, or why not.
    fn admit(&self, calling_ae: &str, called_ae: &str, peer: IpAddr) -> Result<Caller, Rejection>;

    /// Re-reads who may associate. Called when a caller is not recognized, before it is asked
    /// again, so a peer added a moment ago (by another process) is admitted at once. Nothing
    /// by default.
    fn reload(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

/// An admitted caller, handed to the sink with every instance it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The calling AE title, as sent (trimmed).
    pub calling_ae: String,
    /// The peer's IP address.
    pub peer: IpAddr,
    /// What the server needs to file the instances: an organization or context token, opaque
    /// to the SCP.
    pub token: String,
}

/// Why a caller is refused; the SCP answers with the matching A-ASSOCIATE-RJ.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// This AE title from this address is not one we know: rejected permanently, "calling AE
    /// title not recognized". `reason` is logged, never sent.
    #[error("calling AE title not recognized: {reason}")]
    UnknownCaller { reason: String },
    /// Known, but not now (maintenance, quota): rejected transiently, "temporary congestion",
    /// so the SCU retries later. `reason` is logged, never sent.
    #[error("caller refused for now: {reason}")]
    Unavailable { reason: String },
}

impl Rejection {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnknownCaller { .. } => "scp_unknown_caller",
            Rejection::Unavailable { .. } => "scp_caller_unavailable",
        }
    }
}
