//! `GET /grants`: governed access, filtered.

use axum::Json;
use axum::extract::State;
use writ_api::{ErrorBody, GrantPage, GrantQuery};
use writ_domain::{GrantId, GrantStatus, Timestamp};
use writ_store::{GrantAfter, GrantFilter};

use super::{page, resolve, views};
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// The grants: newest first, or soonest ending first with `expiring_before`.
#[utoipa::path(
    operation_id = "list_grants", get, path = "/grants", tag = "grants", params(GrantQuery),
    responses(
        (status = 200, body = GrantPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<GrantQuery>,
) -> Result<Json<GrantPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let store = &*state.store;
    let identity = resolve::filter("identity", query.identity.as_deref(), |key| async move {
        resolve::identity(store, &key).await
    })
    .await?;
    let system = resolve::filter("system", query.system.as_deref(), |key| async move {
        resolve::system(store, &key).await
    })
    .await?;
    let expiring_before = query
        .expiring_before
        .as_deref()
        .map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(|e| ApiError::invalid("expiring_before", e))?;
    let after = query
        .after
        .as_deref()
        .map(|after| cursor(after, expiring_before.is_some()))
        .transpose()?;
    let filter = GrantFilter {
        status: resolve::optional::<GrantStatus>("status", query.status.as_deref())?,
        identity: identity.map(|i| i.id),
        system: system.map(|s| s.id),
        expiring_before,
        after,
    };
    let found = store.grants_page(filter, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |g| match (expiring_before, g.expires_at) {
        (Some(_), Some(end)) => format!("{}:{}", end.as_micros(), g.id),
        _ => g.id.to_string(),
    });
    Ok(Json(GrantPage {
        items: items.iter().map(views::grant).collect(),
        next,
    }))
}

/// The grant a page starts after: `GRANT_ID` newest first, or `END_MICROS:GRANT_ID` for grants
/// expiring before an instant (soonest first).
fn cursor(after: &str, by_expiry: bool) -> Result<GrantAfter, ApiError> {
    let invalid = |e: &dyn std::fmt::Display| ApiError::invalid("after", e);
    if by_expiry {
        let (end, id) = after
            .split_once(':')
            .ok_or_else(|| invalid(&"must be the `next` of the previous page"))?;
        let end: i64 = end.parse().map_err(|e| invalid(&e))?;
        let id: GrantId = id.parse().map_err(|e| invalid(&e))?;
        Ok(GrantAfter::Expiry(Timestamp::from_micros(end), id))
    } else {
        after.parse().map(GrantAfter::Id).map_err(|e| invalid(&e))
    }
}
