//! `writ bench expiry`: many grants (100,000 by default, on the `local` connector) that all
//! end within one minute; `writ serve`'s expiry sweep and job runner revoke them, each proven
//! gone by a read-back. Prints how long after the last end every grant was verified removed,
//! and the expiry lag (end → verified removal) at p50 and p99.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use writ_connect::{LiveGrant, ProcessEnv, Registry};
use writ_core::execute::Executor;
use writ_core::runner::JobRunner;
use writ_core::{Clock, SystemClock};
use writ_domain::audit::Actor;
use writ_domain::{AccountKey, EntitlementKey, Timestamp};

use super::{Figure, ScratchStore, print_figures};
use crate::commands::serve::EXPIRY_SWEEP;

/// Entitlements on the target; every identity holds each of them.
const ENTITLEMENTS: usize = 100;

/// Options of `writ bench expiry`.
#[derive(Debug, clap::Args)]
pub struct ExpiryBenchArgs {
    /// A PostgreSQL admin URL; the bench creates and drops its own database there.
    #[arg(long, env = "WRIT_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Grants that end (a multiple of 100).
    #[arg(long, default_value_t = 100_000)]
    grants: usize,
    /// Seconds over which their ends are spread.
    #[arg(long, default_value_t = 60)]
    spread_secs: u64,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: ExpiryBenchArgs) -> anyhow::Result<()> {
    let identities = args.grants.div_ceil(ENTITLEMENTS);
    println!(
        "{} grants ({identities} identities x {ENTITLEMENTS} entitlements) on a local target without fsync, ending over {} s; expiry sweep every {} s",
        identities * ENTITLEMENTS,
        args.spread_secs,
        EXPIRY_SWEEP.as_secs()
    );
    let spread = Duration::from_secs(args.spread_secs);
    let mut figures = Vec::new();
    let sqlite = ScratchStore::sqlite().await?;
    figures.extend(measure("sqlite", &sqlite, identities, spread).await?);
    sqlite.remove().await?;
    if let Some(admin_url) = &args.postgres {
        let postgres = ScratchStore::postgres(admin_url).await?;
        figures.extend(measure("postgres", &postgres, identities, spread).await?);
        postgres.remove().await?;
    }
    print_figures(&figures);
    Ok(())
}

