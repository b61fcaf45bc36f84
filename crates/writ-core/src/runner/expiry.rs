//! Jobs that take access away outside a request: `expire_grant` (revoke a grant whose end has
//! come and read it back as gone) and `suspend_identity` (disable the accounts of an identity
//! nobody took over); and how every job ends: retried while the target is unreachable or still
//! shows the access, given up for good after its attempts with the failure recorded.

use std::future::Future;

use writ_domain::job::{Job, Lease};
use writ_domain::{GrantId, IdentityId};
use writ_store::JobFailure;

use super::JobRunner;
use crate::error::CoreError;
use crate::execute::ExecuteError;
use crate::revoke::Revoked;

impl JobRunner {
    pub(super) async fn run_expiry(
        &self,
        job: &Job,
        lease: &Lease,
        grant: GrantId,
    ) -> Result<(), CoreError> {
        let revoker = self.executor.revoker();
        let outcome = revoker.expire(grant).await.map(|revoked| {
            if let Revoked::Replay(status) = revoked {
                tracing::info!(%grant, %status, "replayed expiry: the grant is not being revoked");
            }
        });
        self.settle(job, lease, outcome, |error| async move {
            revoker.fail(grant, &error).await
        })
        .await
    }

    pub(super) async fn run_suspension(
        &self,
        job: &Job,
        lease: &Lease,
        identity: IdentityId,
    ) -> Result<(), CoreError> {
        let outcome = self.executor.revoker().suspend(identity).await;
        self.settle(job, lease, outcome, |error| async move {
            tracing::error!(%identity, %error, "suspension given up: accounts may still be enabled");
            Ok(())
        })
        .await
    }

    /// Completes the job, or records its failure: retried with backoff while it may still
    /// succeed, `give_up` called with the error once it never will.
    pub(super) async fn settle<F, Fut>(
        &self,
        job: &Job,
        lease: &Lease,
        outcome: Result<(), ExecuteError>,
        give_up: F,
    ) -> Result<(), CoreError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<(), CoreError>>,
    {
        let now = self.clock.now();
        match outcome {
            Ok(()) => self.store.complete_job(lease, now).await?,
            Err(ExecuteError::Target(error)) if error.is_transient() => {
                let retry_at = now.plus(self.backoff.jittered(job.attempts));
                let failure = self
                    .store
                    .fail_job(lease, &error.to_string(), retry_at, false, now)
                    .await?;
                if failure == JobFailure::DeadLettered {
                    give_up(format!(
                        "gave up after {} attempts; last error: {error}",
                        job.attempts
                    ))
                    .await?;
                }
                tracing::warn!(job = %job.id, %error, attempt = job.attempts, "will be retried");
            }
            Err(ExecuteError::Target(error)) => {
                give_up(error.to_string()).await?;
                self.store
                    .fail_job(lease, &error.to_string(), now, true, now)
                    .await?;
            }
            Err(ExecuteError::Core(error)) => {
                let retry_at = now.plus(self.backoff.jittered(job.attempts));
                self.store
                    .fail_job(lease, &error.to_string(), retry_at, false, now)
                    .await?;
                return Err(error);
            }
        }
        Ok(())
    }
}
