//! Governance metrics an operator watches: how much access arrives as exceptions, and how long
//! grants outlive their end. They are read from the store when scraped, so every replica reports
//! the same figures and nothing is lost at a restart.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use writ_domain::{RequestKind, RequestStatus};
use writ_store::{RequestCount, Store};

use crate::Clock;
use crate::error::CoreError;

/// The window the request counts and the exception rate cover.
pub const REQUEST_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

/// The window the expiry lag covers: grants whose end fell within it.
pub const EXPIRY_LAG_WINDOW: Duration = Duration::from_secs(3600);

/// The request kinds that ask for access.
const ACCESS_KINDS: [RequestKind; 3] = [
    RequestKind::Grant,
    RequestKind::Exception,
    RequestKind::BreakGlass,
];

/// Reads the figures.
pub struct GovernanceMetrics {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// The figures at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Access requests submitted in the [`REQUEST_WINDOW`], by kind and status.
    pub access_requests: Vec<RequestCount>,
    /// The share of grant and exception requests in the window that policy accepted as
    /// exceptions (rejected requests are not counted); 0 when there were none.
    pub exception_rate: f64,
    /// Grants past their end and not yet read back as removed.
    pub overdue_expiries: u64,
    /// Expiry lag (end → verified removal) of grants that ended in the [`EXPIRY_LAG_WINDOW`].
    pub expiry_lag: LagSummary,
    /// Entitlement integrity per system, from its latest reconciliation, by system name.
    pub integrity: Vec<SystemIntegrity>,
    /// Ticket notes and webhook events waiting for delivery.
    pub outbox_pending: u64,
    /// Those out of attempts or refused for good (dead letters).
    pub outbox_dead: u64,
}

/// What a system's latest reconciliation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemIntegrity {
    /// The system's name.
    pub system: String,
    /// Memberships the target showed.
    pub live_grants: u64,
    /// Those that trace to an approved, unexpired request.
    pub traced_grants: u64,
}

/// Quantiles of a set of lags.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LagSummary {
    /// How many lags.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_secs: f64,
    /// The median, in seconds (0 with no lags).
    pub p50_secs: f64,
    /// The 99th percentile, in seconds (0 with no lags).
    pub p99_secs: f64,
}

impl GovernanceMetrics {
    /// Figures from `store` at `clock`'s time.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Reads the figures now.
    #[tracing::instrument(skip_all)]
    pub async fn read(&self) -> Result<Figures, CoreError> {
        let now = self.clock.now();
        let access_requests = self
            .store
            .request_counts(&ACCESS_KINDS, now.minus(REQUEST_WINDOW))
            .await?;
        let lags = self.store.expiry_lags(now.minus(EXPIRY_LAG_WINDOW)).await?;
        // One run per reconciled system: a lookup each, not the whole catalog per scrape.
        let mut integrity = Vec::new();
        for run in self.store.latest_reconciliations().await? {
            if let Some(system) = self.store.system(run.system).await? {
                integrity.push(SystemIntegrity {
                    system: system.name.to_string(),
                    live_grants: run.live_grants,
                    traced_grants: run.traced_grants,
                });
            }
        }
        let (outbox_pending, outbox_dead) = self.store.undelivered_outbox().await?;
        Ok(Figures {
            integrity,
            outbox_pending,
            outbox_dead,
            exception_rate: exception_rate(&access_requests),
            access_requests,
            overdue_expiries: self.store.overdue_expiries(now).await?,
            expiry_lag: LagSummary::of(lags),
        })
    }
}

/// Accepted exceptions over accepted grants and exceptions.
fn exception_rate(counts: &[RequestCount]) -> f64 {
    let accepted = |kind: RequestKind| -> u64 {
        counts
            .iter()
            .filter(|c| c.kind == kind && c.status != RequestStatus::Rejected)
            .map(|c| c.count)
            .sum()
    };
    let exceptions = accepted(RequestKind::Exception);
    let all = exceptions + accepted(RequestKind::Grant);
    if all == 0 {
        0.0
    } else {
        exceptions as f64 / all as f64
    }
}

impl LagSummary {
    /// The summary of `lags` (nearest-rank quantiles).
    pub fn of(mut lags: Vec<Duration>) -> Self {
        if lags.is_empty() {
            return Self::default();
        }
        lags.sort_unstable();
        let rank =
            |q: f64| lags[((lags.len() as f64 * q).ceil() as usize).clamp(1, lags.len()) - 1];
        Self {
            count: lags.len() as u64,
            sum_secs: lags.iter().map(Duration::as_secs_f64).sum(),
            p50_secs: rank(0.5).as_secs_f64(),
            p99_secs: rank(0.99).as_secs_f64(),
        }
    }
}

