//! `/api/v1`: one module per resource; each handler is annotated for the OpenAPI document,
//! which is assembled from those annotations with the routes themselves, so the two cannot
//! drift apart.

mod audit;
pub(crate) mod campaign_views;
pub(crate) mod campaigns;
mod catalog;
mod credentials;
pub(crate) mod evidence;
mod findings;
mod grants;
mod identities;
mod notifications;
mod page;
mod requests;
pub(crate) mod resolve;
mod tickets;
pub(crate) mod views;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use writ_api::ApiDoc;

use crate::AppState;
use crate::error::ApiError;

/// Where the API lives.
const PREFIX: &str = "/api/v1";

fn documented() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(catalog::systems))
        .routes(routes!(catalog::entitlements))
        .routes(routes!(identities::list))
        .routes(routes!(identities::show))
        .routes(routes!(requests::list, requests::create))
        .routes(routes!(requests::explain))
        .routes(routes!(requests::show))
        .routes(routes!(requests::approve))
        .routes(routes!(requests::deny))
        .routes(routes!(requests::cancel))
        .routes(routes!(grants::list))
        .routes(routes!(findings::list))
        .routes(routes!(findings::accept))
        .routes(routes!(findings::adopt))
        .routes(routes!(credentials::reveal))
        .routes(routes!(audit::list))
        .routes(routes!(evidence::bundle))
        .routes(routes!(evidence::checkpoints))
        .routes(routes!(notifications::list))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::show))
        .routes(routes!(campaigns::launch))
        .routes(routes!(campaigns::mine))
        .routes(routes!(campaigns::decide))
        .routes(routes!(campaigns::delegate))
        .routes(routes!(evidence::campaign))
        .routes(routes!(tickets::list));
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(PREFIX, v1)
}

/// The OpenAPI 3.1 document of the API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = documented().split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// The API's routes, its document, and JSON answers for unknown routes and methods.
pub(crate) fn router() -> Router<AppState> {
    let (routes, _) = documented().split_for_parts();
    let doc = Arc::new(openapi());
    let api = routes
        .route(
            &format!("{PREFIX}/openapi.json"),
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed });
    Router::new().merge(api).nest(
        PREFIX,
        Router::new().fallback(|| async { ApiError::NoRoute }),
    )
}
