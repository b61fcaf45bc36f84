//! writ's HTTP server (axum): liveness, readiness, version and metrics, and the API under
//! `/api/v1` with its OpenAPI document, and the server-rendered portal under `/portal`. The
//! only crate that names axum; handlers call use cases and never SQL or connectors.

mod api;
mod auth;
pub mod error;
mod extract;
mod health;
mod metrics;
mod portal;
mod webhooks;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use writ_core::Clock;
use writ_core::requests::Requests;
use writ_core::rotate::Reveal;
use writ_core::tokens::Tokens;
use writ_store::Store;

pub use api::openapi;
pub use portal::{DEMO_LINK_LIFETIME, DemoLogins, Oidc, OidcSettings, PortalConfig};
pub use webhooks::{Desk, Webhooks};

/// The OpenAPI document as pretty JSON, exactly as committed in `docs/openapi.json` (without
/// its final newline).
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&openapi()).unwrap_or_default()
}

/// What every handler can reach: the store (for reads) and the use cases (for changes).
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The time, injected so tests control it.
    pub clock: Arc<dyn Clock>,
    /// The request use cases.
    pub requests: Requests,
    /// Recertification campaigns.
    pub campaigns: writ_core::campaigns::Campaigns,
    /// The one-time reveal of rotated secrets.
    pub reveal: Reveal,
    /// API tokens: who is calling.
    pub tokens: Tokens,
    /// Evidence bundles (signing a checkpoint when none covers a request yet, if a key is
    /// configured).
    pub bundles: writ_core::evidence::Bundles,
    /// How the portal is set up (secure cookies, demo logins).
    pub portal: PortalConfig,
    /// The service desks whose webhooks are accepted.
    pub webhooks: Webhooks,
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/version", get(health::version))
        .route("/metrics", get(metrics::metrics))
        .merge(api::router())
        .merge(portal::router())
        .merge(webhooks::router())
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then drains open requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
