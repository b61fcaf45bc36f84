//! Connector errors: whether retrying can help decides what the job runner does.

/// A failed connector call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Worth retrying: the target is unreachable, busy, or timed out.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying will not help: bad configuration, missing rights, an entitlement that does
    /// not exist on the target.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl ConnectorError {
    /// Whether the job runner should try again.
    pub fn is_transient(&self) -> bool {
        matches!(self, ConnectorError::Transient(_))
    }
}
