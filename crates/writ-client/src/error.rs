//! What a call can fail with. Never carries the token.

use writ_api::ErrorDetail;

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error (its code, message and details kept).
    #[error("{} ({status} {})", .error.message, .error.code)]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's error.
        error: ErrorDetail,
    },
    /// The server could not be reached, or the connection failed.
    #[error("cannot reach the server: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server's answer was not what the API documents.
    #[error("unexpected answer (HTTP {status}): {reason}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// What did not parse.
        reason: String,
    },
    /// The server URL is not usable.
    #[error("invalid server URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

impl ClientError {
    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Decode { status, .. } => Some(*status),
            ClientError::Transport(_) | ClientError::InvalidUrl { .. } => None,
        }
    }

    /// The server's error code (`not_found`, `conflict`, …), if it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}
