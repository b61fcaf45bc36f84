//! `/metrics`: governance figures for Prometheus. They are aggregate counts (no names, no
//! secrets), read from the store at each scrape.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use writ_core::metrics::GovernanceMetrics;

use crate::AppState;

/// The Prometheus text exposition format's content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The figures as Prometheus text; a store failure is a 503 whose cause is logged, not shown.
#[tracing::instrument(skip_all)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match GovernanceMetrics::new(state.store, state.clock)
        .read()
        .await
    {
        Ok(figures) => (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            figures.to_prometheus(),
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "metrics could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics are unavailable\n").into_response()
        }
    }
}
