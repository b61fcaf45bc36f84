//! Reconciliation: a system's live state, read through its connector, against governed
//! state. Live memberships are sorted in bounded memory and merged with governed grants
//! streamed in the same order, so a system of ten million memberships costs what one of a
//! million does. Every gap becomes a finding (opened, or seen again); a finished run resolves
//! the findings it no longer sees and records the entitlement integrity it measured. In a
//! system whose remediation mode allows it, open findings are remediated by filing governed
//! requests, never by touching the target.

mod merge;
mod remediate;
pub mod sorted;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use writ_connect::ConnectorError;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{FindingKind, Name, RemediationMode, RequestNumber, System, Timestamp};
use writ_store::{EntitlementFilter, ReconciliationRun, SeenFinding, Store, StoreError};

use crate::Clock;
use crate::error::CoreError;
use crate::execute::Connectors;
use crate::requests::Requests;

use self::merge::{AccountCursor, Catalog, GovernedKeys};
use self::sorted::{SortError, SortedLive};

/// Findings recorded per store transaction.
const FINDINGS_BATCH: usize = 2_000;

/// Systems or entitlements read per page of the catalog.
const PAGE: u32 = 500;

/// How often systems are reconciled when nothing else is configured.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3600);

/// Why a reconciliation failed; nothing is resolved by a run that did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The target could not be read.
    #[error("reading the target failed: {0}")]
    Target(#[from] ConnectorError),
    /// Live state could not be sorted.
    #[error(transparent)]
    Sort(#[from] SortError),
    /// writ's own state failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<StoreError> for ReconcileError {
    fn from(err: StoreError) -> Self {
        ReconcileError::Core(err.into())
    }
}

/// Entitlement integrity across systems: the share of every live grant of `runs` (each
/// system's latest, see `Store::latest_reconciliations`) that traces to an approved, unexpired
/// request; 1 when nothing is live. What a metrics endpoint exposes as the overall figure,
/// beside each run's own [`ReconciliationRun::integrity`].
pub fn integrity(runs: &[ReconciliationRun]) -> f64 {
    let live: u64 = runs.iter().map(|r| r.live_grants).sum();
    let traced: u64 = runs.iter().map(|r| r.traced_grants).sum();
    if live == 0 {
        1.0
    } else {
        traced as f64 / live as f64
    }
}

/// Reconciliation settings of one system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemSettings {
    /// What reconciliation may remediate on its own.
    pub mode: RemediationMode,
    /// How often it runs; the default interval when absent.
    pub interval: Option<Duration>,
}

/// Reconciliation settings: an interval for every system, and per-system overrides by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// How often a system without its own interval is reconciled.
    pub interval: Duration,
    /// Per-system settings, by system name.
    pub systems: HashMap<String, SystemSettings>,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            systems: HashMap::new(),
        }
    }
}

impl ReconcileSettings {
    /// The remediation mode of `system` (`report` unless configured).
    pub fn mode(&self, system: &Name) -> RemediationMode {
        self.systems
            .get(system.as_str())
            .map(|s| s.mode)
            .unwrap_or_default()
    }

    /// How often `system` is reconciled.
    pub fn interval(&self, system: &Name) -> Duration {
        self.systems
            .get(system.as_str())
            .and_then(|s| s.interval)
            .unwrap_or(self.interval)
    }
}

/// Where a reconciliation is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Live memberships listed so far.
    Listing(u64),
    /// Comparing with governed state.
    Comparing,
    /// Recording what was found.
    Recording,
}

/// What one reconciliation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    /// The system's name.
    pub system: Name,
    /// The run as recorded: counts, findings by kind, integrity.
    pub run: ReconciliationRun,
    /// Requests filed to remediate findings (or to revoke access whose adoption was denied).
    pub remediations: Vec<RequestNumber>,
}

/// Reconciles systems.
#[derive(Clone)]
pub struct Reconciler {
    store: Arc<dyn Store>,
    connectors: Arc<dyn Connectors>,
    clock: Arc<dyn Clock>,
    requests: Requests,
    settings: Arc<ReconcileSettings>,
}

