//! `writ serve`

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use writ_connect::{ProcessEnv, Registry};
use writ_core::campaigns::Campaigns;
use writ_core::evidence::{Bundles, Checkpointer};
use writ_core::execute::Executor;
use writ_core::outbox::OutboxWorker;
use writ_core::requests::Requests;
use writ_core::revoke::Revoker;
use writ_core::rotate::Reveal;
use writ_core::runner::JobRunner;
use writ_core::tokens::Tokens;
use writ_core::{Clock, SystemClock};
use writ_server::AppState;
use writ_servicedesk::events::WebhookSender;
use writ_servicedesk::generic::GenericDesk;
use writ_servicedesk::jira::JiraDesk;
use writ_servicedesk::servicenow::ServiceNowDesk;
use writ_store::{OpenMode, redact};

use crate::config::{CheckpointSchedule, Config};

/// Opens (and migrates) the store, then serves HTTP until SIGINT or SIGTERM.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    run_with(config, config.portal(), |addr| {
        println!(
            "writ {} listening on http://{addr}",
            env!("CARGO_PKG_VERSION")
        );
    })
    .await
}

/// Like [`run`], with this portal set-up; `ready` is called once the address is bound.
pub async fn run_with(
    config: &Config,
    portal: writ_server::PortalConfig,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    // An invalid policy set refuses to start: nothing may be decided by half a policy.
    let policy = Arc::new(config.policy_engine().context("refusing to start")?);
    let (store, status) = super::open_store(config, OpenMode::Migrate).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on `{}`", config.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(
        %addr,
        store = %redact(&config.database_url),
        schema = status.latest,
        policy_set = %policy.policy_set_hash(),
        version = env!("CARGO_PKG_VERSION"),
        "writ is serving"
    );
    ready(addr);

    // One signal stops both the HTTP server and the job runner.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut executor = Executor::new(
        store.clone(),
        Arc::new(Registry::new(ProcessEnv)),
        clock.clone(),
    );
    // Without a secret key, rotations are refused at submission with a message saying so.
    let sealer = config.sealer().context("refusing to start")?;
    if let Some(sealer) = &sealer {
        executor = executor.with_sealer(sealer.clone());
    }
    let worker = format!("{}-{}", addr, std::process::id());
    let requests = Requests::new(store.clone(), policy, clock.clone(), config.roles.clone())
        .with_sla(config.sla)
        .with_handover_grace(config.handover_grace);
    // Without a signing key, no checkpoints are signed; `audit verify` still checks the chain.
    let checkpointer = config
        .checkpoint_signer()
        .context("refusing to start")?
        .map(|signer| Checkpointer::new(store.clone(), signer, clock.clone()));
    let checkpoints = match checkpointer.clone() {
        Some(checkpointer) => Some(tokio::spawn(checkpoint_until(
            checkpointer,
            config.checkpoints,
            stopped.clone(),
        ))),
        None => {
            tracing::warn!("no audit_signing_key_file: audit checkpoints are not signed");
            None
        }
    };
    let campaigns = Campaigns::new(
        store.clone(),
        requests.clone(),
        clock.clone(),
        config.roles.clone(),
    )
    .with_remind_before(config.campaigns.remind_before)
    .with_escalation_grace(config.campaigns.escalation_grace);
    let state = AppState {
        store: store.clone(),
        clock: clock.clone(),
        requests: requests.clone(),
        campaigns: campaigns.clone(),
        reveal: Reveal::new(store.clone(), clock.clone(), sealer),
        tokens: Tokens::new(store.clone(), clock.clone(), config.roles.clone()),
        bundles: Bundles::new(store.clone(), checkpointer.clone()),
        portal,
        webhooks: config.servicedesk.clone(),
    };
    let revoker = executor.revoker().clone();
    let reconciler = writ_core::reconcile::Reconciler::new(
        store.clone(),
        Arc::new(Registry::new(ProcessEnv)),
        clock.clone(),
        requests.clone(),
        config.reconcile.clone(),
    );
    let reconciling = tokio::spawn(reconcile_until(reconciler.clone(), stopped.clone()));
    let campaigning = tokio::spawn(campaign_sweep_until(campaigns, stopped.clone()));
    let sweeper = tokio::spawn(sweep_until(requests, revoker, stopped.clone()));
    let runner = JobRunner::new(store.clone(), executor, clock.clone(), worker)
        .with_reconciler(reconciler.clone());
    let mut runner_stop = stopped.clone();
    let jobs = tokio::spawn(async move {
        runner
            .run_until(JOB_POLL, async move {
                let _ = runner_stop.wait_for(|stop| *stop).await;
            })
            .await;
    });
    let outbox = outbox_worker(config, store.clone(), clock.clone());
    let mut outbox_stop = stopped.clone();
    let delivering = tokio::spawn(async move {
        outbox
            .run_until(OUTBOX_POLL, async move {
                let _ = outbox_stop.wait_for(|stop| *stop).await;
            })
            .await;
    });
    let mut server_stop = stopped;
    let mut server = tokio::spawn(writ_server::serve(listener, state, async move {
        let _ = server_stop.wait_for(|stop| *stop).await;
    }));
    let served = tokio::select! {
        result = &mut server => result,
        () = shutdown_signal() => {
            tracing::info!("shutting down: draining requests and the job in hand");
            let _ = stop.send(true);
            server.await
        }
    };
    let _ = stop.send(true);
    let _ = jobs.await;
    let _ = delivering.await;
    let _ = sweeper.await;
    let _ = campaigning.await;
    if let Some(checkpoints) = checkpoints {
        let _ = checkpoints.await;
    }
    let _ = reconciling.await;
    served
        .context("server task failed")?
        .context("server failed")?;
    tracing::info!("writ stopped");
    Ok(())
}

