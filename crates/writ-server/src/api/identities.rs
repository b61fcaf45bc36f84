//! `GET /identities`, `GET /identities/{identity}`: identities with owners and accounts.

use axum::Json;
use axum::extract::State;
use writ_api::{AccountView, ErrorBody, IdentityDetail, IdentityPage, IdentityQuery};
use writ_store::{GrantFilter, IdentityFilter};

use super::{page, resolve, views};
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};

/// The identities, by name.
#[utoipa::path(
    operation_id = "list_identities", get, path = "/identities", tag = "identities", params(IdentityQuery),
    responses(
        (status = 200, body = IdentityPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<IdentityQuery>,
) -> Result<Json<IdentityPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let store = &*state.store;
    let owner = resolve::filter("owner", query.owner.as_deref(), |key| async move {
        resolve::principal(store, &key).await
    })
    .await?;
    let filter = IdentityFilter {
        owner: owner.map(|p| p.id),
        after: query.after,
    };
    let found = store.identities_page(filter, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |i| i.name.to_string());
    Ok(Json(IdentityPage {
        items: items.iter().map(views::identity).collect(),
        next,
    }))
}

/// One identity (by id or name) with its owner, accounts and newest grants.
#[utoipa::path(
    operation_id = "show_identity", get, path = "/identities/{identity}", tag = "identities",
    params(("identity" = String, Path, description = "The identity's id or name")),
    responses(
        (status = 200, body = IdentityDetail),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiPath(key): ApiPath,
) -> Result<Json<IdentityDetail>, ApiError> {
    let store = &*state.store;
    let identity = resolve::identity(store, &key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("identity `{key}`")))?;
    let owner = store.principal(identity.owner).await?;
    let accounts = store.accounts_of(identity.id).await?;
    let grants = store
        .grants_page(
            GrantFilter {
                identity: Some(identity.id),
                ..GrantFilter::default()
            },
            100,
        )
        .await?;
    Ok(Json(IdentityDetail {
        identity: views::identity(&identity),
        owner: owner.as_ref().map(views::principal),
        accounts: accounts
            .iter()
            .map(|a| AccountView {
                system: a.system.name.to_string(),
                account: a.account.to_string(),
            })
            .collect(),
        grants: grants.iter().map(views::grant).collect(),
    }))
}