async fn measure(
    backend: &str,
    scratch: &ScratchStore,
    identities: usize,
    spread: Duration,
) -> anyhow::Result<Vec<Figure>> {
    let store = &scratch.store;
    let target_dir = tempfile::tempdir()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    writ_core::catalog::apply(
        &**store,
        &*clock,
        Actor::system("bench"),
        "bench.yaml",
        &catalog(target_dir.path(), identities),
        false,
    )
    .await?;
    let catalog = store.catalog().await?;
    let accounts: Vec<AccountKey> = catalog
        .identities
        .iter()
        .map(|i| AccountKey::parse(i.name.as_str()))
        .collect::<Result<_, _>>()?;
    let keys: Vec<EntitlementKey> = catalog.entitlements.iter().map(|e| e.key.clone()).collect();
    let target = writ_connect::local::LocalConnector::open(target_dir.path()).with_fsync(false);
    let memberships: Vec<LiveGrant> = accounts
        .iter()
        .flat_map(|account| {
            keys.iter().map(|entitlement| LiveGrant {
                account: account.clone(),
                entitlement: entitlement.clone(),
            })
        })
        .collect();
    let total = memberships.len();
    target.populate(accounts.clone(), memberships).await?;

    let first_end = Timestamp::now_utc().plus(Duration::from_secs(2));
    let last_end = first_end.plus(spread);
    let seed = writ_store::seed::ActiveGrants {
        requester: catalog.principals[0].id,
        system: catalog.systems[0].id,
        identities: catalog
            .identities
            .iter()
            .map(|i| i.id)
            .zip(accounts)
            .collect(),
        entitlements: catalog.entitlements.iter().map(|e| e.id).collect(),
        granted_at: Timestamp::now_utc(),
        first_end,
        last_end,
    };
    writ_store::seed::active_grants(&scratch.url, &seed).await?;

    let executor = Executor::new(
        store.clone(),
        Arc::new(Registry::new(ProcessEnv)),
        clock.clone(),
    );
    let revoker = executor.revoker().clone();
    let runner = JobRunner::new(store.clone(), executor, clock, "bench-expiry");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut runner_stop = stopped.clone();
    let jobs = tokio::spawn(async move {
        runner
            .run_until(Duration::from_millis(50), async move {
                let _ = runner_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let mut sweeper_stop = stopped;
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(EXPIRY_SWEEP);
        loop {
            tokio::select! {
                _ = tick.tick() => { revoker.sweep_expired().await?; }
                () = async { let _ = sweeper_stop.wait_for(|s| *s).await; } => return Ok::<_, anyhow::Error>(()),
            }
        }
    });

    let started = Instant::now();
    let lags = loop {
        // Polls sparingly: each poll reads every revoked grant.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let lags = store.expiry_lags(first_end).await?;
        if lags.len() >= total {
            break lags;
        }
        if started.elapsed() > spread + Duration::from_secs(600) {
            anyhow::bail!(
                "{backend}: only {} of {total} grants removed after 10 minutes past the last end",
                lags.len()
            );
        }
    };
    let done = Timestamp::now_utc();
    let _ = stop.send(true);
    jobs.await?;
    sweeper.await??;
    let live = count_live(&target).await?;
    if live != 0 {
        anyhow::bail!("{backend}: {live} memberships still live on the target");
    }
    let mut lags: Vec<Duration> = lags;
    lags.sort();
    let percentile = |p: f64| lags[((lags.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    Ok(vec![
        Figure {
            name: format!("{backend}_all_verified_removed_after_last_end"),
            value: done.since(last_end).as_secs_f64() * 1e3,
            unit: "ms",
        },
        Figure {
            name: format!("{backend}_expiry_lag_p50"),
            value: percentile(0.50),
            unit: "ms",
        },
        Figure {
            name: format!("{backend}_expiry_lag_p99"),
            value: percentile(0.99),
            unit: "ms",
        },
        Figure {
            name: format!("{backend}_expiry_lag_max"),
            value: percentile(1.0),
            unit: "ms",
        },
    ])
}

/// Memberships the target still shows.
async fn count_live(target: &writ_connect::local::LocalConnector) -> anyhow::Result<usize> {
    use futures_util::StreamExt;
    use writ_connect::Connector;
    let mut live = 0;
    let mut grants = target.list_grants();
    while let Some(grant) = grants.next().await {
        grant?;
        live += 1;
    }
    Ok(live)
}

/// One owner, `identities` service accounts and `ENTITLEMENTS` low-risk entitlements on a
/// `local` target without fsync.
fn catalog(target: &Path, identities: usize) -> String {
    let mut yaml = format!(
        "principals:\n\
         \x20 - {{external_id: alice, email: alice@bench.example, name: Alice, groups: [team]}}\n\
         systems:\n\
         \x20 - {{name: target, connector: local, owner: alice@bench.example, environment: development, \
         criticality: low, config: {{path: \"{}\", fsync: false}}}}\n\
         entitlements:\n",
        target.display()
    );
    for e in 0..ENTITLEMENTS {
        yaml.push_str(&format!(
            "  - {{system: target, key: e{e:03}, name: Entitlement {e}, risk: low, default_ttl: 1h, \
             max_ttl: 1d, owner: alice@bench.example}}\n"
        ));
    }
    yaml.push_str("identities:\n");
    for i in 0..identities {
        yaml.push_str(&format!(
            "  - {{name: svc-{i:06}, kind: service_account, owner: alice@bench.example, \
             team: team, purpose: bench, environment: development}}\n"
        ));
    }
    yaml
}
