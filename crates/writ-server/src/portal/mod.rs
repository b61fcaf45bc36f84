//! The self-service portal under `/portal`: server-rendered HTML (askama), plain forms that
//! work without JavaScript, POST-redirect-GET, a CSRF token on every form. Sessions are
//! short-lived `write` API tokens kept in an `HttpOnly` cookie, so they are stored hashed and
//! every change is attributed to the signed-in principal exactly as through the API.

mod approvals;
mod audit;
mod campaigns;
mod catalog;
mod chart;
mod dashboard;
mod deliveries;
mod demo;
mod findings;
mod grants;
mod identities;
mod login;
mod names;
mod oidc;
mod page;
mod requests;
mod session;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub use demo::{DEMO_LINK_LIFETIME, DemoLogins};
pub use oidc::{Oidc, OidcSettings};

use crate::AppState;

/// How the portal is set up.
#[derive(Clone, Default)]
pub struct PortalConfig {
    /// Whether session cookies are `Secure` (writ is reached over TLS).
    pub secure_cookies: bool,
    /// One-time login links; only `writ demo` sets them.
    pub demo: Option<DemoLogins>,
    /// Login with OpenID Connect, when `[oidc]` is configured.
    pub oidc: Option<Oidc>,
}

/// The portal's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/portal") }),
        )
        .route("/portal", get(dashboard::show))
        .route("/portal/static/portal.css", get(stylesheet))
        .route("/portal/login", get(login::page))
        .route("/portal/login/demo", get(login::demo))
        .route("/portal/login/oidc", get(oidc::start))
        .route("/portal/login/callback", get(oidc::callback))
        .route("/portal/logout", post(login::logout))
        .route("/portal/catalog", get(catalog::search))
        .route("/portal/request", get(catalog::form))
        .route("/portal/request/check", post(catalog::check))
        .route(
            "/portal/requests",
            get(requests::mine).post(catalog::submit),
        )
        .route("/portal/requests/{number}", get(requests::show))
        .route("/portal/requests/{number}/decide", post(requests::decide))
        .route("/portal/requests/{number}/cancel", post(requests::cancel))
        .route(
            "/portal/requests/{number}/evidence",
            get(requests::evidence),
        )
        .route("/portal/approvals", get(approvals::inbox))
        .route("/portal/reviews", get(campaigns::reviews))
        .route("/portal/reviews/{item}/decide", post(campaigns::decide))
        .route("/portal/campaigns", get(campaigns::list))
        .route("/portal/campaigns/{id}", get(campaigns::show))
        .route("/portal/grants", get(grants::ending))
        .route("/portal/findings", get(findings::list))
        .route("/portal/identities", get(identities::list))
        .route("/portal/audit", get(audit::log))
        .route("/portal/deliveries", get(deliveries::list))
}

/// The one stylesheet.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../templates/portal.css"),
    )
}
