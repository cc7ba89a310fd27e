//! Domain errors: a rule was broken; each carries a stable machine code.

/// Why a domain operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is not acceptable; `code` names the rule.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// A lifecycle change that the rules do not allow.
    #[error("cannot change status from {from} to {to}")]
    Transition {
        from: &'static str,
        to: &'static str,
    },
}

impl DomainError {
    /// A validation failure with a code and a human message.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid { code, .. } => code,
            DomainError::Transition { .. } => "invalid_status_transition",
        }
    }
}
