//! `writ bench reconcile`: a generated `local` target with about a million live memberships
//! against about a million governed grants in a SQLite store, with 1% drift of every finding
//! kind injected at known places. The reconciliation itself runs in a child process (this
//! binary, `--measure`), so its peak memory is its own and not the set-up's; it reports wall
//! time, peak RSS (`VmHWM`) and findings by kind, which must equal the injected drift exactly.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use writ_connect::{LiveGrant, ProcessEnv, Registry};
use writ_core::reconcile::{ReconcileSettings, Reconciler};
use writ_core::requests::{Requests, Roles};
use writ_core::{Clock, SystemClock};
use writ_domain::audit::Actor;
use writ_domain::{AccountKey, EntitlementKey, FindingKind, Timestamp};
use writ_store::OpenMode;

use super::{Figure, ScratchStore, print_figures};

/// Governed entitlements every identity holds (`e000`…).
const ENTITLEMENTS: usize = 100;
/// Identity prefix; accounts carry the same names.
const PREFIX: &str = "svc-";

/// Options of `writ bench reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileBenchArgs {
    /// Governed grants of the `e…` entitlements (a multiple of 100); live memberships are about
    /// as many.
    #[arg(long, default_value_t = 1_000_000)]
    grants: usize,
    /// Run one reconciliation of the store at this URL and print what it measured (the child
    /// process of the benchmark).
    #[arg(long, hide = true)]
    measure: Option<String>,
    /// Set up in this directory (once) and keep it, to measure again without setting up
    /// (later runs find the findings of the first already recorded).
    #[arg(long, hide = true)]
    keep: Option<std::path::PathBuf>,
}

/// Where the injected drift is: the same rule writes the store and the target.
#[derive(Debug, Clone, Copy)]
struct Drift {
    identities: usize,
}

impl Drift {
    fn spread(identity: usize, entitlement: usize) -> u64 {
        ((identity * ENTITLEMENTS + entitlement) as u64).wrapping_mul(2_654_435_761) % 100
    }

    /// An active grant the target does not show (never on `e000`, which the SoD rule uses).
    fn missing(identity: usize, entitlement: usize) -> bool {
        entitlement > 0 && Self::spread(identity, entitlement) == 1
    }

    /// A revoked grant the target still shows.
    fn orphaned(identity: usize, entitlement: usize) -> bool {
        entitlement > 0 && Self::spread(identity, entitlement) == 2
    }

    /// Identities holding `x000` live without a grant, holding `x001` with one (breaking the
    /// SoD rule with `e000`), and live accounts nobody owns: 1% of the grants each.
    fn per_kind(&self) -> usize {
        self.identities * ENTITLEMENTS / 100
    }

    /// The grant status of identity `i`'s grant of entitlement index `e` (`e000`… then `x000`,
    /// `x001`).
    fn grant(&self, i: usize, e: usize) -> Option<&'static str> {
        match e {
            e if e < ENTITLEMENTS && Self::orphaned(i, e) => Some("revoked"),
            e if e < ENTITLEMENTS => Some("active"),
            e if e == ENTITLEMENTS + 1 && i < self.per_kind() => Some("active"),
            _ => None,
        }
    }

    fn expected(&self) -> BTreeMap<FindingKind, u64> {
        let (mut missing, mut orphaned) = (0, 0);
        for i in 0..self.identities {
            for e in 0..ENTITLEMENTS {
                missing += u64::from(Self::missing(i, e));
                orphaned += u64::from(Self::orphaned(i, e));
            }
        }
        let n = self.per_kind() as u64;
        BTreeMap::from([
            (FindingKind::UnapprovedAccess, n),
            (FindingKind::OrphanedAccess, orphaned),
            (FindingKind::MissingAccess, missing),
            (FindingKind::UnownedAccount, n),
            (FindingKind::SodViolation, n),
        ])
    }

    /// Every live membership, generated lazily.
    fn live(self) -> impl Iterator<Item = LiveGrant> + Send + 'static {
        let key = |text: String| EntitlementKey::parse(&text).ok();
        let keys: Vec<EntitlementKey> = (0..ENTITLEMENTS)
            .map(|e| format!("e{e:03}"))
            .chain(["x000".to_string(), "x001".to_string()])
            .filter_map(key)
            .collect();
        let per_kind = self.per_kind();
        (0..self.identities).flat_map(move |i| {
            let account = account(i);
            let keys = keys.clone();
            (0..ENTITLEMENTS + 2).filter_map(move |e| {
                let live = match e {
                    e if e < ENTITLEMENTS => !Self::missing(i, e),
                    _ => i < per_kind,
                };
                live.then(|| LiveGrant {
                    account: account.clone(),
                    entitlement: keys[e].clone(),
                })
            })
        })
    }
}

