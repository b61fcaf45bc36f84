//! Service-desk webhooks in: `POST /webhooks/jira`, `POST /webhooks/servicenow` and the
//! generic JSON form, `POST /webhooks/generic`. Each
//! delivery is verified (signature, then timestamp) before anything is stored; a bad one is
//! answered 401 and logged. A delivery whose sender's id was handled before is a replay,
//! answered as such, and changes nothing. Otherwise its ticket goes to the intake, which makes
//! it a request, refuses it with the reason owed to the ticket, or takes it as an update of a
//! ticket it knows; the delivery id is recorded only then, so a crash in between leaves the
//! desk's retry to be handled, and the ticket's record makes that retry an update.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use writ_core::intake::{Intake, Received};
use writ_servicedesk::generic::GenericSettings;
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
    /// A desk speaking the generic JSON form.
    pub generic: Option<Arc<Desk<GenericSettings>>>,
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/jira", post(jira))
        .route("/webhooks/servicenow", post(servicenow))
        .route("/webhooks/generic", post(generic))
}

#[tracing::instrument(skip_all, fields(desk = "jira"))]
async fn jira(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let desk = configured(&state.webhooks.jira, "no Jira integration is configured")?;
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
    let desk = configured(
        &state.webhooks.servicenow,
        "no ServiceNow integration is configured",
    )?;
    let inbound = writ_servicedesk::servicenow::accept(
        &desk.settings,
        header(&headers),
        &body,
        state.clock.now(),
    );
    receive(&state, &desk.settings.name, desk.count_approvals, inbound).await
}

#[tracing::instrument(skip_all, fields(desk = "generic"))]
async fn generic(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let desk = configured(&state.webhooks.generic, "no generic desk is configured")?;
    let inbound = writ_servicedesk::generic::accept(
        &desk.settings,
        header(&headers),
        &body,
        state.clock.now(),
    );
    receive(&state, &desk.settings.name, desk.count_approvals, inbound).await
}

/// The desk, or 404 saying it is not configured.
fn configured<S>(desk: &Option<Arc<Desk<S>>>, missing: &str) -> Result<Arc<Desk<S>>, ApiError> {
    desk.clone()
        .ok_or_else(|| ApiError::NotFound(missing.to_string()))
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
    let seen = state.store.inbound_seen(source, delivery).await;
    if seen.map_err(writ_core::CoreError::from)? {
        tracing::info!(%source, %delivery, "replayed delivery ignored");
        return Ok(Json(serde_json::json!({ "outcome": "replay" })));
    }
    let answer = match inbound.ticket {
        None => serde_json::json!({ "outcome": "ignored" }),
        Some(ticket) => {
            let intake = Intake::new(
                state.store.clone(),
                state.requests.clone(),
                state.clock.clone(),
            )
            .counting_desk_approvals(count_approvals);
            answer(intake.receive(ticket).await?)
        }
    };
    // Two deliveries of one id at once are both handled; the ticket's record keeps that
    // harmless, so losing this race is not an error.
    let recorded = state
        .store
        .record_inbound(source, delivery, state.clock.now())
        .await;
    if !recorded.map_err(writ_core::CoreError::from)? {
        tracing::info!(%source, %delivery, "delivery handled twice at once");
    }
    Ok(Json(answer))
}

/// What the desk is answered: what became of its ticket.
fn answer(received: Received) -> serde_json::Value {
    match received {
        Received::Submitted(submitted) => serde_json::json!({
            "outcome": "submitted",
            "request": submitted.request.number.to_string(),
            "status": submitted.request.status.as_str(),
        }),
        Received::Refused(reason) => serde_json::json!({
            "outcome": "refused",
            "reason": reason,
        }),
        Received::Updated(request) => serde_json::json!({
            "outcome": "updated",
            "request": request.number.to_string(),
            "status": request.status.as_str(),
        }),
        Received::Unchanged(why) => serde_json::json!({
            "outcome": "unchanged",
            "reason": why,
        }),
    }
}
