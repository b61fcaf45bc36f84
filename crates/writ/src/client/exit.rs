//! Exit codes scripts can trust. Documented in the README; never renumbered.

use writ_client::ClientError;

/// Ran and failed for a reason not listed below.
pub const FAILURE: u8 = 1;
/// The command line, or the input sent to the server, is wrong (clap also exits 2).
pub const USAGE: u8 = 2;
/// The audit log or an evidence bundle does not verify (`writ audit verify`, `writ evidence verify`).
pub const UNVERIFIED: u8 = 3;
/// No valid token (401), or not allowed (403, including a policy refusal).
pub const AUTH: u8 = 4;
/// What was named does not exist (404).
pub const NOT_FOUND: u8 = 5;
/// The thing changed meanwhile or is past the point where this applies (409).
pub const CONFLICT: u8 = 6;
/// The server failed or could not be reached (5xx, connection errors).
pub const SERVER: u8 = 7;

/// A mistake on the command line found after parsing (a missing `WRIT_TOKEN`, say).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit code for a failed command.
pub fn code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<crate::commands::Unverified>().is_some() {
        return UNVERIFIED;
    }
    if err.downcast_ref::<Usage>().is_some() {
        return USAGE;
    }
    match err.downcast_ref::<ClientError>() {
        Some(client) => for_client(client),
        None => FAILURE,
    }
}

fn for_client(err: &ClientError) -> u8 {
    match err {
        ClientError::Api { status, .. } => match status {
            400 | 413 | 422 => USAGE,
            401 | 403 => AUTH,
            404 => NOT_FOUND,
            409 => CONFLICT,
            500..=599 => SERVER,
            _ => FAILURE,
        },
        ClientError::Transport(_) => SERVER,
        ClientError::Decode { status, .. } if *status >= 500 => SERVER,
        ClientError::Decode { .. } => FAILURE,
        ClientError::InvalidUrl { .. } => USAGE,
    }
}
