//! Deliveries: what writ owes service-desk tickets and webhook endpoints, dead letters by
//! default, with the last error of each, and the tickets refused before they became a request,
//! with why; for administrators and auditors, who can resend a delivery with
//! `writ outbox redeliver`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use writ_domain::{OutboxState, TicketOutcome};

use super::audit::audit_readers_only;
use super::page::{Chrome, PortalError, render};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;

/// One delivery.
struct Row {
    id: String,
    state: String,
    destination: String,
    ticket: String,
    attempts: u32,
    created_at: String,
    last_error: String,
}

/// One refused ticket.
struct Refused {
    ticket: String,
    url: Option<String>,
    reporter: String,
    entitlement: String,
    identity: String,
    reason: String,
    received_at: String,
}

/// The filter; an empty state means any.
#[derive(Debug, Deserialize)]
pub(crate) struct Filters {
    #[serde(default = "dead")]
    state: String,
}

fn dead() -> String {
    "dead".into()
}

/// The deliveries page.
#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    chrome: Chrome,
    filters: Filters,
    states: Vec<String>,
    rows: Vec<Row>,
    refused: Vec<Refused>,
}

/// Up to 200 deliveries in the chosen state and 200 refused tickets, oldest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(filters): Query<Filters>,
) -> Result<Response, PortalError> {
    audit_readers_only(&session, "the list of deliveries")?;
    let wanted = Some(filters.state.as_str())
        .filter(|s| !s.is_empty())
        .map(str::parse::<OutboxState>)
        .transpose()
        .map_err(|e| ApiError::invalid("state", e))?;
    let rows = state
        .store
        .outbox_page(wanted, None, 200)
        .await?
        .into_iter()
        .map(|e| Row {
            id: e.id.to_string(),
            state: e.state.to_string(),
            destination: e.destination,
            ticket: e
                .ticket
                .map_or_else(|| "—".into(), |t| format!("{}:{}", t.system, t.key)),
            attempts: e.attempts,
            created_at: e.created_at.to_string(),
            last_error: e.last_error.unwrap_or_default(),
        })
        .collect();
    let refused = state
        .store
        .tickets_page(Some(TicketOutcome::Rejected), None, 200)
        .await?
        .into_iter()
        .map(|t| Refused {
            ticket: format!("{}:{}", t.reference.system, t.reference.key),
            url: t.reference.url,
            reporter: t.reporter,
            entitlement: t.fields.entitlement.unwrap_or_else(|| "—".into()),
            identity: t.fields.identity.unwrap_or_else(|| "—".into()),
            reason: t.reason.unwrap_or_default(),
            received_at: t.received_at.to_string(),
        })
        .collect();
    Ok(render(&DeliveriesPage {
        chrome: Chrome::of(&session, "deliveries"),
        filters,
        states: OutboxState::ALL.iter().map(ToString::to_string).collect(),
        rows,
        refused,
    }))
}
