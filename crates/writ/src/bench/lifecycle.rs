//! `writ bench lifecycle`: full grant lifecycles — submit, approve, execute, verify — on the
//! `local` connector, with 1 and 8 concurrent submitters, beside the raw commit rate of the
//! same store for the same number of transactions.
//!
//! Each lifecycle grants one entitlement to a service account of its own (ten to an owner,
//! who approves), through the real use cases and a real [`JobRunner`] working beside the
//! submitters; a submitter wakes the runner when its decision queues a job, as the server
//! does. The clock stops when every job has run; every request is then checked fulfilled.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use writ_connect::{ProcessEnv, Registry};
use writ_core::execute::Executor;
use writ_core::requests::{Decide, NewRequest, Requests, Roles};
use writ_core::runner::JobRunner;
use writ_core::{Clock, SystemClock};
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_domain::{ApprovalDecision, RequestId, RequestKind, RequestStatus, Timestamp};
use writ_store::Store;

use super::{Figure, ScratchStore, print_figures};

/// Transactions one lifecycle commits: submit, approval, claim, begin execution, finish
/// execution, job completion (a claim may take several jobs, so slightly fewer in practice).
const TRANSACTIONS_PER_LIFECYCLE: usize = 6;

/// Options of `writ bench lifecycle`.
#[derive(Debug, clap::Args)]
pub struct LifecycleBenchArgs {
    /// A PostgreSQL admin URL; the bench creates and drops its own database there.
    #[arg(long, env = "WRIT_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Lifecycles per run.
    #[arg(long, default_value_t = 1_000)]
    lifecycles: usize,
    /// Where the `local` target's files go (default: /dev/shm where it exists, else the
    /// temporary directory).
    #[arg(long)]
    target_dir: Option<std::path::PathBuf>,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: LifecycleBenchArgs) -> anyhow::Result<()> {
    println!(
        "durability: SQLite WAL synchronous=FULL; PostgreSQL synchronous_commit=on; \
         local target without fsync, in memory where /dev/shm is (--target-dir)"
    );
    let mut figures = Vec::new();
    for submitters in [1, 8] {
        let sqlite = ScratchStore::sqlite().await?;
        figures.extend(measure("sqlite", &sqlite.store, submitters, &args).await?);
        sqlite.remove().await?;
        if let Some(admin_url) = &args.postgres {
            let postgres = ScratchStore::postgres(admin_url).await?;
            figures.extend(measure("postgres", &postgres.store, submitters, &args).await?);
            postgres.remove().await?;
        }
    }
    print_figures(&figures);
    Ok(())
}

/// Identities per owner in the generated catalog.
const IDENTITIES_PER_OWNER: usize = 10;

/// How often the runner looks for jobs when nobody wakes it (as `writ serve` does).
const POLL: Duration = Duration::from_millis(500);

/// A catalog of `identities` service accounts (ten to an owner, all in carol's team), one
/// low-risk entitlement on a `local` target, no SoD rules.
fn catalog(target: &Path, identities: usize) -> String {
    let mut yaml = String::from(
        "principals:\n\
         \x20 - {external_id: alice, email: alice@bench.example, name: Alice, groups: [team]}\n\
         \x20 - {external_id: carol, email: carol@bench.example, name: Carol, groups: [team]}\n",
    );
    for owner in 0..identities.div_ceil(IDENTITIES_PER_OWNER) {
        yaml.push_str(&format!(
            "  - {{external_id: owner-{owner}, email: owner-{owner}@bench.example, \
             name: Owner {owner}, groups: [team]}}\n"
        ));
    }
    yaml.push_str(&format!(
        "systems:\n\
         \x20 - {{name: target, connector: local, owner: alice@bench.example, environment: development, \
         criticality: low, config: {{path: \"{}\", fsync: false}}}}\n\
         entitlements:\n\
         \x20 - {{system: target, key: viewer, name: Viewer, risk: low, default_ttl: 1h, max_ttl: 1d, \
         owner: alice@bench.example}}\n\
         identities:\n",
        target.display()
    ));
    for i in 0..identities {
        let owner = i / IDENTITIES_PER_OWNER;
        yaml.push_str(&format!(
            "  - {{name: svc-{i}, kind: service_account, owner: owner-{owner}@bench.example, \
             team: team, purpose: bench, environment: development}}\n"
        ));
    }
    yaml
}

