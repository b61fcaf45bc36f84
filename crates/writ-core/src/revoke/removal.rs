//! Executing `revoke` and `offboard` requests: every membership concerned is revoked and read
//! back as gone, every account of an offboarded identity disabled and read back as disabled.
//! Nothing is `fulfilled` until all of it is proven; what is still live is named.

use writ_connect::ConnectorError;
use writ_domain::audit::NewAuditEvent;
use writ_domain::{PlanHash, Request, RequestId, RequestKind, RequestStatus};
use writ_store::{AccountTarget, Evidence, EvidenceKind, RemovalStart, RevocationEnd};

use super::Revoker;
use crate::error::CoreError;
use crate::execute::{ExecuteError, Executed};
use crate::execute::{evidence, failure_record, request_event};

impl Revoker {
    /// Carries out an approved `revoke` or `offboard` request. Every step is idempotent, so a
    /// retry resumes safely; an attempt that leaves anything live fails naming all of it.
    #[tracing::instrument(skip_all, fields(request = %request_id))]
    pub async fn execute_removal(
        &self,
        request_id: RequestId,
        plan_hash: PlanHash,
    ) -> Result<Executed, ExecuteError> {
        let (request, _) =
            self.store.request(request_id).await?.ok_or_else(|| {
                ConnectorError::Permanent(format!("request {request_id} not found"))
            })?;
        if !matches!(request.kind, RequestKind::Revoke | RequestKind::Offboard) {
            return Err(ConnectorError::Permanent(format!(
                "{} is a `{}` request, not a removal",
                request.number, request.kind
            ))
            .into());
        }
        let started = self
            .event(&request, "request.executing")
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "kind": request.kind.as_str(),
                "plan_hash": plan_hash.to_string(),
            }));
        let removal = match self
            .store
            .begin_removal(request.id, plan_hash, started)
            .await?
        {
            RemovalStart::Started(removal) | RemovalStart::Resumed(removal) => removal,
            RemovalStart::Finished(status) => return Ok(Executed::Replay(status)),
            RemovalStart::PlanChanged => return Ok(Executed::PlanChanged),
        };

        let mut proof: Vec<Evidence> = Vec::new();
        let mut still_live: Vec<String> = Vec::new();
        let mut permanent = false;
        for access in &removal.access {
            match self.revoke_and_verify(access).await {
                Ok(items) => proof.extend(items),
                Err(err) => {
                    permanent |= !err.is_transient();
                    still_live.push(format!(
                        "`{}` holds `{}` on `{}` ({err})",
                        access.account, access.entitlement, access.system.name
                    ));
                }
            }
        }
        for account in &removal.accounts {
            match self.disable_and_verify(account).await {
                Ok(items) => proof.extend(items),
                Err(err) => {
                    permanent |= !err.is_transient();
                    still_live.push(format!(
                        "account `{}` on `{}` is enabled ({err})",
                        account.account, account.system.name
                    ));
                }
            }
        }
        if !still_live.is_empty() {
            let message = format!("still live: {}", still_live.join("; "));
            return Err(if permanent {
                ConnectorError::Permanent(message)
            } else {
                ConnectorError::Transient(message)
            }
            .into());
        }
        let verified_at = self.clock.now();
        let action = match request.kind {
            RequestKind::Offboard => "identity.decommissioned",
            _ => "request.fulfilled",
        };
        let event = self.event(&request, action).data(serde_json::json!({
            "number": request.number.to_string(),
            "kind": request.kind.as_str(),
            "verified_at": verified_at.to_string(),
            "revoked": removal.access.iter().map(|a| format!("{}:{}@{}", a.account, a.entitlement, a.system.name)).collect::<Vec<_>>(),
            "disabled": removal.accounts.iter().map(|a| format!("{}@{}", a.account, a.system.name)).collect::<Vec<_>>(),
        }));
        self.store
            .finish_removal(
                request.id,
                RevocationEnd::Revoked { verified_at },
                proof,
                event,
            )
            .await?;
        Ok(Executed::Fulfilled)
    }

    /// Ends a removal request that cannot complete: `failed`, with the error (which names what
    /// is still live) kept as evidence.
    pub async fn fail_removal(&self, request: &Request, error: &str) -> Result<(), CoreError> {
        if request.status != RequestStatus::Executing {
            return Ok(());
        }
        let (event, errors) = failure_record(self.clock.now(), "revoker", request, error);
        self.store
            .finish_removal(
                request.id,
                RevocationEnd::Failed {
                    error: error.to_string(),
                },
                errors,
                event,
            )
            .await?;
        Ok(())
    }

    /// Disables the account and reads the target's accounts back; the evidence of both, or a
    /// transient error while the account is still enabled.
    pub(super) async fn disable_and_verify(
        &self,
        target: &AccountTarget,
    ) -> Result<Vec<Evidence>, ConnectorError> {
        let connector = self.connectors.for_system(&target.system)?;
        let receipt = connector.disable_account(&target.account).await?;
        let enabled = connector
            .list_accounts()
            .await?
            .into_iter()
            .any(|live| live.key == target.account && live.enabled);
        let at = self.clock.now();
        if enabled {
            return Err(ConnectorError::Transient(format!(
                "read-back of `{}` on `{}` still shows it enabled",
                target.account, target.system.name
            )));
        }
        Ok(vec![
            evidence(
                EvidenceKind::Receipt,
                serde_json::to_value(&receipt).unwrap_or_default(),
                at,
            ),
            evidence(
                EvidenceKind::ReadBack,
                serde_json::json!({
                    "system": target.system.name.as_str(),
                    "account": target.account.as_str(),
                    "enabled": false,
                }),
                at,
            ),
        ])
    }

    fn event(&self, request: &Request, action: &str) -> NewAuditEvent {
        request_event(self.clock.now(), "revoker", request, action)
    }
}
