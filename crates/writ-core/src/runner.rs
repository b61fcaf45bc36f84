//! The job runner: claims due jobs with a lease, runs them, retries what may succeed later
//! with backoff and jitter, and turns permanent errors (or exhausted retries) into a failed
//! request with the error recorded. `run_once` is what tests call until idle.

mod expiry;

use std::sync::Arc;
use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::job::{ClaimedJob, JobPayload};
use writ_store::{ClaimRequest, JobFailure, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::execute::{ExecuteError, Executed, Executor};
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
    batch: u32,
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
            batch: 16,
        }
    }

    /// Uses another backoff schedule.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Claims the jobs due now and runs them; returns how many it ran (0: idle).
    pub async fn run_once(&self) -> Result<usize, CoreError> {
        let claimed = self
            .store
            .claim_jobs(ClaimRequest {
                worker: &self.worker,
                now: self.clock.now(),
                lease_for: self.lease,
                limit: self.batch,
            })
            .await?;
        let count = claimed.len();
        for job in claimed {
            self.run(job).await?;
        }
        Ok(count)
    }

    /// Runs jobs until `shutdown` resolves, polling every `idle` when there is nothing to do.
    pub async fn run_until(&self, idle: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let ran = match self.run_once().await {
                Ok(ran) => ran,
                Err(err) => {
                    tracing::error!(error = %err, "job runner failed; retrying");
                    0
                }
            };
            if ran == 0 {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(idle) => {}
                }
            }
        }
    }

    #[tracing::instrument(skip_all, fields(job = %claimed.job.id, kind = claimed.job.payload.kind()))]
    async fn run(&self, claimed: ClaimedJob) -> Result<(), CoreError> {
        let ClaimedJob { job, lease } = claimed;
        if let JobPayload::ExpireGrant { grant_id } = job.payload {
            return self.run_expiry(&job, &lease, grant_id).await;
        }
        let JobPayload::ExecuteRequest {
            request_id,
            plan_hash,
        } = job.payload
        else {
            // Reconciliation arrives with its own work; nothing queues it yet.
            let error = format!(
                "no handler for `{}` jobs in this version",
                job.payload.kind()
            );
            self.store
                .fail_job(&lease, &error, self.clock.now(), true, self.clock.now())
                .await?;
            return Ok(());
        };
        match self.executor.execute(request_id, plan_hash).await {
            Ok(Executed::Fulfilled) => {}
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
            }
            Ok(Executed::PlanChanged) => {
                tracing::info!(%request_id, "the plan changed since this job was queued; nothing done");
            }
            Err(ExecuteError::Target(error)) if error.is_transient() => {
                let retry_at = self.clock.now().plus(self.backoff.jittered(job.attempts));
                let outcome = self
                    .store
                    .fail_job(
                        &lease,
                        &error.to_string(),
                        retry_at,
                        false,
                        self.clock.now(),
                    )
                    .await?;
                if outcome == JobFailure::DeadLettered {
                    let message = format!(
                        "gave up after {} attempts; last error: {error}",
                        job.attempts
                    );
                    self.executor.fail(request_id, &message).await?;
                }
                tracing::warn!(%request_id, %error, attempt = job.attempts, "execution will be retried");
                return Ok(());
            }
            Err(ExecuteError::Target(error)) => {
                self.executor.fail(request_id, &error.to_string()).await?;
                self.store
                    .fail_job(
                        &lease,
                        &error.to_string(),
                        self.clock.now(),
                        true,
                        self.clock.now(),
                    )
                    .await?;
                return Ok(());
            }
            Err(ExecuteError::Core(error)) => {
                // writ's own failure: retried like a transient one, never blamed on the target.
                let retry_at = self.clock.now().plus(self.backoff.jittered(job.attempts));
                self.store
                    .fail_job(
                        &lease,
                        &error.to_string(),
                        retry_at,
                        false,
                        self.clock.now(),
                    )
                    .await?;
                return Err(error);
            }
        }
        self.store.complete_job(&lease, self.clock.now()).await?;
        Ok(())
    }
}
