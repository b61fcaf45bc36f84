//! `reconcile_system` jobs: one system's reconciliation run by the job runner (for whoever
//! queues one, e.g. "reconcile now"), retried while the target is unreachable.

use writ_connect::ConnectorError;
use writ_domain::SystemId;
use writ_domain::job::{Job, Lease};

use super::JobRunner;
use crate::error::CoreError;
use crate::execute::ExecuteError;
use crate::reconcile::ReconcileError;

impl JobRunner {
    pub(super) async fn run_reconciliation(
        &self,
        job: &Job,
        lease: &Lease,
        system: SystemId,
    ) -> Result<(), CoreError> {
        let outcome = match &self.reconciler {
            None => Err(ExecuteError::Target(ConnectorError::Permanent(
                "this runner has no reconciler".into(),
            ))),
            Some(reconciler) => match self.store.system(system).await? {
                None => Err(ExecuteError::Target(ConnectorError::Permanent(format!(
                    "system {system} not found"
                )))),
                Some(found) => reconciler
                    .reconcile(&found, &|_| {})
                    .await
                    .map(|_| ())
                    .map_err(|err| match err {
                        ReconcileError::Target(err) => ExecuteError::Target(err),
                        ReconcileError::Sort(err) => {
                            ExecuteError::Target(ConnectorError::Transient(err.to_string()))
                        }
                        ReconcileError::Core(err) => ExecuteError::Core(err),
                    }),
            },
        };
        self.settle(job, lease, outcome, |error| async move {
            tracing::error!(%system, %error, "reconciliation given up");
            Ok(())
        })
        .await
    }
}
