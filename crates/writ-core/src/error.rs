//! Errors of the use cases.

use writ_domain::audit::ChainFault;
use writ_store::StoreError;

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The audit chain is broken; names the first bad event.
    #[error("audit chain broken: {0}")]
    ChainBroken(#[from] ChainFault),
    /// A bug or a panicked task: reported, never shown to a caller in detail.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
