//! The one error shape every failed call answers with.

use utoipa::ToSchema;

/// `{ "error": { "code", "message", "details" } }`
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong: a stable code for programs, a sentence for people, and details (such as
/// the `field` a caller got wrong, or a policy's reasons).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code: `invalid_input`, `unauthenticated`, `forbidden`,
    /// `not_found`, `conflict`, `refused`, `too_large`, `internal`, …
    pub code: String,
    /// What went wrong, in plain words.
    pub message: String,
    /// Structured details; `{}` when there are none.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}