/// How often the job runner looks for due jobs when it has nothing to do.
const JOB_POLL: Duration = Duration::from_millis(500);
/// How often pending requests are checked against their approval SLA.
const SLA_SWEEP: Duration = Duration::from_secs(60);
/// How often grants are checked for an end that has come; bounds the expiry lag.
pub(crate) const EXPIRY_SWEEP: Duration = Duration::from_secs(1);

/// How often systems are checked for a reconciliation due (each has its own interval).
const RECONCILE_SWEEP: Duration = Duration::from_secs(60);

/// Reconciles every system whose interval has passed, checking every minute, until `stop`
/// turns true; a reconciliation in hand finishes first.
async fn reconcile_until(
    reconciler: writ_core::reconcile::Reconciler,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut due = tokio::time::interval(RECONCILE_SWEEP);
    loop {
        tokio::select! {
            _ = due.tick() => match reconciler.run_due().await {
                Ok(done) => {
                    for reconciled in done {
                        tracing::info!(
                            system = %reconciled.system,
                            live_grants = reconciled.run.live_grants,
                            integrity = reconciled.run.integrity(),
                            opened = reconciled.run.opened,
                            resolved = reconciled.run.resolved,
                            remediations = reconciled.remediations.len(),
                            "reconciled"
                        );
                    }
                }
                Err(err) => tracing::error!(error = %err, "reconciliation sweep failed; retrying"),
            },
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => return,
        }
    }
}

