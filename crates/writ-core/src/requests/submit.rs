//! Submitting a request: policy decides at once; the request is stored either way, rejected
//! with its reasons or pending its approvers, with the decision and its audit event.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::job::{JobPayload, NewJob};
use writ_domain::{
    ApprovalStage, Category, EntitlementId, ExternalRef, IdentityId, NewNotification,
    NotificationTopic, PrincipalId, Request, RequestEvent, RequestId, RequestKind, RequestNumber,
    RequestStatus, Risk, TicketRecord, Timestamp, Ttl,
};
use writ_policy::{DecisionRecord, RequestFacts, SubmitInput, has_security_stage, required_stages};
use writ_store::{NewReview, RequestDecision, Submission};

use super::Requests;
use super::facts::{Ask, Facts, facts};
use crate::error::CoreError;

/// A request as its requester asks it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    /// Who asks.
    pub requester: PrincipalId,
    /// What change.
    pub kind: RequestKind,
    /// For which registered identity.
    pub identity: IdentityId,
    /// Which catalog entitlement (access kinds only).
    pub entitlement: Option<EntitlementId>,
    /// Why, in the requester's words.
    pub justification: String,
    /// How long, counted from fulfilment (the entitlement's default when absent).
    pub ttl: Option<Ttl>,
    /// The latest end.
    pub end: Option<Timestamp>,
    /// The service-desk ticket it came from.
    pub external_ref: Option<ExternalRef>,
    /// Who becomes the identity's owner (`transfer` only).
    pub new_owner: Option<PrincipalId>,
}

/// What policy says of a request, and who would have to approve it.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The decision with every reason in plain words.
    pub decision: DecisionRecord,
    /// The approval stages it needs, in order (none when refused or pre-approved).
    pub stages: Vec<ApprovalStage>,
    /// Its routing category.
    pub category: Category,
}

/// A stored request and why it stands where it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The request, numbered: `rejected`, `pending_approval` or (pre-approved) `approved`.
    pub request: Request,
    /// The decision and the stages.
    pub explanation: Explanation,
}

impl Requests {
    /// What policy would decide, without storing anything (`writ policy explain`).
    #[tracing::instrument(skip_all, fields(kind = %new.kind))]
    pub async fn explain(&self, new: &NewRequest) -> Result<Explanation, CoreError> {
        let (_, explanation) = self.decide_submit(new).await?;
        Ok(explanation)
    }

    /// Decides and stores a request with its decision and audit event. If what the decision
    /// counted changed before it was written (a concurrent submission for the same owner), it
    /// is decided again.
    #[tracing::instrument(skip_all, fields(kind = %new.kind))]
    pub async fn submit(&self, new: NewRequest) -> Result<Submitted, CoreError> {
        self.submit_with(new, None).await
    }

    /// Submits a request born of a service-desk ticket, recording `ticket` as `submitted` in
    /// the same transaction. A ticket that already made a request refuses the write with
    /// [`writ_store::StoreError::TicketTaken`], so no ticket makes two.
    #[tracing::instrument(skip_all, fields(ticket = %ticket.reference.key))]
    pub async fn submit_ticket(
        &self,
        new: NewRequest,
        ticket: TicketRecord,
    ) -> Result<Submitted, CoreError> {
        self.submit_with(new, Some(ticket)).await
    }

    async fn submit_with(
        &self,
        new: NewRequest,
        ticket: Option<TicketRecord>,
    ) -> Result<Submitted, CoreError> {
        const ATTEMPTS: usize = 5;
        let mut attempt = 1;
        loop {
            match self.submit_once(&new, ticket.clone()).await {
                Err(CoreError::Store(writ_store::StoreError::Conflict { .. }))
                    if attempt < ATTEMPTS =>
                {
                    attempt += 1
                }
                outcome => return outcome,
            }
        }
    }

