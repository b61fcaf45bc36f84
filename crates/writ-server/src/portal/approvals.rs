//! The approvals inbox: requests waiting for a decision that the signed-in person did not ask
//! for. Whether they may decide is policy's answer when they try.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use writ_domain::RequestStatus;
use writ_store::RequestFilter;

use super::names::{Names, Wanted};
use super::page::{Chrome, PortalError, render};
use super::requests::{Notice, Row};
use super::session::Session;
use crate::AppState;

/// The inbox.
#[derive(Template)]
#[template(path = "requests.html")]
struct InboxPage {
    chrome: Chrome,
    title: &'static str,
    empty: &'static str,
    rows: Vec<Row>,
}

/// Pending requests by others, newest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn inbox(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Notice>,
) -> Result<Response, PortalError> {
    let me = session.caller.principal.id;
    let found = state
        .store
        .requests_page(
            RequestFilter {
                status: Some(RequestStatus::PendingApproval),
                ..RequestFilter::default()
            },
            200,
        )
        .await?;
    let found: Vec<_> = found.into_iter().filter(|r| r.requester != me).collect();
    let mut wanted = Wanted::default();
    for r in &found {
        wanted.request(r);
    }
    let names = Names::lookup(&*state.store, wanted).await?;
    Ok(render(&InboxPage {
        chrome: Chrome::of(&session, "approvals").with_notice(q.notice),
        title: "Waiting for approval",
        empty: "Nothing is waiting for a decision.",
        rows: found.iter().map(|r| Row::of(r, &names)).collect(),
    }))
}
