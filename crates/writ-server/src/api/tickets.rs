//! `GET /tickets`: the service-desk tickets writ received, refused ones included, for
//! administrators and auditors (a ticket names people and access asked for).

use axum::Json;
use axum::extract::State;
use writ_api::{ErrorBody, TicketPage, TicketQuery};

use super::{page, resolve, views};
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// Received tickets in the order received, optionally by outcome (administrators and
/// auditors only).
#[utoipa::path(
    operation_id = "list_tickets", get, path = "/tickets", tag = "tickets", params(TicketQuery),
    responses(
        (status = 200, body = TicketPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<TicketQuery>,
) -> Result<Json<TicketPage>, ApiError> {
    super::evidence::auditors_only(&caller, "the list of service-desk tickets")?;
    let limit = page::limit(query.limit)?;
    let found = state
        .store
        .tickets_page(
            resolve::optional("outcome", query.outcome.as_deref())?,
            resolve::optional("after", query.after.as_deref())?,
            limit + 1,
        )
        .await?;
    let (items, next) = page::cut(found, limit, |t| t.id.to_string());
    Ok(Json(TicketPage {
        items: items.iter().map(views::ticket).collect(),
        next,
    }))
}