    async fn submit_once(
        &self,
        new: &NewRequest,
        ticket: Option<TicketRecord>,
    ) -> Result<Submitted, CoreError> {
        let (facts, explanation) = self.decide_submit(new).await?;
        let now = self.clock.now();
        let event = if explanation.decision.allowed {
            RequestEvent::PolicyAccepted
        } else {
            RequestEvent::PolicyRejected
        };
        let mut status = RequestStatus::Submitted.apply(event)?;
        if explanation.decision.allowed && explanation.stages.is_empty() {
            status = RequestStatus::Submitted.apply(RequestEvent::AutoApproved)?;
        }
        let mut request = Request {
            id: RequestId::new(),
            // Allocated by the store when the request is written.
            number: RequestNumber::new(1)?,
            kind: new.kind,
            requester: new.requester,
            identity: new.identity,
            entitlement: new.entitlement,
            justification: new.justification.trim().to_string(),
            requested_ttl: facts.request.effective_ttl(),
            requested_end: new.end,
            new_owner: new.new_owner,
            category: explanation.category,
            status,
            plan_hash: None,
            external_ref: new.external_ref.clone(),
            created_at: now,
            sla_due: None,
            assignee: None,
            escalation: 0,
        };
        // Accounts arrive with execution; until then the plan names identity, system,
        // entitlement and TTL.
        request.plan_hash = Some(request.plan(facts.system, None).hash());

        let action = if explanation.decision.allowed {
            "request.submitted"
        } else {
            "request.rejected"
        };
        let mut audit = NewAuditEvent::new(now, Actor::principal(new.requester), action)
            .subject(SubjectRef::new("request", request.id))
            .subject(SubjectRef::new("identity", request.identity))
            .data(serde_json::json!({
                "kind": request.kind.as_str(),
                "status": request.status.as_str(),
                "category": request.category.as_str(),
                "ttl": request.requested_ttl.map(|t| t.to_string()),
                "plan_hash": request.plan_hash.map(|h| h.to_string()),
                "decision": serde_json::to_value(&explanation.decision).unwrap_or_default(),
                "stages": explanation.stages.iter().map(|s| s.name.to_string()).collect::<Vec<_>>(),
            }));
        if let Some(entitlement) = request.entitlement {
            audit = audit.subject(SubjectRef::new("entitlement", entitlement));
        }
        let decision = RequestDecision {
            record: serde_json::to_value(&explanation.decision)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            policy_set_hash: explanation.decision.policy_set_hash.to_string(),
        };
        let execute = (request.status == RequestStatus::Approved)
            .then(|| execute_job(&request, now))
            .flatten();
        let route = match (request.status, explanation.stages.first()) {
            (RequestStatus::PendingApproval, Some(first)) => Some(
                self.route(&facts.request, first, 0, &[], now, request.category)
                    .await?,
            ),
            _ => None,
        };
        // Break-glass access is granted at once and reviewed after use by the identity's owner.
        let review = (request.kind == RequestKind::BreakGlass
            && request.status == RequestStatus::Approved)
            .then(|| NewReview {
                assignee: Some(facts.request.identity.owner.id),
                due_at: self.sla.due(Category::Emergency, now),
            });
        let notify = match review {
            Some(_) => self.break_glass_notices(&request, &facts.request).await?,
            None => Vec::new(),
        };
        if !notify.is_empty() {
            audit = audit.data_field(
                "notified",
                notify
                    .iter()
                    .map(|n| n.recipient.to_string())
                    .collect::<Vec<_>>(),
            );
        }
        let request = self
            .store
            .submit_request(Submission {
                request,
                decision,
                event: audit,
                execute,
                decided_on: facts.decided_on,
                route,
                review,
                notify,
                ticket,
            })
            .await?;
        Ok(Submitted {
            request,
            explanation,
        })
    }

    /// Break-glass access granted at once tells the identity's owner and every member of the
    /// security group, in the transaction that grants it; the requester is never told of their
    /// own emergency access as though they were its reviewer.
    async fn break_glass_notices(
        &self,
        request: &Request,
        facts: &RequestFacts,
    ) -> Result<Vec<NewNotification>, CoreError> {
        let security = self
            .store
            .principals_in_group(&self.roles.security_group)
            .await?;
        let entitlement = facts
            .entitlement
            .as_ref()
            .map(|e| format!("{} on {}", e.name, e.system))
            .unwrap_or_default();
        // The number is allocated as the request is written; the inbox shows it beside this.
        let summary = format!(
            "break-glass: {} holds {entitlement} now; its post-use review waits for you",
            facts.identity.name
        );
        let recipients = std::iter::once(facts.identity.owner.id)
            .chain(security.iter().map(|p| p.id))
            .filter(|p| *p != request.requester);
        Ok(NewNotification::to_each(
            recipients,
            NotificationTopic::BreakGlassUsed,
            request.id,
            &summary,
        ))
    }

    pub(super) async fn decide_submit(
        &self,
        new: &NewRequest,
    ) -> Result<(Facts, Explanation), CoreError> {
        let ask = Ask {
            kind: new.kind,
            requester: new.requester,
            identity: new.identity,
            entitlement: new.entitlement,
            ttl: new.ttl,
            end: new.end,
            new_owner: self.new_owner(new.new_owner).await?,
        };
        let context = self
            .store
            .submit_context(new.requester, new.identity, new.entitlement)
            .await?;
        let facts = facts(&ask, &context, &self.roles)?;
        let defaults = self.stage_defaults();
        let stages = required_stages(&facts.request, &defaults);
        let input = SubmitInput {
            request: facts.request.clone(),
            now: self.clock.now(),
            justification_present: !new.justification.trim().is_empty(),
            sod_conflicts: facts.sod_conflicts.clone(),
            open_break_glass_review: facts.open_break_glass_review,
            security_stage: has_security_stage(&stages, &defaults),
        };
        let decision = self.policy.decide_submit(&input);
        let (risk, environment) = match &facts.request.entitlement {
            Some(e) => (e.risk, e.environment),
            None => (Risk::Low, facts.request.identity.environment),
        };
        let allowed = decision.allowed();
        let explanation = Explanation {
            decision: decision.record().clone(),
            stages: if allowed { stages } else { Vec::new() },
            category: Category::derive(new.kind, risk, environment),
        };
        Ok((facts, explanation))
    }
}

/// The job that carries out an approved request, keyed by request and plan so a replay of it
/// is recognised.
pub(super) fn execute_job(request: &Request, now: Timestamp) -> Option<NewJob> {
    let plan_hash = request.plan_hash?;
    Some(NewJob::new(
        JobPayload::ExecuteRequest {
            request_id: request.id,
            plan_hash,
        },
        now,
    ))
}
