//! SCP errors: why the server would not start or why an association ended; stable codes, no
//! patient data.

/// Why the SCP could not start, or why one association was ended early.
#[derive(Debug, thiserror::Error)]
pub enum ScpError {
    /// A setting of [`ScpConfig`](super::ScpConfig) cannot work.
    #[error("invalid SCP configuration: {reason}")]
    Config { reason: &'static str },
    /// The peer sent nothing for longer than the read timeout.
    #[error("the peer sent nothing within the read timeout")]
    Timeout,
    /// The peer closed the connection without releasing or aborting the association.
    #[error("the peer closed the connection")]
    PeerClosed,
    /// Reading from or writing to the socket failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    /// A PDU announced more bytes than we accept.
    #[error("PDU of {length} bytes is larger than the limit of {limit}")]
    PduTooLarge { length: u32, limit: u32 },
    /// A PDU could not be decoded.
    #[error("malformed PDU: {0}")]
    MalformedPdu(String),
    /// A well-formed PDU that has no place at this point of the association.
    #[error("unexpected {0} PDU")]
    UnexpectedPdu(&'static str),
    /// The peer broke a rule of the upper layer or of DIMSE.
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    /// The peer aborted the association (A-ABORT).
    #[error("the peer aborted the association")]
    PeerAborted,
    /// The server is shutting down and the grace period is over.
    #[error("the server is shutting down")]
    Shutdown,
}

impl ScpError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ScpError::Config { .. } => "scp_config_invalid",
            ScpError::Timeout => "scp_timeout",
            ScpError::PeerClosed => "scp_peer_closed",
            ScpError::Io(_) => "scp_io",
            ScpError::PduTooLarge { .. } => "scp_pdu_too_large",
            ScpError::MalformedPdu(_) => "scp_malformed_pdu",
            ScpError::UnexpectedPdu(_) => "scp_unexpected_pdu",
            ScpError::Protocol(_) => "scp_protocol_violation",
            ScpError::PeerAborted => "scp_peer_aborted",
            ScpError::Shutdown => "scp_shutdown",
        }
    }

    pub(crate) fn config(reason: &'static str) -> Self {
        ScpError::Config { reason }
    }
}
