//! Carrying out an approved request on its target, and proving it: the connector grants, the
//! target is read back, and only a read-back that shows the access fulfils the request and
//! starts the grant's TTL.

mod transfer;

use std::sync::Arc;

use writ_connect::{Connector, ConnectorError};
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::grant::expires_at;
use writ_domain::{
    Account, AccountId, AccountKey, AccountStatus, PlanHash, Request, RequestId, RequestKind,
    RequestStatus, System,
};
use writ_store::{Evidence, EvidenceKind, ExecutionEnd, ExecutionStart, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::revoke::Revoker;
use crate::rotate::{Rotator, Sealer};

/// Builds the connector of a system from its configuration.
pub trait Connectors: Send + Sync {
    /// The connector for `system`; a bad configuration is a permanent error.
    fn for_system(&self, system: &System) -> Result<Arc<dyn Connector>, ConnectorError>;
}

impl Connectors for writ_connect::Registry {
    fn for_system(&self, system: &System) -> Result<Arc<dyn Connector>, ConnectorError> {
        self.get(system)
    }
}

/// What running an execution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    /// The read-back showed the access: the request is fulfilled, the grant active.
    Fulfilled,
    /// The request was already past execution: a replay, nothing changed.
    Replay(RequestStatus),
    /// The request's plan changed after the job was queued: nothing done.
    PlanChanged,
}

/// Why an execution did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The target (or read-back) failed in a way a retry may fix.
    #[error(transparent)]
    Target(#[from] ConnectorError),
    /// writ's own state failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<writ_store::StoreError> for ExecuteError {
    fn from(err: writ_store::StoreError) -> Self {
        ExecuteError::Core(err.into())
    }
}

/// Executes requests through connectors.
#[derive(Clone)]
pub struct Executor {
    store: Arc<dyn Store>,
    connectors: Arc<dyn Connectors>,
    clock: Arc<dyn Clock>,
    revoker: Revoker,
    rotator: Rotator,
}

