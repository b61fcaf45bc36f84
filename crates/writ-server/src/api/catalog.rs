//! `GET /systems`, `GET /entitlements`: the catalog.

use axum::Json;
use axum::extract::State;
use writ_api::{EntitlementPage, EntitlementQuery, ErrorBody, SystemPage, SystemQuery};
use writ_domain::EntitlementId;
use writ_store::EntitlementFilter;

use super::{page, resolve, views};
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// The target systems, by name.
#[utoipa::path(
    operation_id = "list_systems", get, path = "/systems", tag = "catalog", params(SystemQuery),
    responses(
        (status = 200, body = SystemPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn systems(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<SystemQuery>,
) -> Result<Json<SystemPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let found = state.store.systems_page(query.after, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |s| s.name.to_string());
    Ok(Json(SystemPage {
        items: items.iter().map(views::system).collect(),
        next,
    }))
}

/// The entitlements, of one system or all.
#[utoipa::path(
    operation_id = "list_entitlements", get, path = "/entitlements", tag = "catalog", params(EntitlementQuery),
    responses(
        (status = 200, body = EntitlementPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn entitlements(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<EntitlementQuery>,
) -> Result<Json<EntitlementPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let store = &*state.store;
    let system = resolve::filter("system", query.system.as_deref(), |key| async move {
        resolve::system(store, &key).await
    })
    .await?;
    let after = resolve::optional::<EntitlementId>("after", query.after.as_deref())?;
    let filter = EntitlementFilter {
        system: system.map(|s| s.id),
        after,
    };
    let found = store.entitlements_page(filter, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |e| e.id.to_string());
    Ok(Json(EntitlementPage {
        items: items.iter().map(views::entitlement).collect(),
        next,
    }))
}
