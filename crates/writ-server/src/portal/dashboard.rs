//! The dashboard: governance figures drawn as SVG bar charts — requests by status in the last
//! 30 days, time to fulfil, expiry lag, entitlement integrity per system, open findings by kind.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use writ_core::metrics::GovernanceMetrics;
use writ_domain::FindingStatus;
use writ_store::{FindingQuery, GrantFilter};

use super::chart::Bars;
use super::page::{Chrome, PortalError, render};
use super::requests::Notice;
use super::session::Session;
use crate::AppState;

/// The dashboard.
#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    charts: Vec<Bars>,
    exception_rate: String,
    overdue_expiries: u64,
    lag: String,
}

/// The figures, now.
#[tracing::instrument(skip_all)]
pub(crate) async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Notice>,
) -> Result<Response, PortalError> {
    let figures = GovernanceMetrics::new(state.store.clone(), state.clock.clone())
        .read()
        .await?;
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for count in &figures.access_requests {
        *by_status.entry(count.status.to_string()).or_default() += count.count;
    }
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let open = state
        .store
        .findings(FindingQuery {
            status: Some(FindingStatus::Open),
            limit: 500,
            ..FindingQuery::default()
        })
        .await?;
    for finding in &open {
        *by_kind.entry(finding.kind.to_string()).or_default() += 1;
    }
    let counted = |map: BTreeMap<String, u64>| {
        map.into_iter()
            .map(|(label, n)| (label, n as f64, n.to_string()))
            .collect::<Vec<_>>()
    };
    let integrity = figures
        .integrity
        .iter()
        .map(|s| {
            let share = if s.live_grants == 0 {
                1.0
            } else {
                s.traced_grants as f64 / s.live_grants as f64
            };
            (
                s.system.clone(),
                share,
                format!(
                    "{:.0}% ({}/{})",
                    share * 100.0,
                    s.traced_grants,
                    s.live_grants
                ),
            )
        })
        .collect();
    let fulfil = time_to_fulfil(&state).await?;
    let lag = &figures.expiry_lag;
    let charts = vec![
        Bars::of(
            "Access requests by status, last 30 days",
            counted(by_status),
        ),
        Bars::of(
            "Time to fulfil: submission to verified grant (latest 200 grants)",
            fulfil,
        ),
        Bars::of(
            "Expiry lag, grants ended in the last hour (seconds)",
            vec![
                ("p50".into(), lag.p50_secs, format!("{:.1} s", lag.p50_secs)),
                ("p99".into(), lag.p99_secs, format!("{:.1} s", lag.p99_secs)),
            ],
        ),
        Bars::of(
            "Entitlement integrity per system (latest reconciliation)",
            integrity,
        ),
        Bars::of("Open findings by kind", counted(by_kind)),
    ];
    Ok(render(&DashboardPage {
        chrome: Chrome::of(&session, "dashboard").with_notice(q.notice),
        charts,
        exception_rate: format!("{:.1}%", figures.exception_rate * 100.0),
        overdue_expiries: figures.overdue_expiries,
        lag: format!("{} grants", lag.count),
    }))
}

/// How long the latest grants took from their request's submission to their verified grant:
/// median, 90th percentile and longest, in seconds.
async fn time_to_fulfil(state: &AppState) -> Result<Vec<(String, f64, String)>, PortalError> {
    let grants = state.store.grants_page(GrantFilter::default(), 200).await?;
    let mut minutes = Vec::with_capacity(grants.len());
    for grant in grants {
        let Some(granted) = grant.granted_at else {
            continue;
        };
        if let Some((request, _)) = state.store.request(grant.request).await? {
            minutes.push(granted.since(request.created_at).as_secs_f64());
        }
    }
    if minutes.is_empty() {
        return Ok(Vec::new());
    }
    minutes.sort_by(f64::total_cmp);
    let at = |q: f64| {
        // An index into a non-empty, sorted list; the product is within its bounds.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((minutes.len() - 1) as f64 * q).round() as usize;
        minutes[i.min(minutes.len() - 1)]
    };
    Ok(
        [("median", at(0.5)), ("p90", at(0.9)), ("longest", at(1.0))]
            .into_iter()
            .map(|(label, secs)| (label.to_string(), secs, duration(secs)))
            .collect(),
    )
}

/// Seconds in the unit that reads best.
fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.1} s")
    } else if secs < 2.0 * 3600.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}
