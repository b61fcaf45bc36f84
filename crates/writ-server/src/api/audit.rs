//! `GET /audit`: the audit log, for administrators and auditors.

use axum::Json;
use axum::extract::State;
use writ_api::{AuditPage, AuditQuery, ErrorBody};

use super::{page, views};
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// The audit events, oldest first (administrators and auditors only).
#[utoipa::path(
    operation_id = "list_audit_events", get, path = "/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    super::evidence::auditors_only(&caller, "the audit log")?;
    let limit = page::limit(query.limit)?;
    let after = query
        .after
        .as_deref()
        .map(str::parse::<u64>)
        .transpose()
        .map_err(|e| ApiError::invalid("after", format!("must be an event's seq: {e}")))?
        .unwrap_or(0);
    let found = state.store.audit_page(after, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |e| e.seq.to_string());
    Ok(Json(AuditPage {
        items: items.iter().map(views::audit_event).collect(),
        next,
    }))
}