/// Escalates or expires overdue requests, hands departed owners' identities over, and starts
/// the expiry of grants whose end has come, each on its own period, until `stop` turns true.
async fn sweep_until(
    requests: Requests,
    revoker: Revoker,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut overdue = tokio::time::interval(SLA_SWEEP);
    let mut expiring = tokio::time::interval(EXPIRY_SWEEP);
    let mut departures = tokio::time::interval(SLA_SWEEP);
    loop {
        tokio::select! {
            _ = overdue.tick() => match requests.sweep_overdue().await {
                Ok(swept) if swept.escalated + swept.expired + swept.reviews_escalated > 0 => {
                    tracing::info!(
                        escalated = swept.escalated,
                        expired = swept.expired,
                        reviews_escalated = swept.reviews_escalated,
                        "overdue requests and reviews handled"
                    )
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "overdue sweep failed; retrying"),
            },
            _ = departures.tick() => {
                match requests.hand_over_departed().await {
                    Ok(handovers) if !handovers.is_empty() => {
                        tracing::info!(identities = handovers.len(), "departed owners' identities handed over")
                    }
                    Ok(_) => {}
                    Err(err) => tracing::error!(error = %err, "hand-over of departed owners' identities failed; retrying"),
                }
                match requests.suspend_unclaimed().await {
                    Ok(0) => {}
                    Ok(queued) => tracing::info!(identities = queued, "unclaimed identities being suspended"),
                    Err(err) => tracing::error!(error = %err, "suspension of unclaimed identities failed; retrying"),
                }
            }
            _ = expiring.tick() => match revoker.sweep_expired().await {
                Ok(0) => {}
                Ok(started) => tracing::info!(started, "grant expiries started"),
                Err(err) => tracing::error!(error = %err, "expiry sweep failed; retrying"),
            },
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => return,
        }
    }
}

/// How often campaigns are checked for reminders, items past due and recurrences.
const CAMPAIGN_SWEEP: Duration = Duration::from_secs(60);

/// Runs the campaigns' deadline sweep every minute until `stop` turns true.
async fn campaign_sweep_until(campaigns: Campaigns, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut due = tokio::time::interval(CAMPAIGN_SWEEP);
    loop {
        tokio::select! {
            _ = due.tick() => match campaigns.sweep().await {
                Ok(swept) if swept != writ_core::campaigns::Swept::default() => tracing::info!(
                    reminded = swept.reminded,
                    revoked = swept.revoked,
                    suspended = swept.suspended,
                    escalated = swept.escalated,
                    closed = swept.closed,
                    recurred = swept.recurred,
                    "campaign deadlines handled"
                ),
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "campaign sweep failed; retrying"),
            },
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => return,
        }
    }
}

/// How often the checkpoint schedule is looked at.
const CHECKPOINT_POLL: Duration = Duration::from_secs(10);

/// Signs a checkpoint whenever `schedule` says one is due, until `stop` turns true.
async fn checkpoint_until(
    checkpointer: Checkpointer,
    schedule: CheckpointSchedule,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut poll = tokio::time::interval(CHECKPOINT_POLL);
    loop {
        tokio::select! {
            _ = poll.tick() => {
                if let Err(err) = checkpointer
                    .checkpoint_if_due(schedule.every_events, schedule.every)
                    .await
                {
                    tracing::error!(error = %err, "audit checkpoint failed; retrying");
                }
            }
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => return,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// How often the outbox worker looks for deliveries when none were due.
const OUTBOX_POLL: Duration = Duration::from_secs(2);

/// The outbox worker, writing back to every configured service desk and sending every change
/// to every configured webhook endpoint.
fn outbox_worker(
    config: &Config,
    store: Arc<dyn writ_store::Store>,
    clock: Arc<dyn Clock>,
) -> OutboxWorker {
    let mut worker = OutboxWorker::new(store, clock);
    if let Some(jira) = &config.servicedesk.jira {
        let desk = JiraDesk::new(jira.settings.clone());
        worker = worker.with_desk(jira.settings.name.clone(), Arc::new(desk));
    }
    if let Some(now) = &config.servicedesk.servicenow {
        let desk = ServiceNowDesk::new(now.settings.clone());
        worker = worker.with_desk(now.settings.name.clone(), Arc::new(desk));
    }
    if let Some(generic) = &config.servicedesk.generic {
        let desk = GenericDesk::new(generic.settings.clone());
        worker = worker.with_desk(generic.settings.name.clone(), Arc::new(desk));
    }
    for endpoint in &config.event_endpoints {
        let sender = WebhookSender::new(endpoint.clone());
        worker = worker.with_endpoint(&endpoint.name, Arc::new(sender));
    }
    worker
}
