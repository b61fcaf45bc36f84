//! Suspending an identity nobody took over in time: every account is disabled and read back
//! as disabled; its grants are kept, so a new owner can re-enable it as it was.

use writ_connect::ConnectorError;
use writ_domain::IdentityId;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_store::StoreError;

use super::Revoker;
use crate::execute::ExecuteError;

impl Revoker {
    /// Disables every account of `identity` and, once each is read back disabled, marks the
    /// identity `suspended` (the `suspend_identity` job). An identity already suspended (or
    /// otherwise no longer active) is left as it is.
    #[tracing::instrument(skip_all, fields(identity = %identity))]
    pub async fn suspend(&self, identity: IdentityId) -> Result<(), ExecuteError> {
        let accounts = self.store.accounts_of(identity).await?;
        let mut still_enabled = Vec::new();
        let mut permanent = false;
        for account in &accounts {
            if let Err(err) = self.disable_and_verify(account).await {
                permanent |= !err.is_transient();
                still_enabled.push(format!(
                    "account `{}` on `{}` is enabled ({err})",
                    account.account, account.system.name
                ));
            }
        }
        if !still_enabled.is_empty() {
            let message = format!("still live: {}", still_enabled.join("; "));
            return Err(if permanent {
                ConnectorError::Permanent(message)
            } else {
                ConnectorError::Transient(message)
            }
            .into());
        }
        let event = NewAuditEvent::new(self.clock.now(), Actor::system("revoker"), "identity.suspended")
            .subject(SubjectRef::new("identity", identity))
            .data(serde_json::json!({
                "reason": "as the `identity.suspending` event that queued it says",
                "disabled": accounts.iter().map(|a| format!("{}@{}", a.account, a.system.name)).collect::<Vec<_>>(),
            }));
        match self.store.suspend_identity(identity, event).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
