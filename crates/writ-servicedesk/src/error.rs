//! Why an inbound delivery was not accepted.

/// An inbound delivery refused before anything was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// The signature header is missing or does not match the body.
    #[error("missing or invalid signature")]
    BadSignature,
    /// The delivery is older (or further in the future) than the allowed skew.
    #[error("stale delivery: sent at {sent}, more than {max_skew_secs}s from now")]
    Stale {
        /// When the sender says it sent it.
        sent: writ_domain::Timestamp,
        /// The allowed skew.
        max_skew_secs: u64,
    },
    /// The body or a header is not what the desk sends.
    #[error("malformed delivery: {0}")]
    Malformed(String),
}

/// Refuses a delivery sent more than `max_skew` away from `now`.
pub fn check_fresh(
    sent: writ_domain::Timestamp,
    now: writ_domain::Timestamp,
    max_skew: std::time::Duration,
) -> Result<(), InboundError> {
    let apart = if sent > now {
        sent.since(now)
    } else {
        now.since(sent)
    };
    if apart > max_skew {
        return Err(InboundError::Stale {
            sent,
            max_skew_secs: max_skew.as_secs(),
        });
    }
    Ok(())
}
