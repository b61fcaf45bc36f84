//! The one mapping from every failure to an HTTP answer: an exhaustive `match`, so a new
//! error cannot reach a caller unmapped. 4xx bodies say what the caller got wrong (naming the
//! field where there is one); 5xx bodies are opaque and their cause is logged here, once.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use writ_api::{ErrorBody, ErrorDetail};
use writ_core::CoreError;
use writ_store::StoreError;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller's input is malformed; `field` names what (`body`, `limit`, `plan_hash`, …).
    #[error("invalid `{field}`: {message}")]
    InvalidInput {
        /// The field, query parameter or path segment at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No valid bearer token.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// A webhook delivery whose signature or timestamp does not check out; says which.
    #[error("{0}")]
    Unverified(String),
    /// Authenticated, but not allowed; says why.
    #[error("{0}")]
    Forbidden(String),
    /// What the caller named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The body is larger than the server takes (2 MiB).
    #[error("the body is too large")]
    TooLarge,
    /// No such route.
    #[error("no such route")]
    NoRoute,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A use case failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::Core(CoreError::Store(err))
    }
}

impl ApiError {
    /// A malformed `field`.
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ApiError::InvalidInput {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// The status, code, and details of this error; `None` details for a 5xx, whose body
    /// stays opaque.
    fn parts(&self) -> (StatusCode, &'static str, Value) {
        let none = || json!({});
        match self {
            ApiError::InvalidInput { field, .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_input",
                json!({ "field": field }),
            ),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", none()),
            ApiError::Unverified(_) => (StatusCode::UNAUTHORIZED, "unverified", none()),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", none()),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", none()),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", none()),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "no_route", none()),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", none())
            }
            ApiError::Core(err) => match err {
                CoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", none()),
                CoreError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", none()),
                CoreError::Refused(record) => (
                    StatusCode::FORBIDDEN,
                    "refused",
                    json!({ "reasons": record.reasons, "policy_ids": record.policy_ids }),
                ),
                CoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", none()),
                CoreError::NotPending { status, .. } => (
                    StatusCode::CONFLICT,
                    "not_pending",
                    json!({ "status": status }),
                ),
                CoreError::Transition(_) => (StatusCode::CONFLICT, "conflict", none()),
                CoreError::ChainBroken(_)
                | CoreError::CheckpointMismatch(_)
                | CoreError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
                CoreError::Store(store) => match store {
                    StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", none()),
                    StoreError::Conflict { .. } | StoreError::TicketTaken { .. } => {
                        (StatusCode::CONFLICT, "conflict", none())
                    }
                    StoreError::Unreachable { .. } => {
                        (StatusCode::SERVICE_UNAVAILABLE, "unavailable", none())
                    }
                    StoreError::InvalidUrl { .. }
                    | StoreError::NotADatabase { .. }
                    | StoreError::CannotOpen { .. }
                    | StoreError::SchemaTooNew { .. }
                    | StoreError::SchemaBehind { .. }
                    | StoreError::LeaseLost { .. }
                    | StoreError::Corrupt { .. }
                    | StoreError::Database(_) => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "internal", none())
                    }
                },
            },
        }
    }
}

impl ApiError {
    /// The status and the message a person may see: for a 5xx, an opaque message (the cause
    /// is logged here, once).
    pub(crate) fn public(&self) -> (StatusCode, String) {
        let (status, code, _) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %chain(self), %code, "request failed");
            (status, OPAQUE.to_string())
        } else {
            (status, self.to_string())
        }
    }
}

/// What a 5xx says.
const OPAQUE: &str = "the server could not answer; the cause is in its log";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, code, details) = self.parts();
        let (status, message) = self.public();
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message,
                details,
            },
        };
        (status, Json(body)).into_response()
    }
}

/// The error and its causes, in one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