/// Fails unless every request ended fulfilled (read after the clock stopped).
async fn check_fulfilled(store: &Arc<dyn Store>, ids: &[RequestId]) -> anyhow::Result<()> {
    for id in ids {
        let status = store.request(*id).await?.map(|(r, _)| r.status);
        if status != Some(RequestStatus::Fulfilled) {
            anyhow::bail!("request {id} ended {status:?}, not fulfilled");
        }
    }
    Ok(())
}

/// Commits `transactions` single-event audit appends from `committers` concurrent tasks, one
/// after another within each; returns commits per second.
async fn raw_commits(
    store: &Arc<dyn Store>,
    transactions: usize,
    committers: usize,
) -> anyhow::Result<f64> {
    let each = transactions.div_ceil(committers);
    let started = Instant::now();
    let tasks: Vec<_> = (0..committers)
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..each {
                    let event = NewAuditEvent::new(
                        Timestamp::now_utc(),
                        Actor::system("bench"),
                        "bench.commit",
                    )
                    .data(serde_json::json!({ "committer": c, "n": n }));
                    store.append_audit(vec![event]).await?;
                }
                Ok::<_, writ_store::StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok((each * committers) as f64 / started.elapsed().as_secs_f64())
}

async fn measure(
    backend: &str,
    store: &Arc<dyn Store>,
    submitters: usize,
    args: &LifecycleBenchArgs,
) -> anyhow::Result<Vec<Figure>> {
    let lifecycles = args.lifecycles;
    let target = super::target_dir(args.target_dir.as_deref())?;
    let local = writ_connect::local::LocalConnector::open(target.path()).with_fsync(false);
    local.init().await?;
    local.declare_entitlement(&"viewer".parse()?).await?;
    let per_submitter = lifecycles.div_ceil(submitters);
    let lifecycles = per_submitter * submitters;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    writ_core::catalog::apply(
        &**store,
        &*clock,
        Actor::system("bench"),
        "bench.yaml",
        &catalog(target.path(), lifecycles),
        false,
    )
    .await?;
    let snapshot = store.catalog().await?;
    let Some(carol) = snapshot
        .principals
        .iter()
        .find(|p| p.email.as_str() == "carol@bench.example")
        .map(|p| p.id)
    else {
        anyhow::bail!("bench catalog has no carol");
    };
    let entitlement = snapshot.entitlements[0].id;
    // Each lifecycle grants the entitlement to an identity of its own, approved by its owner.
    let mut identities: Vec<_> = snapshot
        .identities
        .iter()
        .map(|i| (i.name.as_str().to_string(), i.id, i.owner))
        .collect();
    identities.sort_by_key(|(name, _, _)| {
        name.trim_start_matches("svc-")
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    });
    let policy =
        Arc::new(writ_policy::PolicyEngine::load(None).map_err(|e| anyhow::anyhow!("{e}"))?);
    let requests = Requests::new(store.clone(), policy, clock.clone(), Roles::default());
    let executor = Executor::new(
        store.clone(),
        Arc::new(Registry::new(ProcessEnv)),
        clock.clone(),
    );
    let runner = JobRunner::new(store.clone(), executor, clock.clone(), "bench");
    let wake = runner.waker();

    eprintln!("{backend}: {lifecycles} lifecycles, {submitters} submitter(s)");
    let cpu_before = super::cpu::process_cpu()?;
    let started = Instant::now();
    let submit_tasks: Vec<_> = (0..submitters)
        .map(|s| {
            let requests = requests.clone();
            let wake = wake.clone();
            let mine: Vec<_> = identities
                .iter()
                .skip(s)
                .step_by(submitters)
                .map(|(_, id, owner)| (*id, *owner))
                .collect();
            tokio::spawn(async move {
                let mut submitted = Vec::with_capacity(mine.len());
                for (identity, owner) in mine {
                    let request = requests
                        .submit(NewRequest {
                            requester: carol,
                            kind: RequestKind::Grant,
                            identity,
                            entitlement: Some(entitlement),
                            justification: String::new(),
                            ttl: None,
                            end: None,
                            external_ref: None,
                            new_owner: None,
                        })
                        .await?
                        .request;
                    requests
                        .decide(Decide {
                            approver: owner,
                            request: request.id,
                            decision: ApprovalDecision::Approve,
                            reason: None,
                            plan_hash: request
                                .plan_hash
                                .unwrap_or_else(|| writ_domain::PlanHash::from_bytes([0; 32])),
                        })
                        .await?;
                    // What `writ serve` does when a decision queues a job: wake the runner.
                    wake.notify_one();
                    submitted.push(request.id);
                }
                Ok::<_, writ_core::CoreError>(submitted)
            })
        })
        .collect();
    let (done, submitters_done) = tokio::sync::oneshot::channel::<()>();
    let submitted = async {
        let mut ids = Vec::with_capacity(lifecycles);
        let mut outcome = Ok(());
        for task in submit_tasks {
            match task.await {
                Ok(Ok(mine)) => ids.extend(mine),
                Ok(Err(err)) => outcome = Err(anyhow::Error::from(err)),
                Err(err) => outcome = Err(err.into()),
            }
        }
        drop(done);
        outcome.map(|()| ids)
    };
    // The runner works beside the submitters until they are done, then drains what is left.
    let (ids, ()) = tokio::join!(
        submitted,
        runner.run_until(POLL, async {
            let _ = submitters_done.await;
        })
    );
    let ids = ids?;
    while runner.run_once().await? > 0 {}
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = super::cpu::process_cpu()?.saturating_sub(cpu_before);
    let lifecycles_per_s = ids.len() as f64 / elapsed;
    check_fulfilled(store, &ids).await?;

    let transactions = ids.len() * TRANSACTIONS_PER_LIFECYCLE;
    eprintln!("{backend}: raw commit rate over {transactions} transactions");
    let raw_per_s = raw_commits(store, transactions, 1).await?;
    let lifecycle_tx_per_s = lifecycles_per_s * TRANSACTIONS_PER_LIFECYCLE as f64;
    let mut figures = vec![
        Figure {
            name: format!("{backend}_{submitters}_submitters_lifecycles_per_s"),
            value: lifecycles_per_s,
            unit: "1/s",
        },
        Figure {
            // What bounds the rate on two cores (docs/performance.md): the store included, as
            // SQLite runs in this process.
            name: format!("{backend}_{submitters}_submitters_cpu_per_lifecycle"),
            value: cpu.as_micros() as f64 / ids.len() as f64,
            unit: "µs",
        },
        Figure {
            name: format!("{backend}_{submitters}_submitters_raw_commits_per_s"),
            value: raw_per_s,
            unit: "tx/s",
        },
        Figure {
            name: format!("{backend}_{submitters}_submitters_share_of_raw_commit_rate"),
            value: 100.0 * lifecycle_tx_per_s / raw_per_s,
            unit: "%",
        },
    ];
    if submitters > 1 {
        // The same transactions from as many concurrent committers as there were submitters:
        // what the store commits when its writes can share commits.
        let concurrent = raw_commits(store, transactions, submitters).await?;
        figures.extend([
            Figure {
                name: format!(
                    "{backend}_{submitters}_submitters_raw_commits_per_s_{submitters}_committers"
                ),
                value: concurrent,
                unit: "tx/s",
            },
            Figure {
                name: format!(
                    "{backend}_{submitters}_submitters_share_of_raw_commit_rate_{submitters}_committers"
                ),
                value: 100.0 * lifecycle_tx_per_s / concurrent,
                unit: "%",
            },
        ]);
    }
    Ok(figures)
}