impl Reconciler {
    /// A reconciler over these ports, filing remediations through `requests`.
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<dyn Connectors>,
        clock: Arc<dyn Clock>,
        requests: Requests,
        settings: ReconcileSettings,
    ) -> Self {
        Self {
            store,
            connectors,
            clock,
            requests,
            settings: Arc::new(settings),
        }
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &ReconcileSettings {
        &self.settings
    }

    /// Reconciles every system whose interval has passed since its last finished run; returns
    /// what each did, and logs (without stopping) those that failed.
    pub async fn run_due(&self) -> Result<Vec<Reconciled>, CoreError> {
        let now = self.clock.now();
        let last: HashMap<_, _> = self
            .store
            .latest_reconciliations()
            .await?
            .into_iter()
            .map(|run| (run.system, run.finished_at))
            .collect();
        let mut done = Vec::new();
        for system in self.systems().await? {
            let due = last
                .get(&system.id)
                .is_none_or(|at| now.since(*at) >= self.settings.interval(&system.name));
            if !due {
                continue;
            }
            match self.reconcile(&system, &|_| {}).await {
                Ok(reconciled) => done.push(reconciled),
                Err(err) => {
                    tracing::error!(system = %system.name, error = %err, "reconciliation failed")
                }
            }
        }
        Ok(done)
    }

    /// Reconciles one system now.
    #[tracing::instrument(skip_all, fields(system = %system.name))]
    pub async fn reconcile(
        &self,
        system: &System,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Reconciled, ReconcileError> {
        let started = self.clock.now();
        let began = std::time::Instant::now();
        self.store.reopen_accepted(started).await?;
        let connector = self.connectors.for_system(system)?;
        let mut live_accounts = connector.list_accounts().await?;
        live_accounts.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
        let listing = |n| progress(Progress::Listing(n));
        let mut live = SortedLive::collect(connector.list_grants(), &listing).await?;
        let phase = std::time::Instant::now();
        tracing::debug!(
            elapsed_ms = began.elapsed().as_millis() as u64,
            listed = live.listed,
            "live state read and sorted"
        );
        progress(Progress::Comparing);
        let catalog = self.catalog_of(system).await?;

        let mut sink = Sink::new(&*self.store, system, started);
        let mut governed = GovernedKeys::new(self.store.governed_grants(system.id), started);
        let mut accounts = AccountCursor::new(self.store.governed_accounts(system.id));
        let tally =
            merge::compare_grants(&mut live, &mut governed, &mut accounts, &catalog, &mut sink)
                .await?;
        drop(live);
        let mut accounts = AccountCursor::new(self.store.governed_accounts(system.id));
        tracing::debug!(
            elapsed_ms = phase.elapsed().as_millis() as u64,
            live = tally.live,
            "grants compared"
        );
        let account_count =
            merge::compare_accounts(&live_accounts, &mut accounts, &mut sink).await?;
        progress(Progress::Recording);
        sink.flush().await?;
        tracing::debug!(
            elapsed_ms = phase.elapsed().as_millis() as u64,
            "accounts compared, findings recorded"
        );

        let finished_at = self.clock.now().max(started);
        let run = ReconciliationRun {
            system: system.id,
            started_at: started,
            finished_at,
            live_accounts: account_count,
            live_grants: tally.live,
            traced_grants: tally.traced,
            findings: sink.counts.clone(),
            opened: sink.opened,
            resolved: 0,
        };
        let event = NewAuditEvent::new(finished_at, Actor::system("reconciler"), "reconciliation.finished")
            .subject(SubjectRef::new("system", system.id))
            .data(serde_json::json!({
                "system": system.name.as_str(),
                "live_accounts": run.live_accounts,
                "live_grants": run.live_grants,
                "traced_grants": run.traced_grants,
                "integrity": run.integrity(),
                "findings": run.findings.iter().map(|(k, n)| (k.as_str().to_string(), *n)).collect::<BTreeMap<_, _>>(),
                "opened": run.opened,
            }));
        let resolved = self.store.finish_reconciliation(run.clone(), event).await?;
        let run = ReconciliationRun {
            resolved: resolved.len() as u64,
            ..run
        };
        tracing::debug!(
            elapsed_ms = phase.elapsed().as_millis() as u64,
            resolved = resolved.len(),
            "run finished"
        );
        let remediations = self
            .remediate(system, self.settings.mode(&system.name))
            .await?;
        Ok(Reconciled {
            system: system.name.clone(),
            run,
            remediations,
        })
    }

    /// Every system, read a page at a time.
    pub async fn systems(&self) -> Result<Vec<System>, CoreError> {
        let mut systems: Vec<System> = Vec::new();
        loop {
            let after = systems.last().map(|s| s.name.to_string());
            let page = self.store.systems_page(after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            systems.extend(page);
            if !full {
                return Ok(systems);
            }
        }
    }

    /// The entitlements of `system` by key, and the SoD rules it can break on its own. Read
    /// narrowly: the whole catalog holds every identity, which grows with the inventory.
    async fn catalog_of(&self, system: &System) -> Result<Catalog, ReconcileError> {
        let mut entitlements: HashMap<String, _> = HashMap::new();
        let mut after = None;
        loop {
            let filter = EntitlementFilter {
                system: Some(system.id),
                after,
            };
            let page = self.store.entitlements_page(filter, PAGE).await?;
            after = page.last().map(|e| e.id);
            let full = page.len() == PAGE as usize;
            entitlements.extend(page.into_iter().map(|e| (e.key.to_string(), e.id)));
            if !full {
                break;
            }
        }
        let sod_rules = self
            .store
            .sod_rules()
            .await?
            .into_iter()
            .filter(|rule| {
                rule.entitlements
                    .as_slice()
                    .iter()
                    .filter(|id| entitlements.values().any(|e| e == *id))
                    .count()
                    >= 2
            })
            .collect();
        Ok(Catalog {
            entitlements,
            sod_rules,
        })
    }
}

/// Findings on their way to the store, a batch at a time.
pub(super) struct Sink<'a> {
    store: &'a dyn Store,
    system: &'a System,
    now: Timestamp,
    pending: Vec<SeenFinding>,
    counts: BTreeMap<FindingKind, u64>,
    opened: u64,
}

impl<'a> Sink<'a> {
    fn new(store: &'a dyn Store, system: &'a System, now: Timestamp) -> Self {
        Self {
            store,
            system,
            now,
            pending: Vec::new(),
            counts: BTreeMap::new(),
            opened: 0,
        }
    }

    /// Takes a gap seen; records a batch once enough are waiting.
    pub(super) async fn push(&mut self, seen: SeenFinding) -> Result<(), ReconcileError> {
        *self.counts.entry(seen.kind).or_default() += 1;
        self.pending.push(seen);
        if self.pending.len() >= FINDINGS_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Records every gap still waiting.
    async fn flush(&mut self) -> Result<(), ReconcileError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let took = std::time::Instant::now();
        let recorded = self
            .store
            .record_findings(self.system.id, batch, self.now)
            .await?;
        self.opened += recorded.iter().filter(|f| f.count == 1).count() as u64;
        tracing::debug!(
            findings = recorded.len(),
            elapsed_ms = took.elapsed().as_millis() as u64,
            "findings recorded"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use writ_domain::SystemId;

    fn run(live: u64, traced: u64) -> ReconciliationRun {
        let at = Timestamp::from_micros(0);
        ReconciliationRun {
            system: SystemId::new(),
            started_at: at,
            finished_at: at,
            live_accounts: 0,
            live_grants: live,
            traced_grants: traced,
            findings: BTreeMap::new(),
            opened: 0,
            resolved: 0,
        }
    }

    #[test]
    fn overall_integrity_weighs_systems_by_their_live_grants() {
        assert_eq!(integrity(&[]), 1.0);
        assert_eq!(integrity(&[run(0, 0)]), 1.0);
        assert_eq!(integrity(&[run(90, 90), run(10, 0)]), 0.9);
        assert_eq!(run(4, 1).integrity(), 0.25);
    }

    #[test]
    fn a_system_reports_unless_configured_otherwise() {
        let name = |n: &str| Name::parse(n).unwrap();
        let settings = ReconcileSettings {
            systems: HashMap::from([(
                "ledger".to_string(),
                SystemSettings {
                    mode: RemediationMode::RevokeUnapproved,
                    interval: Some(Duration::from_secs(60)),
                },
            )]),
            ..ReconcileSettings::default()
        };
        assert_eq!(
            settings.mode(&name("ledger")),
            RemediationMode::RevokeUnapproved
        );
        assert_eq!(settings.mode(&name("files")), RemediationMode::Report);
        assert_eq!(settings.interval(&name("files")), DEFAULT_INTERVAL);
        assert_eq!(settings.interval(&name("ledger")), Duration::from_secs(60));
    }
}
