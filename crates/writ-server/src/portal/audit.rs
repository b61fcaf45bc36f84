//! The audit log, newest first, filtered by action and actor; for administrators and auditors.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::names::{Names, Wanted};
use super::page::{Chrome, PortalError, render};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;

/// How many recent events the page reads before filtering.
const WINDOW: u64 = 500;

/// One event.
struct Event {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    subjects: String,
    data: String,
}

/// The filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
}

/// The audit page.
#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    filters: Filters,
    events: Vec<Event>,
}

/// Refuses `what` to anyone but administrators and auditors.
pub(super) fn audit_readers_only(session: &Session, what: &str) -> Result<(), PortalError> {
    if session.caller.may_read_audit() {
        return Ok(());
    }
    Err(PortalError(ApiError::Forbidden(format!(
        "{what} is for administrators and auditors"
    ))))
}

/// The latest events whose action starts with, and actor contains, the filters.
#[tracing::instrument(skip_all)]
pub(crate) async fn log(
    State(state): State<AppState>,
    session: Session,
    Query(filters): Query<Filters>,
) -> Result<Response, PortalError> {
    audit_readers_only(&session, "the audit log")?;
    let head = state.store.audit_head().await?.map_or(0, |(seq, _)| seq);
    let after = head.saturating_sub(WINDOW);
    let window = u32::try_from(WINDOW).unwrap_or(u32::MAX);
    let page = state.store.audit_page(after, window).await?;
    let mut wanted = Wanted::default();
    for e in &page {
        wanted.actor(&e.actor);
    }
    let names = Names::lookup(&*state.store, wanted).await?;
    let mut events: Vec<Event> = page
        .into_iter()
        .map(|e| Event {
            seq: e.seq,
            at: e.at.to_string(),
            actor: names.actor(&e.actor),
            action: e.action,
            subjects: e.subjects.join(" "),
            data: e.data,
        })
        .filter(|e| e.action.starts_with(filters.action.trim()))
        .filter(|e| {
            let needle = filters.actor.trim().to_lowercase();
            needle.is_empty() || e.actor.to_lowercase().contains(&needle)
        })
        .collect();
    events.reverse();
    Ok(render(&AuditPage {
        chrome: Chrome::of(&session, "audit"),
        filters,
        events,
    }))
}
