//! An approver's decision on the current stage of a pending request: policy decides whether
//! this approver may decide it; the decision binds to the plan the approver saw.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Approval, ApprovalDecision, ApprovalId, Name, PlanHash, PrincipalId, RequestEvent, RequestId,
    RequestStatus,
};
use writ_policy::{ApproveInput, escalation_ladder, required_stages};

use super::Requests;
use super::facts::{facts, principal_facts};
use crate::error::CoreError;

/// An approver's decision, as they give it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decide {
    /// Who decides.
    pub approver: PrincipalId,
    /// On which request.
    pub request: RequestId,
    /// Approve or deny.
    pub decision: ApprovalDecision,
    /// Why (required to deny).
    pub reason: Option<String>,
    /// The plan hash of what the approver was shown; a request whose plan changed since is
    /// refused, so nobody approves what they did not see.
    pub plan_hash: PlanHash,
}

/// Where the request stands after the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Approved at this stage; the named stage is next.
    NextStage(Name),
    /// Every stage approved.
    Approved,
    /// Denied: final.
    Denied,
}

impl Requests {
    /// Records an approver's decision on the request's current stage, if policy lets this
    /// approver decide it. A refusal changes nothing but is audited, with its reasons.
    #[tracing::instrument(skip_all, fields(request = %decide.request))]
    pub async fn decide(&self, decide: Decide) -> Result<Decided, CoreError> {
        if decide.decision == ApprovalDecision::Deny
            && decide.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(CoreError::Invalid("a denial needs a reason".into()));
        }
        let context = self
            .store
            .approval_context(decide.request, decide.approver)
            .await?;
        let (request, _) = context
            .request
            .ok_or_else(|| CoreError::not_found(format!("request `{}`", decide.request)))?;
        let approver = context
            .approver
            .ok_or_else(|| CoreError::not_found(format!("principal `{}`", decide.approver)))?;
        if request.status != RequestStatus::PendingApproval {
            return Err(CoreError::NotPending {
                number: request.number.to_string(),
                status: request.status.to_string(),
            });
        }
        let current_plan = request
            .plan_hash
            .ok_or_else(|| CoreError::Internal(format!("{} has no plan hash", request.number)))?;
        let facts = facts(
            &self.ask_of(&request).await?,
            &context.facts.unwrap_or_default(),
            &self.roles,
        )?;
        let stages = required_stages(&facts.request, &self.stage_defaults());
        // Approvals of an earlier plan no longer count: the stages start again.
        let prior: Vec<Approval> = context
            .approvals
            .into_iter()
            .filter(|a| a.approves(&current_plan))
            .collect();
        let stage_index = prior.len();
        let stage = stages.get(stage_index).cloned().ok_or_else(|| {
            CoreError::Internal(format!("{} has no stage {stage_index}", request.number))
        })?;
        let now = self.clock.now();
        let mut escalated_to = escalation_ladder(&stage.approvers, &self.stage_defaults());
        escalated_to.truncate(request.escalation as usize);
        let input = ApproveInput {
            request: facts.request.clone(),
            approver: principal_facts(&approver, &self.roles),
            stage: stage.clone(),
            escalated_to,
            decision: decide.decision,
            plan_hash: decide.plan_hash,
            approved_plan_hash: current_plan,
            prior_approvals: prior,
        };
        let decision = self.policy.decide_approval(&input);
        let subjects = |event: NewAuditEvent| {
            event
                .subject(SubjectRef::new("request", request.id))
                .subject(SubjectRef::new("principal", approver.id))
        };
        let permit = match decision.into_permit() {
            Ok(permit) => permit,
            Err(record) => {
                let refused = subjects(NewAuditEvent::new(
                    now,
                    Actor::principal(approver.id),
                    "approval.refused",
                ))
                .data(serde_json::json!({
                    "number": request.number.to_string(),
                    "stage": stage.name.to_string(),
                    "decision": decide.decision.as_str(),
                    "reasons": serde_json::to_value(&record.reasons).unwrap_or_default(),
                    "policy_set_hash": record.policy_set_hash.to_string(),
                }));
                self.store.append_audit(vec![refused]).await?;
                return Err(CoreError::Refused(record));
            }
        };
        let (status, outcome) = match decide.decision {
            ApprovalDecision::Deny => {
                (request.status.apply(RequestEvent::Denied)?, Decided::Denied)
            }
            ApprovalDecision::Approve => match stages.get(stage_index + 1) {
                Some(next) => (request.status, Decided::NextStage(next.name.clone())),
                None => (
                    request.status.apply(RequestEvent::AllStagesApproved)?,
                    Decided::Approved,
                ),
            },
        };
        let record = permit.into_record();
        let approval = Approval {
            id: ApprovalId::new(),
            request: request.id,
            stage: stage.name.clone(),
            approver: approver.id,
            decision: decide.decision,
            reason: decide
                .reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            at: now,
            plan_hash: decide.plan_hash,
            policy_ids: record.policy_ids.clone(),
        };
        let action = match outcome {
            Decided::Denied => "request.denied",
            Decided::Approved => "request.approved",
            Decided::NextStage(_) => "approval.recorded",
        };
        let event = subjects(NewAuditEvent::new(
            now,
            Actor::principal(approver.id),
            action,
        ))
        .data(serde_json::json!({
            "number": request.number.to_string(),
            "stage": stage.name.to_string(),
            "stage_index": stage_index,
            "decision": decide.decision.as_str(),
            "reason": approval.reason,
            "plan_hash": approval.plan_hash.to_string(),
            "policy_ids": record.policy_ids,
            "policy_set_hash": record.policy_set_hash.to_string(),
            "status": status.as_str(),
        }));
        let execute = match outcome {
            Decided::Approved => super::submit::execute_job(&request, now),
            Decided::NextStage(_) | Decided::Denied => None,
        };
        let route = match (&outcome, stages.get(stage_index + 1)) {
            (Decided::NextStage(_), Some(next)) => {
                let deciders: Vec<_> = input
                    .prior_approvals
                    .iter()
                    .map(|a| a.approver)
                    .chain([approver.id])
                    .collect();
                Some(
                    self.route(&facts.request, next, 0, &deciders, now, request.category)
                        .await?,
                )
            }
            _ => None,
        };
        let index = u32::try_from(stage_index).map_err(|e| CoreError::Internal(e.to_string()))?;
        self.store
            .record_approval(approval, index, status, event, execute, route)
            .await?;
        Ok(outcome)
    }
}
