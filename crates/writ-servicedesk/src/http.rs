//! What the write-back clients share: one HTTP client with a timeout, and which failures are
//! worth retrying.

use std::time::Duration;

use writ_core::outbox::DeskError;

/// An HTTP client that gives up on a desk after 15 seconds.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_default()
}

/// A desk's refusal: 408, 429 and 5xx may pass, anything else will not. The desk's answer is
/// kept short; it never holds writ's credentials.
pub async fn refusal(what: &str, response: reqwest::Response) -> DeskError {
    let status = response.status();
    let mut body = response.text().await.unwrap_or_default();
    body.truncate(300);
    let message = format!("{what} answered {status}: {body}");
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        DeskError::Transient(message)
    } else {
        DeskError::Permanent(message)
    }
}

/// A request that never got an answer (refused connection, timeout): worth retrying.
pub fn unreachable(what: &str, err: reqwest::Error) -> DeskError {
    // Without the URL: it may carry query parameters a desk treats as secrets.
    DeskError::Transient(format!("{what} unreachable: {}", err.without_url()))
}
