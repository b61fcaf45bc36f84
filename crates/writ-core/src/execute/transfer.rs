//! Executing a `transfer` request: writ itself is the system of record for ownership, so the
//! change is made and read back in the store, in one transaction.

use writ_connect::ConnectorError;
use writ_domain::{PlanHash, RequestId};
use writ_store::Transferred;

use super::{ExecuteError, Executed, Executor};

impl Executor {
    /// Gives the identity its new owner and fulfils the request.
    pub(super) async fn execute_transfer(
        &self,
        request_id: RequestId,
        plan_hash: PlanHash,
    ) -> Result<Executed, ExecuteError> {
        let (request, _) =
            self.store.request(request_id).await?.ok_or_else(|| {
                ConnectorError::Permanent(format!("request {request_id} not found"))
            })?;
        let event = self
            .event(&request, "identity.transferred")
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "plan_hash": plan_hash.to_string(),
            }));
        Ok(
            match self
                .store
                .execute_transfer(request_id, plan_hash, event)
                .await?
            {
                Transferred::Done { .. } => Executed::Fulfilled,
                Transferred::Finished(status) => Executed::Replay(status),
                Transferred::PlanChanged => Executed::PlanChanged,
            },
        )
    }
}
