//! Errors of the use cases.

use writ_domain::audit::ChainFault;
use writ_domain::{IllegalTransition, ParseError};
use writ_policy::DecisionRecord;
use writ_store::StoreError;

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Something the caller named does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The caller's input does not make sense.
    #[error("{0}")]
    Invalid(String),
    /// Policy refused; every reason is in the record.
    #[error("refused: {}", .0.reasons.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; "))]
    Refused(DecisionRecord),
    /// The caller may not do this; the message says who may.
    #[error("{0}")]
    Forbidden(String),
    /// The request is past the point where it can be decided.
    #[error("{number} is {status}, not pending approval")]
    NotPending {
        /// `REQ-…`
        number: String,
        /// Its status.
        status: String,
    },
    /// A lifecycle rule was broken (a bug, or a race lost).
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
    /// The audit chain is broken; names the first bad event.
    #[error("audit chain broken: {0}")]
    ChainBroken(#[from] ChainFault),
    /// The log no longer matches a signed checkpoint, or a checkpoint does not verify;
    /// names the first problem.
    #[error("audit checkpoints: {0}")]
    CheckpointMismatch(String),
    /// A bug or a panicked task: reported, never shown to a caller in detail.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CoreError {
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        CoreError::NotFound { what: what.into() }
    }
}

impl From<ParseError> for CoreError {
    fn from(err: ParseError) -> Self {
        CoreError::Invalid(err.to_string())
    }
}