fn account(i: usize) -> AccountKey {
    // Digits and a known prefix: always a valid key.
    AccountKey::parse(&format!("{PREFIX}{i:07}")).unwrap_or_else(|_| unreachable!())
}

/// Runs the benchmark (or, with `--measure`, one measured reconciliation).
pub async fn run(args: ReconcileBenchArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.measure {
        return measure(url).await;
    }
    let drift = Drift {
        identities: args.grants.div_ceil(ENTITLEMENTS),
    };
    let expected = drift.expected();
    println!(
        "{} governed grants of {ENTITLEMENTS} entitlements ({} identities) on a local target without fsync, SQLite store (WAL, synchronous=FULL); injected drift: {}",
        drift.identities * ENTITLEMENTS,
        drift.identities,
        expected
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (scratch, _target_dir, url) = match &args.keep {
        None => {
            let scratch = ScratchStore::sqlite().await?;
            let target_dir = tempfile::tempdir()?;
            let setup = Instant::now();
            seed(&scratch.store, &scratch.url, target_dir.path(), drift).await?;
            println!("set up in {:.1} s", setup.elapsed().as_secs_f64());
            let url = scratch.url.clone();
            (Some(scratch), Some(target_dir), url)
        }
        Some(dir) => {
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            if !dir.join("bench.db").exists() {
                std::fs::create_dir_all(dir)?;
                let (store, _) = writ_store::open(&url, OpenMode::Migrate).await?;
                let setup = Instant::now();
                seed(&store, &url, &dir.join("target"), drift).await?;
                println!("set up in {:.1} s", setup.elapsed().as_secs_f64());
            }
            (None, None, url)
        }
    };

    let exe = std::env::current_exe()?;
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args(["bench", "reconcile", "--measure", &url])
            .output()
    })
    .await?
    .context("running the measured reconciliation")?;
    if !child.status.success() {
        bail!(
            "the measured reconciliation failed: {}",
            String::from_utf8_lossy(&child.stderr)
        );
    }
    let stdout = String::from_utf8(child.stdout)?;
    let measured: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .context("the measured reconciliation printed nothing")?,
    )?;
    let found: BTreeMap<FindingKind, u64> = serde_json::from_value(measured["findings"].clone())?;
    let mut figures = vec![
        Figure {
            name: "live_grants".into(),
            value: measured["live_grants"].as_f64().unwrap_or(0.0),
            unit: "grants",
        },
        Figure {
            name: "governed_grants".into(),
            value: (drift.identities * ENTITLEMENTS + drift.per_kind()) as f64,
            unit: "grants",
        },
        Figure {
            name: "reconcile_wall".into(),
            value: measured["wall_ms"].as_f64().unwrap_or(0.0),
            unit: "ms",
        },
        Figure {
            name: "reconcile_peak_rss".into(),
            value: measured["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            unit: "MiB",
        },
    ];
    for kind in FindingKind::ALL {
        figures.push(Figure {
            name: format!("findings_{kind}"),
            value: found.get(kind).copied().unwrap_or(0) as f64,
            unit: "findings",
        });
    }
    if let Some(scratch) = scratch {
        scratch.remove().await?;
    }
    if found != expected {
        print_figures(&figures);
        bail!("findings {found:?} differ from the injected drift {expected:?}");
    }
    figures.push(Figure {
        name: "findings_equal_injected_drift".into(),
        value: 1.0,
        unit: "bool",
    });
    print_figures(&figures);
    Ok(())
}

