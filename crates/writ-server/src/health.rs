//! Liveness, readiness and version: what load balancers and operators poll.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// Alive: the process answers. Never touches the database, so a slow database does not get
/// a healthy process restarted.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the database answers. A failure is a 503 with no internal detail; the cause is logged.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": {
                    "code": "not_ready",
                    "message": "the database is not answering",
                    "details": {}
                } })),
            )
        }
    }
}

/// The running version.
pub(crate) async fn version(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "name": "writ",
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.store.backend(),
    }))
}