impl Executor {
    /// An executor over these ports.
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<dyn Connectors>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let revoker = Revoker::new(store.clone(), connectors.clone(), clock.clone());
        let rotator = Rotator::new(store.clone(), connectors.clone(), clock.clone());
        Self {
            store,
            connectors,
            clock,
            revoker,
            rotator,
        }
    }

    /// The same executor, sealing rotated secrets with `sealer` (without one, rotations fail).
    pub fn with_sealer(mut self, sealer: Arc<Sealer>) -> Self {
        self.rotator = self.rotator.with_sealer(sealer);
        self
    }

    /// What takes access away: expiries, `revoke` and `offboard` requests.
    pub fn revoker(&self) -> &Revoker {
        &self.revoker
    }

    /// Carries out an approved grant request under the plan it was approved with: account,
    /// grant, read-back, then fulfilment. Every step is idempotent, so a retry after a crash or
    /// a transient failure resumes safely.
    #[tracing::instrument(skip_all, fields(request = %request_id))]
    pub async fn execute(
        &self,
        request_id: RequestId,
        plan_hash: PlanHash,
    ) -> Result<Executed, ExecuteError> {
        let (request, _) =
            self.store.request(request_id).await?.ok_or_else(|| {
                ConnectorError::Permanent(format!("request {request_id} not found"))
            })?;
        if !matches!(
            request.status,
            RequestStatus::Approved | RequestStatus::Executing | RequestStatus::Verifying
        ) {
            return Ok(Executed::Replay(request.status));
        }
        if request.kind == RequestKind::Transfer {
            return self.execute_transfer(request_id, plan_hash).await;
        }
        if matches!(request.kind, RequestKind::Revoke | RequestKind::Offboard) {
            return self.revoker.execute_removal(request_id, plan_hash).await;
        }
        if request.kind == RequestKind::Rotate {
            return self.rotator.execute_rotation(request_id, plan_hash).await;
        }
        if !matches!(
            request.kind,
            RequestKind::Grant | RequestKind::Exception | RequestKind::BreakGlass
        ) {
            // Every kind is dispatched above; one added later fails loudly rather than run as
            // a grant.
            return Err(ConnectorError::Permanent(format!(
                "{}: executing `{}` requests is not supported by this version",
                request.number, request.kind
            ))
            .into());
        }
        let context = self
            .store
            .request_subjects(request.requester, request.identity, request.entitlement)
            .await?;
        let (Some(identity), Some(entitlement), Some(system)) =
            (context.identity, context.entitlement, context.system)
        else {
            return Err(ConnectorError::Permanent(format!(
                "{} has no identity, entitlement or system",
                request.number
            ))
            .into());
        };
        let connector = self.connectors.for_system(&system)?;
        let key = AccountKey::parse(identity.name.as_str())
            .map_err(|e| ConnectorError::Permanent(e.to_string()))?;
        let account = Account {
            id: AccountId::new(),
            identity: identity.id,
            system: system.id,
            key,
            status: AccountStatus::Active,
        };
        let started = self
            .event(&request, "request.executing")
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "system": system.name.as_str(),
                "account": account.key.as_str(),
                "entitlement": entitlement.key.as_str(),
                "plan_hash": plan_hash.to_string(),
            }));
        let account = match self
            .store
            .begin_execution(request.id, plan_hash, account, started.clone())
            .await?
        {
            ExecutionStart::Started { account, .. } | ExecutionStart::Resumed { account, .. } => {
                account
            }
            ExecutionStart::Finished(status) => return Ok(Executed::Replay(status)),
            ExecutionStart::PlanChanged => return Ok(Executed::PlanChanged),
        };

        let ensured = connector.ensure_account(&account).await?;
        let granted = connector.grant(&account, &entitlement.key).await?;
        let holds = connector.holds(&account, &entitlement.key).await?;
        let verified_at = self.clock.now();
        if !holds {
            return Err(ConnectorError::Transient(format!(
                "read-back of `{}` on `{}` does not show `{}` yet",
                account, system.name, entitlement.key
            ))
            .into());
        }
        let evidence = vec![
            evidence(
                EvidenceKind::Receipt,
                serde_json::to_value(&ensured).unwrap_or_default(),
                verified_at,
            ),
            evidence(
                EvidenceKind::Receipt,
                serde_json::to_value(&granted).unwrap_or_default(),
                verified_at,
            ),
            evidence(
                EvidenceKind::ReadBack,
                serde_json::json!({
                    "system": system.name.as_str(),
                    "account": account.as_str(),
                    "entitlement": entitlement.key.as_str(),
                    "holds": true,
                }),
                verified_at,
            ),
        ];
        let expires = expires_at(verified_at, request.requested_ttl, request.requested_end);
        let fulfilled = self
            .event(&request, "request.fulfilled")
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "verified_at": verified_at.to_string(),
                "expires_at": expires.map(|t| t.to_string()),
                "account": account.as_str(),
                "entitlement": entitlement.key.as_str(),
            }));
        self.store
            .finish_execution(
                request.id,
                ExecutionEnd::Fulfilled {
                    verified_at,
                    expires_at: expires,
                },
                evidence,
                fulfilled,
            )
            .await?;
        Ok(Executed::Fulfilled)
    }

    /// Ends a request that cannot be executed: `failed`, with the error kept as evidence.
    pub async fn fail(&self, request_id: RequestId, error: &str) -> Result<(), CoreError> {
        let Some((request, _)) = self.store.request(request_id).await? else {
            return Err(CoreError::not_found(format!("request {request_id}")));
        };
        if matches!(request.kind, RequestKind::Revoke | RequestKind::Offboard) {
            return self.revoker.fail_removal(&request, error).await;
        }
        if request.kind == RequestKind::Rotate {
            return self.rotator.fail_rotation(request_id, error).await;
        }
        if !matches!(
            request.status,
            RequestStatus::Approved | RequestStatus::Executing | RequestStatus::Verifying
        ) {
            return Ok(());
        }
        let (event, errors) = failure_record(self.clock.now(), "executor", &request, error);
        self.store
            .finish_execution(
                request.id,
                ExecutionEnd::Failed {
                    error: error.to_string(),
                },
                errors,
                event,
            )
            .await?;
        Ok(())
    }

    fn event(&self, request: &Request, action: &str) -> NewAuditEvent {
        request_event(self.clock.now(), "executor", request, action)
    }
}

/// An audit event by writ's `component` about `request`, naming it, its identity and its
/// entitlement.
pub(crate) fn request_event(
    at: writ_domain::Timestamp,
    component: &str,
    request: &Request,
    action: &str,
) -> NewAuditEvent {
    let mut event = NewAuditEvent::new(at, Actor::system(component), action)
        .subject(SubjectRef::new("request", request.id))
        .subject(SubjectRef::new("identity", request.identity));
    if let Some(entitlement) = request.entitlement {
        event = event.subject(SubjectRef::new("entitlement", entitlement));
    }
    event
}

/// What a request that failed for good records: its `request.failed` event and the error as
/// evidence.
pub(crate) fn failure_record(
    at: writ_domain::Timestamp,
    component: &str,
    request: &Request,
    error: &str,
) -> (NewAuditEvent, Vec<Evidence>) {
    let event = request_event(at, component, request, "request.failed")
        .data(serde_json::json!({ "number": request.number.to_string(), "error": error }));
    let errors = vec![evidence(
        EvidenceKind::Error,
        serde_json::json!({ "error": error }),
        at,
    )];
    (event, errors)
}

/// One piece of execution evidence.
pub(crate) fn evidence(
    kind: EvidenceKind,
    data: serde_json::Value,
    at: writ_domain::Timestamp,
) -> Evidence {
    Evidence { kind, data, at }
}
