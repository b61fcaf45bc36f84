//! Changing a pending request's plan (its TTL or end): policy decides the new plan as if it
//! were submitted, and approvals of the old plan no longer count, so its stages start again.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{PrincipalId, RequestId, RequestKind, RequestStatus, Timestamp, Ttl};
use writ_store::{PlanChange, RequestDecision};

use super::Requests;
use super::submit::NewRequest;
use crate::error::CoreError;

/// A new plan, as the requester asks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePlan {
    /// Who asks: the requester.
    pub by: PrincipalId,
    /// Which request.
    pub request: RequestId,
    /// The new TTL (the entitlement's default when absent).
    pub ttl: Option<Ttl>,
    /// The new latest end.
    pub end: Option<Timestamp>,
}

impl Requests {
    /// Gives a pending grant or exception a new TTL or end. A plan policy refuses leaves the
    /// request as it was (the refusal is audited); an accepted one voids earlier approvals.
    #[tracing::instrument(skip_all, fields(request = %change.request))]
    pub async fn change_plan(&self, change: ChangePlan) -> Result<(), CoreError> {
        let (request, _) = self
            .store
            .request(change.request)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("request `{}`", change.request)))?;
        if change.by != request.requester {
            return Err(CoreError::Forbidden(format!(
                "only the requester may change the plan of {}",
                request.number
            )));
        }
        if request.status != RequestStatus::PendingApproval {
            return Err(CoreError::NotPending {
                number: request.number.to_string(),
                status: request.status.to_string(),
            });
        }
        if !matches!(request.kind, RequestKind::Grant | RequestKind::Exception) {
            return Err(CoreError::Invalid(format!(
                "{} is a `{}` request, whose plan has no TTL to change",
                request.number, request.kind
            )));
        }
        let from_plan = request
            .plan_hash
            .ok_or_else(|| CoreError::Internal(format!("{} has no plan hash", request.number)))?;
        let asked = NewRequest {
            requester: request.requester,
            kind: request.kind,
            identity: request.identity,
            entitlement: request.entitlement,
            justification: request.justification.clone(),
            ttl: change.ttl,
            end: change.end,
            external_ref: request.external_ref.clone(),
            new_owner: request.new_owner,
        };
        let (facts, explanation) = self.decide_submit(&asked).await?;
        let now = self.clock.now();
        let subjects = |event: NewAuditEvent| {
            event
                .subject(SubjectRef::new("request", request.id))
                .subject(SubjectRef::new("identity", request.identity))
        };
        let decision = &explanation.decision;
        let first = match explanation.stages.first() {
            Some(first) if decision.allowed => first,
            _ => {
                let refused = subjects(NewAuditEvent::new(
                    now,
                    Actor::principal(change.by),
                    "request.plan_change_refused",
                ))
                .data(serde_json::json!({
                    "number": request.number.to_string(),
                    "decision": serde_json::to_value(decision).unwrap_or_default(),
                }));
                self.store.append_audit(vec![refused]).await?;
                return Err(CoreError::Refused(decision.clone()));
            }
        };
        let mut changed = request.clone();
        changed.requested_ttl = facts.request.effective_ttl();
        changed.requested_end = change.end;
        let plan_hash = changed.plan(facts.system, None).hash();
        if plan_hash == from_plan {
            return Err(CoreError::Invalid(format!(
                "the new plan of {} is the same as the current one",
                request.number
            )));
        }
        let route = self
            .route(&facts.request, first, 0, &[], now, request.category)
            .await?;
        let event = subjects(NewAuditEvent::new(
            now,
            Actor::principal(change.by),
            "request.plan_changed",
        ))
        .data(serde_json::json!({
            "number": request.number.to_string(),
            "from_plan_hash": from_plan.to_string(),
            "plan_hash": plan_hash.to_string(),
            "ttl": changed.requested_ttl.map(|t| t.to_string()),
            "end": changed.requested_end.map(|t| t.to_string()),
            "decision": serde_json::to_value(decision).unwrap_or_default(),
            "stages": explanation.stages.iter().map(|s| s.name.to_string()).collect::<Vec<_>>(),
        }));
        let change = PlanChange {
            request: request.id,
            from_plan,
            ttl: changed.requested_ttl,
            end: changed.requested_end,
            plan_hash,
            decision: RequestDecision {
                record: serde_json::to_value(decision)
                    .map_err(|e| CoreError::Internal(e.to_string()))?,
                policy_set_hash: decision.policy_set_hash.to_string(),
            },
            route,
        };
        self.store.change_plan(change, event).await?;
        Ok(())
    }
}
