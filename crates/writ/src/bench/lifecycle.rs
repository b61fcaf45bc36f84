//! `writ bench lifecycle`: full grant lifecycles — submit, approve, execute, verify — on the
//! `local` connector, with 1 and 8 concurrent submitters, beside the raw commit rate of the
//! same store for the same number of transactions.

use std::sync::Arc;
use std::time::Instant;

use writ_connect::{ProcessEnv, Registry};
use writ_core::execute::Executor;
use writ_core::requests::{Decide, NewRequest, Requests, Roles};
use writ_core::runner::JobRunner;
use writ_core::{Clock, SystemClock};
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_domain::{ApprovalDecision, RequestKind, Timestamp};
use writ_store::Store;

use super::{Figure, ScratchStore, print_figures};

/// Transactions one lifecycle commits: submit, approval, claim, begin execution, finish
/// execution, job completion.
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
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: LifecycleBenchArgs) -> anyhow::Result<()> {
    println!(
        "durability: SQLite WAL synchronous=FULL; PostgreSQL synchronous_commit=on; local target without fsync"
    );
    let mut figures = Vec::new();
    for submitters in [1, 8] {
        let sqlite = ScratchStore::sqlite().await?;
        figures.extend(measure("sqlite", &sqlite.store, submitters, args.lifecycles).await?);
        sqlite.remove().await?;
        if let Some(admin_url) = &args.postgres {
            let postgres = ScratchStore::postgres(admin_url).await?;
            figures
                .extend(measure("postgres", &postgres.store, submitters, args.lifecycles).await?);
            postgres.remove().await?;
        }
    }
    print_figures(&figures);
    Ok(())
}

async fn measure(
    backend: &str,
    store: &Arc<dyn Store>,
    submitters: usize,
    lifecycles: usize,
) -> anyhow::Result<Vec<Figure>> {
    let target = tempfile::tempdir()?;
    let local = writ_connect::local::LocalConnector::open(target.path()).with_fsync(false);
    local.init().await?;
    local.declare_entitlement(&"viewer".parse()?).await?;
    let identities = (0..submitters)
        .map(|i| {
            format!(
                "  - {{name: svc-{i}, kind: service_account, owner: alice@bench.example, team: team, \
                 purpose: bench, environment: development}}\n"
            )
        })
        .collect::<String>();
    let catalog = format!(
        "principals:\n\
         \x20 - {{external_id: alice, email: alice@bench.example, name: Alice, groups: [team]}}\n\
         \x20 - {{external_id: carol, email: carol@bench.example, name: Carol, groups: [team]}}\n\
         systems:\n\
         \x20 - {{name: target, connector: local, owner: alice@bench.example, environment: development, \
         criticality: low, config: {{path: \"{}\", fsync: false}}}}\n\
         entitlements:\n\
         \x20 - {{system: target, key: viewer, name: Viewer, risk: low, default_ttl: 1h, max_ttl: 1d, \
         owner: alice@bench.example}}\n\
         identities:\n{identities}",
        target.path().display()
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    writ_core::catalog::apply(
        &**store,
        &*clock,
        Actor::system("bench"),
        "bench.yaml",
        &catalog,
        false,
    )
    .await?;
    let snapshot = store.catalog().await?;
    let email = |e: &str| {
        snapshot
            .principals
            .iter()
            .find(|p| p.email.as_str() == e)
            .map(|p| p.id)
    };
    let (Some(alice), Some(carol)) = (email("alice@bench.example"), email("carol@bench.example"))
    else {
        anyhow::bail!("bench catalog has no alice or carol");
    };
    let entitlement = snapshot.entitlements[0].id;
    let policy =
        Arc::new(writ_policy::PolicyEngine::load(None).map_err(|e| anyhow::anyhow!("{e}"))?);
    let requests = Requests::new(store.clone(), policy, clock.clone(), Roles::default());
    let executor = Executor::new(
        store.clone(),
        Arc::new(Registry::new(ProcessEnv)),
        clock.clone(),
    );
    let runner = JobRunner::new(store.clone(), executor, clock.clone(), "bench");

    eprintln!("{backend}: {lifecycles} lifecycles, {submitters} submitter(s)");
    let started = Instant::now();
    let per_submitter = lifecycles / submitters;
    let submit_tasks: Vec<_> = snapshot
        .identities
        .iter()
        .map(|identity| {
            let requests = requests.clone();
            let identity = identity.id;
            tokio::spawn(async move {
                for _ in 0..per_submitter {
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
                            approver: alice,
                            request: request.id,
                            decision: ApprovalDecision::Approve,
                            reason: None,
                            plan_hash: request
                                .plan_hash
                                .unwrap_or_else(|| writ_domain::PlanHash::from_bytes([0; 32])),
                        })
                        .await?;
                }
                Ok::<_, writ_core::CoreError>(())
            })
        })
        .collect();
    let total = per_submitter * submitters;
    let mut done = 0;
    let mut submitting = submit_tasks;
    while done < total {
        let ran = runner.run_once().await?;
        done += ran;
        if ran == 0 {
            if submitting.iter().all(|t| t.is_finished()) && runner.run_once().await? == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    for task in submitting.drain(..) {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let lifecycles_per_s = done as f64 / elapsed;

    let transactions = done * TRANSACTIONS_PER_LIFECYCLE;
    eprintln!("{backend}: raw commit rate over {transactions} transactions");
    let started = Instant::now();
    for n in 0..transactions {
        let event =
            NewAuditEvent::new(Timestamp::now_utc(), Actor::system("bench"), "bench.commit")
                .data(serde_json::json!({ "n": n }));
        store.append_audit(vec![event]).await?;
    }
    let raw_per_s = transactions as f64 / started.elapsed().as_secs_f64();
    let lifecycle_tx_per_s = lifecycles_per_s * TRANSACTIONS_PER_LIFECYCLE as f64;
    Ok(vec![
        Figure {
            name: format!("{backend}_{submitters}_submitters_lifecycles_per_s"),
            value: lifecycles_per_s,
            unit: "1/s",
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
    ])
}
