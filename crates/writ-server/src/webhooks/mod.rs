//! Service-desk webhooks in: `POST /webhooks/jira` and `POST /webhooks/servicenow`. Each
//! delivery is verified (signature, then timestamp) before anything is stored; a bad one is
//! answered 401 and logged. A verified delivery is recorded by its sender's id, so a replay is
//! answered as such and changes nothing (as does a ticket sent again under a new id); its
//! ticket then goes to the intake, which makes it a
//! request or refuses it with the reason owed to the ticket.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use writ_core::intake::{Intake, Received};
use writ_servicedesk::jira::JiraSettings;
use writ_servicedesk::servicenow::ServiceNowSettings;
use writ_servicedesk::{Inbound, InboundError};

use crate::AppState;
use crate::error::ApiError;

/// One configured desk: its settings and whether its approvals count as writ decisions.
#[derive(Debug, Clone)]
pub struct Desk<S> {
    /// How to verify and map its deliveries.
    pub settings: S,
    /// Whether an approval recorded in the desk counts as the approver's writ decision
    /// (only where writ's policy lets them decide).
    pub count_approvals: bool,
}

/// The desks whose webhooks writ accepts; a desk not configured answers 404.
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    /// Jira.
    pub jira: Option<Arc<Desk<JiraSettings>>>,
    /// ServiceNow.
    pub servicenow: Option<Arc<Desk<ServiceNowSettings>>>,
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/jira", post(jira))
        .route("/webhooks/servicenow", post(servicenow))
}

#[tracing::instrument(skip_all, fields(desk = "jira"))]
async fn jira(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let desk = state
        .webhooks
        .jira
        .clone()
        .ok_or_else(|| ApiError::NotFound("no Jira integration is configured".into()))?;
    let inbound =
        writ_servicedesk::jira::accept(&desk.settings, header(&headers), &body, state.clock.now());
    receive(&state, &desk.settings.name, desk.count_approvals, inbound).await
}

#[tracing::instrument(skip_all, fields(desk = "servicenow"))]
async fn servicenow(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let desk = state
        .webhooks
        .servicenow
        .clone()
        .ok_or_else(|| ApiError::NotFound("no ServiceNow integration is configured".into()))?;
    let inbound = writ_servicedesk::servicenow::accept(
        &desk.settings,
        header(&headers),
        &body,
        state.clock.now(),
    );
    receive(&state, &desk.settings.name, desk.count_approvals, inbound).await
}

fn header(headers: &HeaderMap) -> impl Fn(&str) -> Option<String> + '_ {
    |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// Records a verified delivery and hands its ticket to the intake.
async fn receive(
    state: &AppState,
    source: &str,
    count_approvals: bool,
    inbound: Result<Inbound, InboundError>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let inbound = inbound.map_err(|err| {
        tracing::warn!(%source, error = %err, "webhook delivery refused");
        match err {
            InboundError::BadSignature | InboundError::Stale { .. } => {
                ApiError::Unverified(err.to_string())
            }
            InboundError::Malformed(message) => ApiError::InvalidInput {
                field: "body".into(),
                message,
            },
        }
    })?;
    let delivery = inbound.delivery_id.as_str();
    if !state
        .store
        .record_inbound(source, delivery, state.clock.now())
        .await
        .map_err(writ_core::CoreError::from)?
    {
        tracing::info!(%source, %delivery, "replayed delivery ignored");
        return Ok(Json(serde_json::json!({ "outcome": "replay" })));
    }
    let Some(ticket) = inbound.ticket else {
        return Ok(Json(serde_json::json!({ "outcome": "ignored" })));
    };
    // A desk that sends the same ticket again under a new delivery id (a business rule run
    // twice) still makes one request: the ticket's key is recorded like a delivery id.
    let ticket_key = format!("ticket:{}", ticket.reference.key);
    if !state
        .store
        .record_inbound(source, &ticket_key, state.clock.now())
        .await
        .map_err(writ_core::CoreError::from)?
    {
        tracing::info!(%source, %delivery, ticket = %ticket.reference.key, "ticket already received; ignored");
        return Ok(Json(serde_json::json!({ "outcome": "duplicate" })));
    }
    let intake = Intake::new(
        state.store.clone(),
        state.requests.clone(),
        state.clock.clone(),
    )
    .counting_desk_approvals(count_approvals);
    match intake.receive(ticket).await {
        Ok(Received::Submitted(submitted)) => Ok(Json(serde_json::json!({
            "outcome": "submitted",
            "request": submitted.request.number.to_string(),
            "status": submitted.request.status.as_str(),
        }))),
        Ok(Received::Refused(reason)) => Ok(Json(serde_json::json!({
            "outcome": "refused",
            "reason": reason,
        }))),
        Err(err) => {
            // Forgotten, so the desk's retry of this delivery is handled rather than ignored.
            for key in [delivery, ticket_key.as_str()] {
                if let Err(forget) = state.store.forget_inbound(source, key).await {
                    tracing::error!(error = %forget, "could not forget a failed delivery");
                }
            }
            Err(err.into())
        }
    }
}
