//! Taking access away, and proving it: a grant whose end has come is revoked on its target,
//! the target is read back, and only a read-back that shows the access gone makes the grant
//! `revoked`. Expiry starts in batches from a sweep; each grant's revocation is a job.

mod removal;
mod suspend;

use std::sync::Arc;

use writ_connect::ConnectorError;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{GrantId, GrantStatus};
use writ_store::{Evidence, EvidenceKind, LiveAccess, RevocationEnd, RevocationTarget, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::execute::{Connectors, ExecuteError, evidence};

/// Grants whose expiry starts per store transaction.
const EXPIRY_BATCH: u32 = 1_000;

/// What a revocation job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The read-back showed the access gone: the grant is `revoked`.
    Verified,
    /// The grant was not being revoked (already revoked, or failed): a replay, nothing done.
    Replay(GrantStatus),
}

/// Revokes grants through connectors.
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn Store>,
    connectors: Arc<dyn Connectors>,
    clock: Arc<dyn Clock>,
}

impl Revoker {
    /// A revoker over these ports.
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<dyn Connectors>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            connectors,
            clock,
        }
    }

    /// Starts the expiry of every active grant whose end has come; returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_expired(&self) -> Result<usize, CoreError> {
        let now = self.clock.now();
        let mut started = 0;
        loop {
            let batch = self.store.start_expiries(now, EXPIRY_BATCH).await?;
            started += batch;
            if batch < EXPIRY_BATCH as usize {
                return Ok(started);
            }
        }
    }

    /// Revokes one `revoking` grant on its target and verifies it is gone (the `expire_grant`
    /// job). Idempotent: revoking absent access succeeds, and a grant already ended is a
    /// replay.
    #[tracing::instrument(skip_all, fields(grant = %grant))]
    pub async fn expire(&self, grant: GrantId) -> Result<Revoked, ExecuteError> {
        let target = self
            .store
            .revocation_target(grant)
            .await?
            .ok_or_else(|| ConnectorError::Permanent(format!("grant {grant} not found")))?;
        if target.status != GrantStatus::Revoking {
            return Ok(Revoked::Replay(target.status));
        }
        let evidence = self.revoke_and_verify(&target.access).await?;
        let verified_at = self.clock.now();
        let event = self
            .grant_event(&target, "grant.revoked")
            .data(serde_json::json!({
                "reason": "expired",
                "expires_at": target.expires_at.map(|t| t.to_string()),
                "verified_at": verified_at.to_string(),
                "system": target.access.system.name.as_str(),
                "account": target.access.account.as_str(),
                "entitlement": target.access.entitlement.as_str(),
            }));
        self.store
            .finish_revocation(
                grant,
                RevocationEnd::Revoked { verified_at },
                evidence,
                event,
            )
            .await?;
        Ok(Revoked::Verified)
    }

    /// Ends a revocation that cannot be done: the grant `failed`, with the error kept as
    /// evidence; its access may still be live, which reconciliation reports.
    pub async fn fail(&self, grant: GrantId, error: &str) -> Result<(), CoreError> {
        let Some(target) = self.store.revocation_target(grant).await? else {
            return Err(CoreError::not_found(format!("grant {grant}")));
        };
        if target.status != GrantStatus::Revoking {
            return Ok(());
        }
        let now = self.clock.now();
        let event = self
            .grant_event(&target, "grant.revocation_failed")
            .data(serde_json::json!({
                "error": error,
                "system": target.access.system.name.as_str(),
                "account": target.access.account.as_str(),
                "entitlement": target.access.entitlement.as_str(),
                "still_live": "unknown: the target could not be read back as changed",
            }));
        let errors = vec![Evidence {
            kind: EvidenceKind::Error,
            data: serde_json::json!({ "grant": grant.to_string(), "error": error }),
            at: now,
        }];
        self.store
            .finish_revocation(
                grant,
                RevocationEnd::Failed {
                    error: error.to_string(),
                },
                errors,
                event,
            )
            .await?;
        Ok(())
    }

    /// Takes the entitlement from the account and reads the target back; the evidence of
    /// both, or a transient error while the target still shows the access.
    pub(crate) async fn revoke_and_verify(
        &self,
        access: &LiveAccess,
    ) -> Result<Vec<Evidence>, ConnectorError> {
        let connector = self.connectors.for_system(&access.system)?;
        let receipt = connector
            .revoke(&access.account, &access.entitlement)
            .await?;
        let holds = connector
            .holds(&access.account, &access.entitlement)
            .await?;
        let at = self.clock.now();
        if holds {
            return Err(ConnectorError::Transient(format!(
                "read-back of `{}` on `{}` still shows `{}`",
                access.account, access.system.name, access.entitlement
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
                    "system": access.system.name.as_str(),
                    "account": access.account.as_str(),
                    "entitlement": access.entitlement.as_str(),
                    "holds": false,
                }),
                at,
            ),
        ])
    }

    fn grant_event(&self, target: &RevocationTarget, action: &str) -> NewAuditEvent {
        NewAuditEvent::new(self.clock.now(), Actor::system("revoker"), action)
            .subject(SubjectRef::new("grant", target.grant))
            .subject(SubjectRef::new("request", target.request))
            .subject(SubjectRef::new("identity", target.identity))
    }
}
