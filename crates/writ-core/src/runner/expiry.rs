//! The `expire_grant` job: revoke a grant whose end has come and read it back as gone;
//! retried while the target is unreachable or still shows the access, failed for good after.

use writ_domain::GrantId;
use writ_domain::job::Job;
use writ_domain::job::Lease;
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
        match revoker.expire(grant).await {
            Ok(Revoked::Verified) => {}
            Ok(Revoked::Replay(status)) => {
                tracing::info!(%grant, %status, "replayed expiry: the grant is not being revoked");
            }
            Err(ExecuteError::Target(error)) if error.is_transient() => {
                let now = self.clock.now();
                let retry_at = now.plus(self.backoff.jittered(job.attempts));
                let outcome = self
                    .store
                    .fail_job(lease, &error.to_string(), retry_at, false, now)
                    .await?;
                if outcome == JobFailure::DeadLettered {
                    let message = format!(
                        "gave up after {} attempts; last error: {error}",
                        job.attempts
                    );
                    revoker.fail(grant, &message).await?;
                }
                tracing::warn!(%grant, %error, attempt = job.attempts, "expiry will be retried");
                return Ok(());
            }
            Err(ExecuteError::Target(error)) => {
                revoker.fail(grant, &error.to_string()).await?;
                let now = self.clock.now();
                self.store
                    .fail_job(lease, &error.to_string(), now, true, now)
                    .await?;
                return Ok(());
            }
            Err(ExecuteError::Core(error)) => {
                let now = self.clock.now();
                let retry_at = now.plus(self.backoff.jittered(job.attempts));
                self.store
                    .fail_job(lease, &error.to_string(), retry_at, false, now)
                    .await?;
                return Err(error);
            }
        }
        self.store.complete_job(lease, self.clock.now()).await?;
        Ok(())
    }
}
