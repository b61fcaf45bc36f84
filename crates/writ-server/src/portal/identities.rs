//! Identities with their owners, accounts and grants.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use writ_store::{GrantFilter, IdentityFilter};

use super::grants::GrantRow;
use super::names::{Names, Wanted};
use super::page::{Chrome, PortalError, render};
use super::session::Session;
use crate::AppState;

/// One identity.
struct Card {
    name: String,
    kind: String,
    owner: String,
    team: String,
    purpose: String,
    environment: String,
    status: String,
    accounts: Vec<String>,
    grants: Vec<GrantRow>,
}

/// The identities page.
#[derive(Template)]
#[template(path = "identities.html")]
struct IdentitiesPage {
    chrome: Chrome,
    cards: Vec<Card>,
}

/// Every identity (up to 200), by name.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, PortalError> {
    let store = &*state.store;
    let identities = store
        .identities_page(IdentityFilter::default(), 200)
        .await?;
    let mut wanted = Wanted::default();
    let mut held = Vec::with_capacity(identities.len());
    for i in &identities {
        let accounts = store.accounts_of(i.id).await?;
        let grants = store
            .grants_page(
                GrantFilter {
                    identity: Some(i.id),
                    ..GrantFilter::default()
                },
                50,
            )
            .await?;
        wanted.principal(i.owner);
        for g in &grants {
            wanted.grant(g);
        }
        held.push((accounts, grants));
    }
    let names = Names::lookup(store, wanted).await?;
    let cards = identities
        .into_iter()
        .zip(held)
        .map(|(i, (accounts, grants))| Card {
            name: i.name.to_string(),
            kind: i.kind.to_string(),
            owner: names.principal(i.owner),
            team: i.team.clone().unwrap_or_else(|| "—".into()),
            purpose: i.purpose.clone(),
            environment: i.environment.to_string(),
            status: i.status.to_string(),
            accounts: accounts
                .iter()
                .map(|a| format!("{} on {}", a.account, a.system.name))
                .collect(),
            grants: grants.iter().map(|g| GrantRow::of(g, &names)).collect(),
        })
        .collect();
    Ok(render(&IdentitiesPage {
        chrome: Chrome::of(&session, "identities"),
        cards,
    }))
}
