//! Credential rotation: a `rotate` request replaces the credential of an identity's account in
//! one system, and only the live system proves it.
//!
//! 1. **Submission** ([`Rotations::submit`]): policy decides as for any request (rotation is
//!    pre-approved, so an allowed one is `approved` at once); the current credential the
//!    requester hands over is sealed ([`Sealer`]) and stored with the request, and the execute
//!    job waits for the maintenance window (`not_before`). A request policy refuses keeps no
//!    secret. writ refuses to take a secret without a secret key configured.
//! 2. **Execution** ([`Rotator`], from the job through the executor): the current credential
//!    is checked against the target (a mismatch fails the request and changes nothing); a new
//!    random secret is sealed and kept *before* the target is touched, so a retry after a crash
//!    finishes with the secret the target may already have; the target is changed; the new
//!    secret must then work and the old one must not. Only then is the request `fulfilled` and
//!    the credential recorded, by fingerprint. The handed-over secret is wiped when the
//!    rotation ends, whichever way.
//! 3. **Delivery** ([`Reveal`]): the requester, and only they, reveals the new secret once;
//!    its sealed row is deleted in the same transaction as the audit event that records the
//!    reveal (never the secret), and writ keeps only the fingerprint.
//!
//! With no current credential, a rotation is a first issue: allowed only while writ has no
//! credential on record for the account (an account writ created holds a random password
//! nobody was given). `api_key` identities get their keys the same way: the connector decides
//! what a credential is on its target.

mod execution;
mod reveal;
mod seal;

use std::sync::Arc;

