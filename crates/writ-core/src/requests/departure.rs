//! Owners who leave: every identity they owned gets a `transfer` request, filed by writ
//! itself, to a fallback owner (their manager, else the owner of a system the identity has an
//! account on), who accepts it by approving. Nothing they owned is left without an owner
//! unnoticed.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::job::{JobPayload, NewJob};
use writ_domain::{
    Identity, IdentityId, Principal, PrincipalId, RequestKind, RequestNumber, Timestamp,
};
use writ_store::Enqueued;

use super::Requests;
use super::submit::NewRequest;
use crate::error::CoreError;

/// What became of one identity whose owner left.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    /// The identity.
    pub identity: Identity,
    /// The owner who left.
    pub from: PrincipalId,
    /// The fallback owner asked to accept it, if there is one.
    pub to: Option<PrincipalId>,
    /// The transfer request filed, if policy accepted it.
    pub request: Option<RequestNumber>,
}

impl Requests {
    /// Files a transfer to a fallback owner for every identity whose owner has left.
    #[tracing::instrument(skip_all)]
    pub async fn hand_over_departed(&self) -> Result<Vec<Handover>, CoreError> {
        let mut handovers = Vec::new();
        for (identity, owner) in self.store.orphaned_identities().await? {
            let to = self.fallback_owner(&identity, &owner).await?;
            let request = match &to {
                Some(to) => {
                    let submitted = self
                        .submit(NewRequest {
                            requester: PrincipalId::SYSTEM,
                            kind: RequestKind::Transfer,
                            identity: identity.id,
                            entitlement: None,
                            justification: format!(
                                "`{}` has left; `{}` is asked to take over `{}`",
                                owner.name, to.name, identity.name
                            ),
                            ttl: None,
                            end: None,
                            external_ref: None,
                            new_owner: Some(to.id),
                        })
                        .await?;
                    submitted
                        .explanation
                        .decision
                        .allowed
                        .then_some(submitted.request.number)
                }
                None => {
                    // Nobody to hand it to: suspended at once, until an admin transfers it.
                    tracing::warn!(identity = %identity.name, owner = %owner.name, "an identity's owner left and nobody can take it over: suspending it");
                    self.queue_suspension(
                        identity.id,
                        "its owner left and nobody can take it over",
                    )
                    .await?;
                    None
                }
            };
            handovers.push(Handover {
                from: owner.id,
                to: to.map(|p| p.id),
                request,
                identity,
            });
        }
        Ok(handovers)
    }

    /// Suspends every identity whose hand-over has waited longer than the grace period: a
    /// `suspend_identity` job disables its accounts (grants are kept). Returns how many were
    /// queued.
    #[tracing::instrument(skip_all)]
    pub async fn suspend_unclaimed(&self) -> Result<usize, CoreError> {
        let now = self.clock.now();
        let grace = i64::try_from(self.handover_grace.as_micros()).unwrap_or(i64::MAX);
        let cutoff = Timestamp::from_micros(now.as_micros().saturating_sub(grace));
        let mut queued = 0;
        for identity in self.store.due_suspensions(cutoff).await? {
            let reason = "its owner left and nobody accepted it within the hand-over grace period";
            if self.queue_suspension(identity, reason).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues the job that suspends `identity`; false if it is already queued.
    async fn queue_suspension(
        &self,
        identity: IdentityId,
        reason: &str,
    ) -> Result<bool, CoreError> {
        let now = self.clock.now();
        let event = NewAuditEvent::new(now, Actor::system("departure"), "identity.suspending")
            .subject(SubjectRef::new("identity", identity))
            .data(serde_json::json!({ "reason": reason }));
        let job = NewJob::new(
            JobPayload::SuspendIdentity {
                identity_id: identity,
            },
            now,
        );
        Ok(matches!(
            self.store.enqueue_job(job, event).await?,
            Enqueued::New(_)
        ))
    }

    /// Who takes over an identity from `owner`: their manager if active, else the owner of a
    /// system the identity has an account on.
    async fn fallback_owner(
        &self,
        identity: &Identity,
        owner: &Principal,
    ) -> Result<Option<Principal>, CoreError> {
        if let Some(manager) = owner.manager {
            let manager = self.store.principal(manager).await?;
            if let Some(manager) = manager.filter(|m| m.active) {
                return Ok(Some(manager));
            }
        }
        Ok(self
            .store
            .system_owners_of(identity.id)
            .await?
            .into_iter()
            .find(|p| p.id != owner.id))
    }
}
