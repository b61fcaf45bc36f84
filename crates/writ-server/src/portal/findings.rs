//! Findings: gaps between governed and live state, filtered by status and kind.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use writ_domain::{FindingKind, FindingStatus};
use writ_store::FindingQuery;

use super::names::{Names, Wanted};
use super::page::{Chrome, PortalError, render};
use super::session::Session;
use crate::AppState;
use crate::error::ApiError;

/// One finding.
struct Row {
    kind: String,
    system: String,
    subject: String,
    identity: String,
    entitlement: String,
    first_seen: String,
    last_seen: String,
    count: u64,
    status: String,
    resolution: String,
}

/// The filters; an empty value means any.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default = "open")]
    status: String,
    #[serde(default)]
    kind: String,
}

fn open() -> String {
    "open".into()
}

/// The findings page.
#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    chrome: Chrome,
    filters: Filters,
    statuses: Vec<String>,
    kinds: Vec<String>,
    rows: Vec<Row>,
}

/// Up to 200 findings that match the filters.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(filters): Query<Filters>,
) -> Result<Response, PortalError> {
    let status = Some(filters.status.as_str())
        .filter(|s| !s.is_empty())
        .map(str::parse::<FindingStatus>)
        .transpose()
        .map_err(|e| ApiError::invalid("status", e))?;
    let kind = Some(filters.kind.as_str())
        .filter(|s| !s.is_empty())
        .map(str::parse::<FindingKind>)
        .transpose()
        .map_err(|e| ApiError::invalid("kind", e))?;
    let found = state
        .store
        .findings(FindingQuery {
            status,
            kind,
            limit: 200,
            ..FindingQuery::default()
        })
        .await?;
    let mut wanted = Wanted::default();
    let mut systems = std::collections::HashMap::new();
    for f in &found {
        if let Some(identity) = f.identity {
            wanted.identity(identity);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = systems.entry(f.system) {
            let name = state
                .store
                .system(f.system)
                .await?
                .map(|s| s.name.to_string());
            slot.insert(name.unwrap_or_default());
        }
    }
    let names = Names::lookup(&*state.store, wanted).await?;
    let rows = found
        .iter()
        .map(|f| Row {
            kind: f.kind.to_string(),
            system: systems.get(&f.system).cloned().unwrap_or_default(),
            subject: f.subject.clone(),
            identity: f.identity.map_or_else(|| "—".into(), |i| names.identity(i)),
            entitlement: f
                .entitlement_key
                .as_ref()
                .map_or_else(|| "—".into(), ToString::to_string),
            first_seen: f.first_seen.to_string(),
            last_seen: f.last_seen.to_string(),
            count: f.count,
            status: f.status.to_string(),
            resolution: f.resolution.clone().unwrap_or_default(),
        })
        .collect();
    Ok(render(&FindingsPage {
        chrome: Chrome::of(&session, "findings"),
        filters,
        statuses: FindingStatus::ALL.iter().map(ToString::to_string).collect(),
        kinds: FindingKind::ALL.iter().map(ToString::to_string).collect(),
        rows,
    }))
}