use writ_connect::Secret;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::job::{JobPayload, NewJob};
use writ_domain::{
    AccountKey, AccountStatus, IdentityId, PrincipalId, Request, RequestEvent, RequestId,
    RequestKind, RequestNumber, RequestStatus, SystemId, Timestamp,
};
use writ_store::{RequestDecision, RotationPlan, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::requests::{NewRequest, Requests, Submitted};

pub use execution::Rotator;
pub use reveal::{Reveal, Revealed};
pub use seal::{Sealer, SecretKey};

/// The error every rotation gives when writ has no secret key to seal secrets with.
pub(crate) fn no_secret_key() -> String {
    "no secret key is configured, so writ cannot hold a credential for its one delivery: \
     create one with `writ credential generate-key PATH` and set `secret_key_file` in writ.toml \
     (or WRIT_SECRET_KEY_FILE)"
        .to_string()
}

/// A rotate request as its requester asks it.
#[derive(Debug, Clone)]
pub struct NewRotation {
    /// Who asks; the one person the new secret is delivered to.
    pub requester: PrincipalId,
    /// Whose credential.
    pub identity: IdentityId,
    /// In which system.
    pub system: SystemId,
    /// Why, in the requester's words.
    pub justification: String,
    /// The credential in use now, checked against the target before anything changes;
    /// `None` only for a first issue (writ has no credential on record for the account).
    pub current: Option<Secret>,
    /// Not before this instant (a maintenance window); at once when absent or past.
    pub not_before: Option<Timestamp>,
}

/// The rotation use cases: submission (decided by policy), over a store and a sealer.
#[derive(Clone)]
pub struct Rotations {
    requests: Requests,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sealer: Option<Arc<Sealer>>,
}

impl Rotations {
    /// The use cases; without `sealer` (no secret key configured) every submission is refused.
    pub fn new(
        requests: Requests,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sealer: Option<Arc<Sealer>>,
    ) -> Self {
        Self {
            requests,
            store,
            clock,
            sealer,
        }
    }

    /// Decides and stores a rotate request with its sealed current credential and, when
    /// policy approves it, the job that runs it at `not_before`.
    #[tracing::instrument(skip_all, fields(identity = %new.identity, system = %new.system))]
    pub async fn submit(&self, new: NewRotation) -> Result<Submitted, CoreError> {
        let sealer = self
            .sealer
            .as_ref()
            .ok_or_else(|| CoreError::Invalid(no_secret_key()))?;
        if new.current.as_ref().is_some_and(|c| c.expose().is_empty()) {
            return Err(CoreError::Invalid(
                "the current credential is empty; leave it out for a first issue".into(),
            ));
        }
        let explanation = self
            .requests
            .explain(&NewRequest {
                requester: new.requester,
                kind: RequestKind::Rotate,
                identity: new.identity,
                entitlement: None,
                justification: new.justification.clone(),
                ttl: None,
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await?;
        let context = self
            .store
            .rotation_context(new.identity, new.system)
            .await?;
        let system = context
            .system
            .ok_or_else(|| CoreError::not_found(format!("system `{}`", new.system)))?;
        let identity = self
            .store
            .submit_context(new.requester, new.identity, None)
            .await?
            .identity
            .ok_or_else(|| CoreError::not_found(format!("identity `{}`", new.identity)))?;
        let account = match &context.account {
            Some(account) if account.status == AccountStatus::Disabled => {
                return Err(CoreError::Invalid(format!(
                    "the account `{}` of `{}` on `{}` is disabled; nothing to rotate",
                    account.key, identity.name, system.name
                )));
            }
            Some(account) => account.key.clone(),
            None => AccountKey::parse(identity.name.as_str())?,
        };
        if let (Some(active), None) = (&context.active, &new.current) {
            return Err(CoreError::Invalid(format!(
                "`{account}` on `{}` has a credential writ issued (version {}, {}): hand over \
                 the current one, which is checked against the target before anything changes",
                system.name, active.version, active.fingerprint
            )));
        }

        let now = self.clock.now();
        let allowed = explanation.decision.allowed;
        if allowed && !explanation.stages.is_empty() {
            return Err(CoreError::Internal(
                "a rotate request needs no approval stages, yet policy named some".into(),
            ));
        }
        let status = RequestStatus::Submitted.apply(if allowed {
            RequestEvent::AutoApproved
        } else {
            RequestEvent::PolicyRejected
        })?;
        let mut request = Request {
            id: RequestId::new(),
            // Allocated by the store when the request is written.
            number: RequestNumber::new(1)?,
            kind: RequestKind::Rotate,
            requester: new.requester,
            identity: new.identity,
            entitlement: None,
            justification: new.justification.trim().to_string(),
            requested_ttl: None,
            requested_end: None,
            new_owner: None,
            category: explanation.category,
            status,
            plan_hash: None,
            external_ref: None,
            created_at: now,
            sla_due: None,
            assignee: None,
            escalation: 0,
        };
        // The plan names the system and the account, so the job runs exactly what was decided.
        let plan_hash = request.plan(Some(system.id), Some(account.clone())).hash();
        request.plan_hash = Some(plan_hash);
        let not_before = new.not_before.filter(|t| *t > now).unwrap_or(now);
        // A refused request keeps no secret.
        let current = match (&new.current, allowed) {
            (Some(current), true) => Some(sealer.seal(request.id, current)?),
            _ => None,
        };
        let event = NewAuditEvent::new(
            now,
            Actor::principal(new.requester),
            if allowed {
                "request.submitted"
            } else {
                "request.rejected"
            },
        )
        .subject(SubjectRef::new("request", request.id))
        .subject(SubjectRef::new("identity", request.identity))
        .subject(SubjectRef::new("system", system.id))
        .data(serde_json::json!({
            "kind": request.kind.as_str(),
            "status": request.status.as_str(),
            "category": request.category.as_str(),
            "plan_hash": plan_hash.to_string(),
            "system": system.name.as_str(),
            "account": account.as_str(),
            "not_before": not_before.to_string(),
            "current_credential_handed_over": current.is_some(),
            "decision": serde_json::to_value(&explanation.decision).unwrap_or_default(),
        }));
        let decision = RequestDecision {
            record: serde_json::to_value(&explanation.decision)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            policy_set_hash: explanation.decision.policy_set_hash.to_string(),
        };
        let execute = allowed.then(|| {
            NewJob::new(
                JobPayload::ExecuteRequest {
                    request_id: request.id,
                    plan_hash,
                },
                not_before,
            )
        });
        let plan = RotationPlan {
            system: system.id,
            account,
            not_before,
            current,
        };
        let request = self
            .store
            .submit_rotation(request, decision, plan, event, execute)
            .await?;
        Ok(Submitted {
            request,
            explanation,
        })
    }
}