/// Writes the catalog, the governed state and the live target.
async fn seed(
    store: &Arc<dyn writ_store::Store>,
    url: &str,
    target: &Path,
    drift: Drift,
) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    writ_core::catalog::apply(
        &**store,
        &*clock,
        Actor::system("bench"),
        "bench.yaml",
        &catalog(target),
        false,
    )
    .await?;
    let catalog = store.catalog().await?;
    let mut entitlements = catalog.entitlements.clone();
    entitlements.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    let now = Timestamp::now_utc();
    let state = writ_store::seed::GovernedState {
        owner: catalog.principals[0].id,
        system: catalog.systems[0].id,
        identities: drift.identities,
        prefix: PREFIX.into(),
        entitlements: entitlements.iter().map(|e| e.id).collect(),
        granted_at: now,
        expires_at: now.plus(Duration::from_secs(86_400)),
    };
    let path = match writ_store::DatabaseUrl::parse(url)? {
        writ_store::DatabaseUrl::Sqlite(path) => path,
        writ_store::DatabaseUrl::Postgres(_) => bail!("the reconcile bench seeds SQLite only"),
    };
    tokio::task::spawn_blocking(move || {
        writ_store::seed::sqlite_governed_state(&path, &state, |i, e| drift.grant(i, e))
    })
    .await??;
    let local = writ_connect::local::LocalConnector::open(target).with_fsync(false);
    let unowned = drift.per_kind();
    let accounts = (0..drift.identities)
        .map(account)
        .chain((0..unowned).filter_map(|j| AccountKey::parse(&format!("rogue-{j:07}")).ok()));
    local.populate(accounts, drift.live()).await?;
    Ok(())
}

/// One owner, the `local` target, entitlements `e000`… plus `x000` (live without grants) and
/// `x001` (with `e000`, a separation-of-duties breach).
fn catalog(target: &Path) -> String {
    let mut yaml = format!(
        "principals:\n\
         \x20 - {{external_id: alice, email: alice@bench.example, name: Alice, groups: [team]}}\n\
         systems:\n\
         \x20 - {{name: target, connector: local, owner: alice@bench.example, environment: development, \
         criticality: low, config: {{path: \"{}\", fsync: false}}}}\n\
         entitlements:\n",
        target.display()
    );
    let keys = (0..ENTITLEMENTS)
        .map(|e| format!("e{e:03}"))
        .chain(["x000".to_string(), "x001".to_string()]);
    for key in keys {
        yaml.push_str(&format!(
            "  - {{system: target, key: {key}, name: Entitlement {key}, risk: low, default_ttl: 1d, \
             max_ttl: 7d, owner: alice@bench.example}}\n"
        ));
    }
    yaml.push_str(
        "sod_rules:\n  - {name: no-e000-with-x001, entitlements: [\"target:e000\", \"target:x001\"], \
         scope: identity, severity: high}\n",
    );
    yaml
}

/// One reconciliation of the store at `url`, measured from the inside.
async fn measure(url: &str) -> anyhow::Result<()> {
    let (store, _) = writ_store::open(url, OpenMode::Existing).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let requests = Requests::new(
        store.clone(),
        Arc::new(crate::config::load_policies(None)?),
        clock.clone(),
        Roles::default(),
    );
    let reconciler = Reconciler::new(
        store.clone(),
        Arc::new(Registry::new(ProcessEnv)),
        clock,
        requests,
        ReconcileSettings::default(),
    );
    // Only the system: the whole catalog would load every identity into this process, whose
    // peak memory is what is measured.
    let system = store
        .system_named("target")
        .await?
        .context("the bench store has no system `target`")?;
    let started = Instant::now();
    let reconciled = reconciler.reconcile(&system, &|_| {}).await?;
    let wall = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")?;
    println!(
        "{}",
        serde_json::json!({
            "wall_ms": wall.as_secs_f64() * 1e3,
            "peak_rss_kib": peak_kib,
            "live_grants": reconciled.run.live_grants,
            "traced_grants": reconciled.run.traced_grants,
            "findings": reconciled.run.findings,
        })
    );
    Ok(())
}
