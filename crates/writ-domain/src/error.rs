//! Errors of the domain: values that fail to parse and transitions a lifecycle forbids.

/// A constrained value that could not be built from its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{value}`: {reason}")]
pub struct ParseError {
    /// What was being parsed, e.g. `ttl` or `identity kind`.
    pub what: &'static str,
    /// The offending input, as given.
    pub value: String,
    /// Why it was refused, in plain words.
    pub reason: String,
}

impl ParseError {
    /// Builds a parse error for `what` from the offending `value` and the `reason`.
    pub fn new(what: &'static str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// A lifecycle event that the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal {lifecycle} transition: `{event}` from `{from}`")]
pub struct IllegalTransition {
    /// Which lifecycle, e.g. `request` or `grant`.
    pub lifecycle: &'static str,
    /// The state the subject was in.
    pub from: &'static str,
    /// The event that was refused.
    pub event: &'static str,
}
