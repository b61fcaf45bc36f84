//! Campaigns in the portal: the signed-in person's reviews (keep or revoke, with the context
//! to decide on), every campaign, and one campaign's progress with a completion chart.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use writ_api::{CampaignDetail, CampaignItemView, CampaignView, DecideItemBody};
use writ_domain::CampaignId;

use super::chart::Bars;
use super::page::{Chrome, PortalError, forged, render, see_other};
use super::requests::Notice;
use super::session::Session;
use crate::AppState;
use crate::api::{campaign_views, campaigns as api};
use crate::error::ApiError;

/// The reviews waiting for the signed-in person.
#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    chrome: Chrome,
    items: Vec<CampaignItemView>,
}

/// Every campaign, newest first.
#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    chrome: Chrome,
    campaigns: Vec<CampaignView>,
}

/// One campaign.
#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    detail: CampaignDetail,
    chart: Bars,
}

/// The signed-in person's pending items, soonest due first.
#[tracing::instrument(skip_all)]
pub(crate) async fn reviews(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Notice>,
) -> Result<Response, PortalError> {
    let queue = state
        .store
        .review_queue(session.caller.principal.id, None, 200)
        .await?;
    Ok(render(&ReviewsPage {
        chrome: Chrome::of(&session, "reviews").with_notice(q.notice),
        items: campaign_views::items(&*state.store, &queue).await?,
    }))
}

/// Up to 200 campaigns, newest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, PortalError> {
    let campaigns = state.store.campaigns_page(None, 200).await?;
    Ok(render(&CampaignsPage {
        chrome: Chrome::of(&session, "campaigns"),
        campaigns: campaigns.iter().map(campaign_views::campaign).collect(),
    }))
}

/// One campaign's progress and items.
#[tracing::instrument(skip_all)]
pub(crate) async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id: CampaignId = id.parse().map_err(|e| ApiError::invalid("id", e))?;
    let first_page = writ_api::CampaignItemQuery {
        after: None,
        limit: Some(writ_api::MAX_LIMIT),
    };
    let detail = api::detail(&state, id, first_page).await?;
    let p = &detail.progress;
    let chart = Bars::of(
        "Items by outcome",
        [
            ("pending", p.pending),
            ("kept", p.kept),
            ("revoked", p.revoked),
            ("suspended", p.suspended),
        ]
        .into_iter()
        .map(|(label, n)| (label.to_string(), f64::from(n), n.to_string()))
        .collect(),
    );
    Ok(render(&CampaignPage {
        chrome: Chrome::of(&session, "campaigns"),
        detail,
        chart,
    }))
}

/// A reviewer's decision from the form.
#[derive(Debug, Deserialize)]
pub(crate) struct DecideForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// Keeps or revokes an item as the signed-in reviewer.
#[tracing::instrument(skip_all)]
pub(crate) async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(item): Path<String>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PortalError> {
    if !session.csrf_ok(&form.csrf) {
        return Err(forged());
    }
    let body = DecideItemBody {
        decision: form.decision,
        reason: Some(form.reason),
    };
    let decided = api::decide_as(&state, session.caller.principal.id, &item, body).await?;
    let notice = format!(
        "{} holding {}: {}",
        decided.context.identity_name, decided.context.entitlement_name, decided.status
    );
    Ok(see_other("/portal/reviews", &notice))
}
