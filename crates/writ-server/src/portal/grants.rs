//! Grants: those ending within a week first (soonest first), then every grant, newest first.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use writ_domain::{Grant, GrantStatus};
use writ_store::GrantFilter;

use super::names::{Names, Wanted};
use super::page::{Chrome, PortalError, render};
use super::session::Session;
use crate::AppState;

/// How far ahead "ending soon" looks.
const SOON: Duration = Duration::from_secs(7 * 86_400);

/// One grant.
pub(crate) struct GrantRow {
    pub identity: String,
    pub entitlement: String,
    pub status: String,
    pub granted_at: String,
    pub expires_at: String,
    pub last_verified_at: String,
}

impl GrantRow {
    /// The row of `g`.
    pub fn of(g: &Grant, names: &Names) -> Self {
        let or_dash = |t: Option<writ_domain::Timestamp>| t.map_or("—".into(), |t| t.to_string());
        Self {
            identity: names.identity(g.identity),
            entitlement: names.entitlement(Some(g.entitlement)),
            status: g.status.to_string(),
            granted_at: or_dash(g.granted_at),
            expires_at: or_dash(g.expires_at),
            last_verified_at: or_dash(g.last_verified_at),
        }
    }
}

/// The grants page.
#[derive(Template)]
#[template(path = "grants.html")]
struct GrantsPage {
    chrome: Chrome,
    ending: Vec<GrantRow>,
    all: Vec<GrantRow>,
}

/// Active grants ending within a week, and all grants.
#[tracing::instrument(skip_all)]
pub(crate) async fn ending(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, PortalError> {
    let ending = state
        .store
        .grants_page(
            GrantFilter {
                status: Some(GrantStatus::Active),
                expiring_before: Some(state.clock.now().plus(SOON)),
                ..GrantFilter::default()
            },
            200,
        )
        .await?;
    let all = state.store.grants_page(GrantFilter::default(), 200).await?;
    let mut wanted = Wanted::default();
    for g in ending.iter().chain(&all) {
        wanted.grant(g);
    }
    let names = Names::lookup(&*state.store, wanted).await?;
    Ok(render(&GrantsPage {
        chrome: Chrome::of(&session, "grants"),
        ending: ending.iter().map(|g| GrantRow::of(g, &names)).collect(),
        all: all.iter().map(|g| GrantRow::of(g, &names)).collect(),
    }))
}
