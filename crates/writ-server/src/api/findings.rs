//! `/findings`: what reconciliation found, accepting a gap for a while, and adopting live
//! access through a retroactive grant request.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use writ_api::{
    AcceptFindingBody, AdoptFindingBody, ErrorBody, FindingPage, FindingQuery, FindingView,
    SubmittedView,
};
use writ_domain::{FindingId, Timestamp, Ttl};

use super::{page, resolve, views};
use crate::AppState;
use crate::auth::{Reader, Writer};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// Findings in id order, filtered by system, status and kind.
#[utoipa::path(
    operation_id = "list_findings", get, path = "/findings", tag = "findings", params(FindingQuery),
    responses(
        (status = 200, body = FindingPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<FindingQuery>,
) -> Result<Json<FindingPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let store = &*state.store;
    let system = resolve::filter("system", query.system.as_deref(), |key| async move {
        resolve::system(store, &key).await
    })
    .await?;
    let parsed = writ_store::FindingQuery {
        system: system.map(|s| s.id),
        status: resolve::optional("status", query.status.as_deref())?,
        kind: resolve::optional("kind", query.kind.as_deref())?,
        after: resolve::optional("after", query.after.as_deref())?,
        limit: limit + 1,
    };
    let found = store.findings(parsed).await?;
    let (items, next) = page::cut(found, limit, |f| f.id.to_string());
    Ok(Json(FindingPage {
        items: items.iter().map(views::finding).collect(),
        next,
    }))
}

/// Accepts an open finding until a date, as the caller: an admin or the system's owner.
#[utoipa::path(
    operation_id = "accept_finding", post, path = "/findings/{id}/accept", tag = "findings",
    request_body = AcceptFindingBody,
    params(("id" = String, Path, description = "The finding's id")),
    responses(
        (status = 200, body = FindingView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<AcceptFindingBody>,
) -> Result<Json<FindingView>, ApiError> {
    let id = finding_id(&id)?;
    let until = Timestamp::parse_rfc3339(&body.until).map_err(|e| ApiError::invalid("until", e))?;
    let finding = state
        .requests
        .findings()
        .accept(id, caller.principal.id, &body.reason, until)
        .await?;
    Ok(Json(views::finding(&finding)))
}

/// Files a retroactive grant request by the caller for the live access a finding found:
/// approved, it is governed; denied, it is revoked.
#[utoipa::path(
    operation_id = "adopt_finding", post, path = "/findings/{id}/adopt", tag = "findings",
    request_body = AdoptFindingBody,
    params(("id" = String, Path, description = "The finding's id")),
    responses(
        (status = 201, body = SubmittedView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn adopt(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<AdoptFindingBody>,
) -> Result<(StatusCode, Json<SubmittedView>), ApiError> {
    let id = finding_id(&id)?;
    let ttl = body
        .ttl
        .as_deref()
        .map(Ttl::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("ttl", e))?;
    let submitted = state
        .requests
        .findings()
        .adopt(id, caller.principal.id, &body.justification, ttl)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SubmittedView {
            request: views::request(&submitted.request),
            explanation: views::explanation(&submitted.explanation),
        }),
    ))
}

fn finding_id(id: &str) -> Result<FindingId, ApiError> {
    id.parse().map_err(|e| ApiError::invalid("id", e))
}
