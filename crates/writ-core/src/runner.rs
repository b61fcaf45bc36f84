//! The job runner: claims due jobs with a lease, runs them, retries what may succeed later
//! with backoff and jitter, and turns permanent errors (or exhausted retries) into a failed
//! request with the error recorded. Claimed jobs run concurrently (up to a bound), so their
//! store writes share commits. `run_once` is what tests call until idle; `run_until` keeps
//! the runner busy, woken at once by [`JobRunner::waker`] when work is queued and polling
//! otherwise.

mod expiry;
mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::job::{ClaimedJob, Job, JobPayload, Lease};
use writ_domain::{PlanHash, RequestId};
use writ_store::{ClaimRequest, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::execute::{Executed, Executor};
use crate::retry::Backoff;

/// Runs background jobs.
#[derive(Clone)]
pub struct JobRunner {
    store: Arc<dyn Store>,
    executor: Executor,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    worker: String,
    lease: Duration,
    /// Jobs in flight at once (and claimed at once).
    concurrency: u32,
    wake: Arc<Notify>,
    reconciler: Option<crate::reconcile::Reconciler>,
}

impl JobRunner {
    /// A runner named `worker` (the lease owner, e.g. host and process id).
    pub fn new(
        store: Arc<dyn Store>,
        executor: Executor,
        clock: Arc<dyn Clock>,
        worker: impl Into<String>,
    ) -> Self {
        Self {
            store,
            executor,
            clock,
            backoff: Backoff::default(),
            worker: worker.into(),
            lease: Duration::from_secs(120),
            concurrency: 16,
            wake: Arc::new(Notify::new()),
            reconciler: None,
        }
    }

    /// Runs `reconcile_system` jobs with `reconciler` (without one, they fail).
    pub fn with_reconciler(mut self, reconciler: crate::reconcile::Reconciler) -> Self {
        self.reconciler = Some(reconciler);
        self
    }

    /// Runs at most `concurrency` jobs at once (at least one).
    pub fn with_concurrency(mut self, concurrency: u32) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// What wakes a runner in [`JobRunner::run_until`] at once: whoever queues a job may call
    /// `notify_one()` on it instead of letting the runner find the job at its next poll. A
    /// wake-up while the runner is busy is kept for when it next looks.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Uses another backoff schedule.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Claims the jobs due now and runs them concurrently; returns how many it ran (0: idle).
    /// Every claimed job runs to its end even if another fails; the first error is returned.
    pub async fn run_once(&self) -> Result<usize, CoreError> {
        let claimed = self.claim(self.concurrency).await?;
        let count = claimed.len();
        let mut running = JoinSet::new();
        for job in claimed {
            self.spawn(&mut running, job);
        }
        let mut first_error = None;
        while let Some(outcome) = running.join_next().await {
            if let Err(err) = flatten(outcome) {
                first_error.get_or_insert(err);
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(count),
        }
    }

    /// Runs jobs until `shutdown` resolves, then lets the jobs in hand finish. Claims again as
    /// soon as there is room and reason to (a wake-up, a full claim, or `idle` passed since the
    /// last look), so jobs run back to back without waiting for one another.
    pub async fn run_until(&self, idle: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut running = JoinSet::new();
        let mut look = true;
        let poll = tokio::time::sleep(idle);
        tokio::pin!(poll);
        loop {
            let room = self.concurrency.saturating_sub(running.len() as u32);
            // Claims in batches (half the concurrency at least) while jobs are running, so a
            // busy queue is not claimed one job, and one transaction, at a time.
            let batch = if running.is_empty() {
                1
            } else {
                (self.concurrency / 2).max(1)
            };
            if look && room >= batch {
                look = false;
                poll.as_mut().reset(tokio::time::Instant::now() + idle);
                match self.claim(room).await {
                    Ok(claimed) => {
                        // A full claim may have left more behind.
                        look = claimed.len() as u32 == room;
                        for job in claimed {
                            self.spawn(&mut running, job);
                        }
                    }
                    Err(err) => tracing::error!(error = %err, "claiming jobs failed; retrying"),
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                Some(outcome) = running.join_next(), if !running.is_empty() => {
                    if let Err(err) = flatten(outcome) {
                        tracing::error!(error = %err, "job runner failed; retrying");
                    }
                }
                () = self.wake.notified() => look = true,
                () = &mut poll, if !look => look = true,
            }
        }
        while let Some(outcome) = running.join_next().await {
            if let Err(err) = flatten(outcome) {
                tracing::error!(error = %err, "job runner failed while draining");
            }
        }
    }

    /// Runs a job as a task of its own, so it progresses whatever the caller awaits meanwhile
    /// (a job holding the store's writer must not wait for the caller's next claim).
    fn spawn(&self, running: &mut JoinSet<Result<(), CoreError>>, job: ClaimedJob) {
        let runner = self.clone();
        running.spawn(async move { runner.run(job).await });
    }

    async fn claim(&self, limit: u32) -> Result<Vec<ClaimedJob>, CoreError> {
        Ok(self
            .store
            .claim_jobs(ClaimRequest {
                worker: &self.worker,
                now: self.clock.now(),
                lease_for: self.lease,
                limit,
            })
            .await?)
    }

    #[tracing::instrument(skip_all, fields(job = %claimed.job.id, kind = claimed.job.payload.kind()))]
    async fn run(&self, claimed: ClaimedJob) -> Result<(), CoreError> {
        let ClaimedJob { job, lease } = claimed;
        match job.payload {
            JobPayload::ExecuteRequest {
                request_id,
                plan_hash,
            } => {
                self.run_execution(&job, &lease, request_id, plan_hash)
                    .await
            }
            JobPayload::ExpireGrant { grant_id } => self.run_expiry(&job, &lease, grant_id).await,
            JobPayload::SuspendIdentity { identity_id } => {
                self.run_suspension(&job, &lease, identity_id).await
            }
            JobPayload::ReconcileSystem { system_id } => {
                self.run_reconciliation(&job, &lease, system_id).await
            }
        }
    }

    /// Executes an approved request; a replay is logged once, and a request that can never be
    /// executed ends `failed` with the error.
    async fn run_execution(
        &self,
        job: &Job,
        lease: &Lease,
        request_id: RequestId,
        plan_hash: PlanHash,
    ) -> Result<(), CoreError> {
        let outcome = match self.executor.execute(request_id, plan_hash).await {
            Ok(Executed::Fulfilled) => Ok(()),
            Ok(Executed::Replay(status)) => {
                tracing::info!(%request_id, %status, "replayed job: the request is already past execution");
                let event = NewAuditEvent::new(
                    self.clock.now(),
                    Actor::system("job-runner"),
                    "job.replayed",
                )
                .subject(SubjectRef::new("job", job.id))
                .subject(SubjectRef::new("request", request_id))
                .data(serde_json::json!({ "status": status.as_str() }));
                self.store.append_audit(vec![event]).await?;
                Ok(())
            }
            Ok(Executed::PlanChanged) => {
                tracing::info!(%request_id, "the plan changed since this job was queued; nothing done");
                Ok(())
            }
            Err(err) => Err(err),
        };
        self.settle(job, lease, outcome, |error| async move {
            self.executor.fail(request_id, &error).await
        })
        .await
    }
}

/// A job task's outcome; a panicked job is an error of the runner's, not the process's end.
fn flatten(joined: Result<Result<(), CoreError>, tokio::task::JoinError>) -> Result<(), CoreError> {
    joined.unwrap_or_else(|err| Err(CoreError::Internal(format!("job task failed: {err}"))))
}
