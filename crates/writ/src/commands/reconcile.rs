//! `writ reconcile [--system NAME]`: compares live state with governed state now, with a
//! progress bar, and prints a summary table with each system's entitlement integrity.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use writ_connect::{ProcessEnv, Registry};
use writ_core::SystemClock;
use writ_core::reconcile::{Progress, Reconciled, Reconciler};
use writ_core::requests::Requests;
use writ_domain::FindingKind;
use writ_store::{OpenMode, Store};

use crate::config::Config;

/// Builds the reconciler the configuration describes, over `store`.
pub(crate) fn reconciler(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Reconciler> {
    let clock = Arc::new(SystemClock);
    let requests = Requests::new(
        store.clone(),
        Arc::new(config.policy_engine()?),
        clock.clone(),
        config.roles.clone(),
    )
    .with_sla(config.sla);
    Ok(Reconciler::new(
        store,
        Arc::new(Registry::new(ProcessEnv)),
        clock,
        requests,
        config.reconcile.clone(),
    ))
}

/// Reconciles `system` (every system when `None`) and prints the summary.
pub async fn run(config: &Config, system: Option<&str>) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let reconciler = reconciler(config, store.clone())?;
    let systems = match system {
        Some(name) => vec![
            store
                .system_named(name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no system named `{name}`"))?,
        ],
        None => reconciler.systems().await?,
    };
    let mut done = Vec::new();
    for system in &systems {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                .context("progress bar template")?,
        );
        bar.set_prefix(system.name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        let shown = bar.clone();
        let progress = move |p: Progress| match p {
            Progress::Listing(n) => shown.set_message(format!("{n} live grants read")),
            Progress::Comparing => shown.set_message("comparing with governed state"),
            Progress::Recording => shown.set_message("recording findings"),
        };
        let outcome = reconciler.reconcile(system, &progress).await;
        bar.finish_and_clear();
        done.push(outcome.with_context(|| format!("reconciling `{}`", system.name))?);
    }
    // Overall: every system's latest run, whether reconciled now or before.
    let latest = store.latest_reconciliations().await?;
    print!("{}", summary(&done, &latest));
    Ok(())
}

/// The summary table, one row per system reconciled, and the overall integrity of `latest`
/// (each system's latest run).
fn summary(done: &[Reconciled], latest: &[writ_store::ReconciliationRun]) -> String {
    let mut out = format!(
        "{:<20} {:>9} {:>10} {:>10} {:>9} {:>10} {:>9} {:>8} {:>8} {:>4} {:>7} {:>9} {:>6}\n",
        "SYSTEM",
        "ACCOUNTS",
        "GRANTS",
        "TRACED",
        "INTEGRITY",
        "UNAPPROVED",
        "ORPHANED",
        "MISSING",
        "UNOWNED",
        "SOD",
        "OPENED",
        "RESOLVED",
        "FILED"
    );
    for r in done {
        let n = |kind| r.run.findings.get(&kind).copied().unwrap_or(0);
        out.push_str(&format!(
            "{:<20} {:>9} {:>10} {:>10} {:>8.2}% {:>10} {:>9} {:>8} {:>8} {:>4} {:>7} {:>9} {:>6}\n",
            r.system.as_str(),
            r.run.live_accounts,
            r.run.live_grants,
            r.run.traced_grants,
            r.run.integrity() * 100.0,
            n(FindingKind::UnapprovedAccess),
            n(FindingKind::OrphanedAccess),
            n(FindingKind::MissingAccess),
            n(FindingKind::UnownedAccount),
            n(FindingKind::SodViolation),
            r.run.opened,
            r.run.resolved,
            r.remediations.len(),
        ));
    }
    let overall = writ_core::reconcile::integrity(latest) * 100.0;
    let live: u64 = latest.iter().map(|r| r.live_grants).sum();
    let traced: u64 = latest.iter().map(|r| r.traced_grants).sum();
    out.push_str(&format!(
        "entitlement integrity, every system: {overall:.2}% ({traced} of {live} live grants trace to an approved, unexpired request)\n"
    ));
    out
}
