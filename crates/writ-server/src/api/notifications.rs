//! `GET /notifications`: the caller's own notifications, newest first.

use axum::Json;
use axum::extract::State;
use writ_api::{ErrorBody, NotificationPage, NotificationQuery, NotificationView};
use writ_domain::NotificationId;

use super::{page, resolve};
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// The caller's notifications, newest first.
#[utoipa::path(
    operation_id = "list_notifications", get, path = "/notifications", tag = "notifications",
    params(NotificationQuery),
    responses(
        (status = 200, body = NotificationPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let before = resolve::optional::<NotificationId>("after", query.after.as_deref())?;
    let found = state
        .store
        .notifications(caller.principal.id, before, limit + 1)
        .await?;
    let (items, next) = page::cut(found, limit, |n| n.id.to_string());
    Ok(Json(NotificationPage {
        items: items
            .iter()
            .map(|n| NotificationView {
                id: n.id.to_string(),
                topic: n.topic.as_str().to_string(),
                request: n.request_number.to_string(),
                summary: n.summary.clone(),
                created_at: n.created_at.to_string(),
            })
            .collect(),
        next,
    }))
}
