//! Routing: who is asked to decide a pending request's current stage, by when, and what
//! happens when nobody decides in time. An overdue stage escalates to the next accountable
//! rule (`writ_policy::escalation_ladder`), whose people may then decide it too; a stage with
//! nobody left to escalate to expires the request.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{ApprovalStage, ApproverRule, PrincipalId, Request, RequestEvent, Timestamp};
use writ_policy::{RequestFacts, escalation_ladder, required_stages};
use writ_store::{Route, Seen, StoreError};

use super::Requests;
use super::facts::facts;
use crate::error::CoreError;

/// What one sweep of overdue requests did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverdueSweep {
    /// Stages escalated to the next accountable rule.
    pub escalated: usize,
    /// Requests expired with nobody left to escalate to.
    pub expired: usize,
    /// Break-glass post-use reviews escalated to the security group.
    pub reviews_escalated: usize,
}

/// Requests handled per store read of the sweep.
const SWEEP_BATCH: u32 = 100;

impl Requests {
    /// The route of `stage` at escalation `level`: the people of the rule it stands at (the
    /// stage's own at level 0), minus the requester and the approvers of other stages.
    pub(super) async fn route(
        &self,
        request: &RequestFacts,
        stage: &ApprovalStage,
        level: u32,
        other_deciders: &[PrincipalId],
        from: Timestamp,
        category: writ_domain::Category,
    ) -> Result<Route, CoreError> {
        let rule = match level.checked_sub(1) {
            None => stage.approvers.clone(),
            Some(rung) => escalation_ladder(&stage.approvers, &self.stage_defaults())
                .get(rung as usize)
                .cloned()
                .ok_or_else(|| {
                    CoreError::Internal(format!("stage `{}` has no escalation {level}", stage.name))
                })?,
        };
        let mut candidates = self.people_of(&rule, request).await?;
        candidates.retain(|p| *p != request.requester.id && !other_deciders.contains(p));
        Ok(Route {
            pool: match &rule {
                ApproverRule::Group(group) => Some(format!("group:{group}")),
                _ => None,
            },
            candidates,
            sla_due: self.sla.due(category, from),
            escalation: level,
        })
    }

    /// Who `rule` names for `request`, in a stable order.
    async fn people_of(
        &self,
        rule: &ApproverRule,
        request: &RequestFacts,
    ) -> Result<Vec<PrincipalId>, CoreError> {
        let entitlement = request.entitlement.as_ref();
        Ok(match rule {
            ApproverRule::IdentityOwner => vec![request.identity.owner.id],
            ApproverRule::EntitlementOwner => entitlement.map(|e| e.owner).into_iter().collect(),
            ApproverRule::SystemOwner => entitlement.map(|e| e.system_owner).into_iter().collect(),
            ApproverRule::Principal(id) => vec![*id],
            ApproverRule::Group(group) => self
                .store
                .principals_in_group(group)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect(),
        })
    }

    /// Escalates or expires every request whose stage is overdue at the clock's now, and
    /// escalates every overdue break-glass review.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_overdue(&self) -> Result<OverdueSweep, CoreError> {
        let now = self.clock.now();
        let mut sweep = OverdueSweep {
            reviews_escalated: self.escalate_overdue_reviews().await?,
            ..OverdueSweep::default()
        };
        loop {
            let overdue = self.store.overdue_requests(now, SWEEP_BATCH).await?;
            let batch = overdue.len();
            let mut moved = 0;
            for request in overdue {
                match self.settle_overdue(&request, now).await {
                    Ok(true) => sweep.escalated += 1,
                    Ok(false) => sweep.expired += 1,
                    // Decided, cancelled or changed meanwhile: nothing is overdue any more.
                    Err(CoreError::Store(StoreError::Conflict { .. })) => continue,
                    Err(err) => return Err(err),
                }
                moved += 1;
            }
            if batch < SWEEP_BATCH as usize || moved == 0 {
                return Ok(sweep);
            }
        }
    }

    /// Escalates one overdue request (true) or, with nobody left, expires it (false).
    async fn settle_overdue(&self, request: &Request, now: Timestamp) -> Result<bool, CoreError> {
        let context = self
            .store
            .approval_context(request.id, request.requester)
            .await?;
        let plan = request
            .plan_hash
            .ok_or_else(|| CoreError::Internal(format!("{} has no plan hash", request.number)))?;
        let ask = self.ask_of(request).await?;
        let facts = facts(&ask, &context.facts.unwrap_or_default(), &self.roles)?;
        let stages = required_stages(&facts.request, &self.stage_defaults());
        let approved: Vec<_> = context
            .approvals
            .iter()
            .filter(|a| a.approves(&plan))
            .collect();
        let stage = stages.get(approved.len()).ok_or_else(|| {
            CoreError::Internal(format!(
                "{} has no stage {}",
                request.number,
                approved.len()
            ))
        })?;
        let deciders: Vec<PrincipalId> = approved.iter().map(|a| a.approver).collect();
        let seen = Seen {
            request: request.id,
            sla_due: request.sla_due.unwrap_or(now),
            escalation: request.escalation,
        };
        let subjects = |event: NewAuditEvent| {
            event
                .subject(SubjectRef::new("request", request.id))
                .subject(SubjectRef::new("identity", request.identity))
        };
        let rungs = escalation_ladder(&stage.approvers, &self.stage_defaults()).len() as u32;
        // Escalate to the first rung that adds someone who could not decide before.
        let mut eligible = Vec::new();
        for level in 0..=rungs {
            let route = self
                .route(
                    &facts.request,
                    stage,
                    level,
                    &deciders,
                    now,
                    request.category,
                )
                .await?;
            let adds_someone = route.candidates.iter().any(|p| !eligible.contains(p));
            eligible.extend(route.candidates.iter().copied());
            if level <= request.escalation || !adds_someone {
                continue;
            }
            let event = subjects(NewAuditEvent::new(
                now,
                Actor::system("sla"),
                "request.escalated",
            ))
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "stage": stage.name.to_string(),
                "escalation": level,
                "overdue_since": seen.sla_due.to_string(),
                "sla_due": route.sla_due.to_string(),
                "eligible": route.candidates.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            }));
            self.store.escalate_request(seen, route, event).await?;
            return Ok(true);
        }
        request.status.apply(RequestEvent::ApprovalSlaExpired)?;
        let event = subjects(NewAuditEvent::new(now, Actor::system("sla"), "request.expired"))
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "stage": stage.name.to_string(),
                "escalation": request.escalation,
                "overdue_since": seen.sla_due.to_string(),
                "reason": "nobody decided the stage within its SLA, and nobody is left to escalate it to",
            }));
        self.store.expire_request(seen, event).await?;
        Ok(false)
    }
}