impl Figures {
    /// The figures in the Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let window_days = REQUEST_WINDOW.as_secs() / 86_400;
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(
            out,
            "# HELP writ_access_requests Access requests submitted in the last {window_days} days, by kind and status.\n\
             # TYPE writ_access_requests gauge"
        );
        for c in &self.access_requests {
            let _ = writeln!(
                out,
                "writ_access_requests{{kind=\"{}\",status=\"{}\"}} {}",
                c.kind.as_str(),
                c.status.as_str(),
                c.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP writ_exception_rate Share of accepted grant and exception requests of the last {window_days} days that are exceptions.\n\
             # TYPE writ_exception_rate gauge\n\
             writ_exception_rate {}",
            self.exception_rate
        );
        let _ = writeln!(
            out,
            "# HELP writ_expiries_overdue Grants past their end not yet read back as removed.\n\
             # TYPE writ_expiries_overdue gauge\n\
             writ_expiries_overdue {}",
            self.overdue_expiries
        );
        let _ = writeln!(
            out,
            "# HELP writ_outbox_deliveries Ticket notes and webhook events not yet delivered, by state (dead: out of attempts).\n\
             # TYPE writ_outbox_deliveries gauge\n\
             writ_outbox_deliveries{{state=\"pending\"}} {}\n\
             writ_outbox_deliveries{{state=\"dead\"}} {}",
            self.outbox_pending, self.outbox_dead
        );
        let lag = &self.expiry_lag;
        let _ = writeln!(
            out,
            "# HELP writ_expiry_lag_seconds Time from a grant's end to the read-back that showed it gone, for grants that ended in the last {} s.\n\
             # TYPE writ_expiry_lag_seconds summary\n\
             writ_expiry_lag_seconds{{quantile=\"0.5\"}} {}\n\
             writ_expiry_lag_seconds{{quantile=\"0.99\"}} {}\n\
             writ_expiry_lag_seconds_sum {}\n\
             writ_expiry_lag_seconds_count {}",
            EXPIRY_LAG_WINDOW.as_secs(),
            lag.p50_secs,
            lag.p99_secs,
            lag.sum_secs,
            lag.count
        );
        let _ = writeln!(
            out,
            "# HELP writ_entitlement_integrity Share of live grants that trace to an approved, unexpired request, per system at its latest reconciliation.\n\
             # TYPE writ_entitlement_integrity gauge"
        );
        let share = |live: u64, traced: u64| {
            if live == 0 {
                1.0
            } else {
                traced as f64 / live as f64
            }
        };
        for system in &self.integrity {
            let _ = writeln!(
                out,
                "writ_entitlement_integrity{{system=\"{}\"}} {}",
                label(&system.system),
                share(system.live_grants, system.traced_grants)
            );
        }
        let live: u64 = self.integrity.iter().map(|s| s.live_grants).sum();
        let traced: u64 = self.integrity.iter().map(|s| s.traced_grants).sum();
        let _ = writeln!(
            out,
            "# HELP writ_entitlement_integrity_overall Share of every system's live grants that trace to an approved, unexpired request.\n\
             # TYPE writ_entitlement_integrity_overall gauge\n\
             writ_entitlement_integrity_overall {}",
            share(live, traced)
        );
        let _ = writeln!(
            out,
            "# HELP writ_live_grants Memberships a system's latest reconciliation read live.\n\
             # TYPE writ_live_grants gauge"
        );
        for system in &self.integrity {
            let _ = writeln!(
                out,
                "writ_live_grants{{system=\"{}\"}} {}",
                label(&system.system),
                system.live_grants
            );
        }
        out
    }
}

/// A Prometheus label value, escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod integrity_tests {
    use super::*;

    #[test]
    fn integrity_is_exposed_per_system_and_overall() {
        let figures = Figures {
            access_requests: Vec::new(),
            exception_rate: 0.0,
            overdue_expiries: 0,
            outbox_pending: 2,
            outbox_dead: 1,
            expiry_lag: LagSummary::default(),
            integrity: vec![
                SystemIntegrity {
                    system: "ledger".into(),
                    live_grants: 4,
                    traced_grants: 3,
                },
                SystemIntegrity {
                    system: "files".into(),
                    live_grants: 0,
                    traced_grants: 0,
                },
            ],
        };
        let text = figures.to_prometheus();
        assert!(
            text.contains("writ_entitlement_integrity{system=\"ledger\"} 0.75\n"),
            "{text}"
        );
        assert!(
            text.contains("writ_entitlement_integrity{system=\"files\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("writ_entitlement_integrity_overall 0.75\n"),
            "{text}"
        );
        assert!(
            text.contains("writ_live_grants{system=\"ledger\"} 4\n"),
            "{text}"
        );
        assert!(
            text.contains("writ_outbox_deliveries{state=\"dead\"} 1\n"),
            "{text}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(kind: RequestKind, status: RequestStatus, count: u64) -> RequestCount {
        RequestCount {
            kind,
            status,
            count,
        }
    }

    #[test]
    fn the_exception_rate_counts_accepted_grants_and_exceptions_only() {
        let counts = [
            count(RequestKind::Grant, RequestStatus::Fulfilled, 7),
            count(RequestKind::Grant, RequestStatus::Rejected, 50),
            count(RequestKind::Exception, RequestStatus::PendingApproval, 2),
            count(RequestKind::Exception, RequestStatus::Fulfilled, 1),
            count(RequestKind::Exception, RequestStatus::Rejected, 9),
            count(RequestKind::BreakGlass, RequestStatus::Fulfilled, 4),
        ];
        assert_eq!(exception_rate(&counts), 0.3);
        assert_eq!(exception_rate(&[]), 0.0);
    }

    #[test]
    fn lag_quantiles_are_nearest_rank() {
        let lags = (1..=100).map(Duration::from_secs).collect();
        let summary = LagSummary::of(lags);
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50_secs, 50.0);
        assert_eq!(summary.p99_secs, 99.0);
        assert_eq!(summary.sum_secs, 5050.0);
        assert_eq!(LagSummary::of(Vec::new()), LagSummary::default());
    }
}
