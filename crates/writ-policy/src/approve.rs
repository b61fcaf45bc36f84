//! The approver decision: may this approver decide this stage of this request?

use cedar_policy::{Context, RestrictedExpression};
use writ_domain::{Approval, ApprovalDecision, ApprovalStage, ApproverRule, PlanHash};

use crate::action::Action;
use crate::decision::{ApprovalPermit, Decision, EVALUATION_ERROR, REQUEST_SHAPE};
use crate::engine::PolicyEngine;
use crate::entities::shape_problem;
use crate::facts::{PrincipalFacts, RequestFacts};
use crate::stages::stage_rule_matches;
use crate::values::ReasonValues;

/// Everything the approver decision is made on.
#[derive(Debug, Clone, PartialEq)]
pub struct ApproveInput {
    /// The request decided on.
    pub request: RequestFacts,
    /// Who decides.
    pub approver: PrincipalFacts,
    /// The stage decided (one of [`crate::required_stages`]).
    pub stage: ApprovalStage,
    /// The rules the stage has escalated to past its SLA (a prefix of
    /// [`crate::escalation_ladder`]); their principals may decide it too.
    pub escalated_to: Vec<ApproverRule>,
    /// Approve or deny.
    pub decision: ApprovalDecision,
    /// The hash of the request's current plan.
    pub plan_hash: PlanHash,
    /// The hash of the plan the approver saw.
    pub approved_plan_hash: PlanHash,
    /// The approvals already recorded on the request; writ counts the other stages this
    /// approver approved for the current plan.
    pub prior_approvals: Vec<Approval>,
}

/// The Cedar context of an approval.
pub(crate) fn approval_context(input: &ApproveInput) -> Result<Context, String> {
    let approver = &input.approver;
    let other_stages = input
        .prior_approvals
        .iter()
        .filter(|a| {
            a.approver == approver.id && a.stage != input.stage.name && a.approves(&input.plan_hash)
        })
        .count();
    let pairs = [
        (
            "decision".to_owned(),
            RestrictedExpression::new_string(input.decision.as_str().to_owned()),
        ),
        (
            "stage".to_owned(),
            RestrictedExpression::new_string(input.stage.name.to_string()),
        ),
        (
            "stage_rule_matches".to_owned(),
            RestrictedExpression::new_bool(
                std::iter::once(&input.stage.approvers)
                    .chain(&input.escalated_to)
                    .any(|rule| stage_rule_matches(rule, approver, &input.request)),
            ),
        ),
        (
            "requester_manager".to_owned(),
            RestrictedExpression::new_bool(input.request.requester.manager == Some(approver.id)),
        ),
        (
            "other_stages_approved".to_owned(),
            RestrictedExpression::new_long(i64::try_from(other_stages).unwrap_or(i64::MAX)),
        ),
        (
            "plan_hash".to_owned(),
            RestrictedExpression::new_string(input.plan_hash.to_string()),
        ),
        (
            "approved_plan_hash".to_owned(),
            RestrictedExpression::new_string(input.approved_plan_hash.to_string()),
        ),
    ];
    Context::from_pairs(pairs).map_err(|e| e.to_string())
}

impl PolicyEngine {
    /// Decides whether `input.approver` may record `input.decision` on `input.stage`: allowed
    /// with an [`ApprovalPermit`] bound to the plan the approver saw, or refused with every
    /// reason in plain words.
    pub fn decide_approval(&self, input: &ApproveInput) -> Decision<ApprovalPermit> {
        let request = &input.request;
        if let Some(problem) = shape_problem(request) {
            return Decision::Refused(self.refusal(REQUEST_SHAPE, problem));
        }
        let values = ReasonValues {
            request,
            sod_conflicts: &[],
            approver: Some(&input.approver),
            stage: Some(&input.stage),
        };
        let record = match self.names.request(request, Some(&input.approver)) {
            Ok(built) => self.evaluate(
                Action::Approve,
                request.entitlement.as_ref().map(|e| e.system.as_str()),
                self.names.principal(input.approver.id),
                built,
                approval_context(input),
                &|p| values.value(p),
            ),
            Err(message) => self.refusal(EVALUATION_ERROR, message),
        };
        if record.allowed {
            Decision::Allowed(ApprovalPermit {
                record,
                approver: input.approver.id,
                stage: input.stage.name.clone(),
                decision: input.decision,
                plan_hash: input.approved_plan_hash,
            })
        } else {
            Decision::Refused(record)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use writ_domain::{ApprovalId, ApproverRule, RequestId, RequestKind, Timestamp};

    use super::*;
    use crate::testing::{
        assert_allowed, ci_token, name, person, refused_by, request, shipped, writer,
    };

    fn plan(byte: u8) -> PlanHash {
        PlanHash::from_bytes([byte; 32])
    }

    /// A team member asks for the writer on the owner's CI token; the owner decides stage
    /// `identity owner` of plan 1.
    pub(crate) fn owner_approves() -> ApproveInput {
        let owner = person("Olivia Owner");
        let identity = ci_token(&owner);
        let mut requester = person("Tom Teammate");
        requester.groups = vec!["payments".into()];
        ApproveInput {
            request: request(RequestKind::Grant, &requester, &identity, &writer(), "1d"),
            approver: owner,
            stage: ApprovalStage {
                name: name("identity owner"),
                approvers: ApproverRule::IdentityOwner,
            },
            escalated_to: Vec::new(),
            decision: ApprovalDecision::Approve,
            plan_hash: plan(1),
            approved_plan_hash: plan(1),
            prior_approvals: Vec::new(),
        }
    }

    fn security_stage() -> ApprovalStage {
        ApprovalStage {
            name: name("security"),
            approvers: ApproverRule::Group("security".into()),
        }
    }

    fn approval_by(approver: &PrincipalFacts, stage: &str, plan_hash: PlanHash) -> Approval {
        Approval {
            id: ApprovalId::new(),
            request: RequestId::new(),
            stage: name(stage),
            approver: approver.id,
            decision: ApprovalDecision::Approve,
            reason: None,
            at: Timestamp::EPOCH,
            plan_hash,
            policy_ids: vec!["approve_base".into()],
        }
    }

    #[test]
    fn the_identity_owner_may_approve_the_owner_stage() {
        let input = owner_approves();
        let decision = shipped().decide_approval(&input);
        assert_allowed(&decision);
        assert_eq!(decision.policy_ids(), ["approve_base"]);
        let permit = decision.into_permit().unwrap();
        assert_eq!(permit.approver(), input.approver.id);
        assert_eq!(permit.stage().as_str(), "identity owner");
        assert_eq!(permit.plan_hash(), plan(1));
        assert_eq!(permit.decision(), ApprovalDecision::Approve);
    }

    #[test]
    fn an_escalated_stage_may_be_decided_by_the_rule_it_escalated_to() {
        let mut input = owner_approves();
        let mut reviewer = person("Sam Security");
        reviewer.groups = vec!["security".into()];
        input.approver = reviewer;
        refused_by(
            &shipped().decide_approval(&input),
            &["approver_eligible_for_stage"],
        );
        input.escalated_to = vec![ApproverRule::Group("security".into())];
        assert!(shipped().decide_approval(&input).allowed());
    }

    #[test]
    fn the_requester_may_not_approve_their_own_request() {
        let mut input = owner_approves();
        input.request.requester = input.approver.clone();
        input.approver.groups.push("security".into());
        input.stage = security_stage();
        let messages = refused_by(&shipped().decide_approval(&input), &["no_self_approval"]);
        assert_eq!(
            messages,
            ["`Olivia Owner` requested this change and may not approve it"]
        );
    }

    #[test]
    fn the_requesters_manager_who_does_not_own_the_identity_is_refused() {
        let mut input = owner_approves();
        let manager = person("Max Manager");
        input.request.requester.manager = Some(manager.id);
        input.approver = manager;
        let messages = refused_by(
            &shipped().decide_approval(&input),
            &["manager_not_enough_for_nhi"],
        );
        assert_eq!(
            messages,
            [
                "being the requester's manager is not enough to approve access for the non-human identity `payments-ci`: stage `identity owner` needs the identity's owner `Olivia Owner`"
            ]
        );
    }

    #[test]
    fn the_requesters_manager_may_approve_a_stage_they_are_eligible_for() {
        let mut input = owner_approves();
        let mut manager = person("Max Manager");
        manager.groups = vec!["security".into()];
        input.request.requester.manager = Some(manager.id);
        input.approver = manager;
        input.stage = security_stage();
        assert_allowed(&shipped().decide_approval(&input));
    }

    #[test]
    fn an_approver_outside_the_stage_rule_is_refused_naming_who_may() {
        let mut input = owner_approves();
        input.approver = person("Sam Stranger");
        input.stage = security_stage();
        let messages = refused_by(
            &shipped().decide_approval(&input),
            &["approver_eligible_for_stage"],
        );
        assert_eq!(
            messages,
            [
                "`Sam Stranger` may not decide stage `security`: it needs a member of group `security`"
            ]
        );
    }

    #[test]
    fn one_approver_may_not_approve_two_stages_of_the_same_plan() {
        let mut input = owner_approves();
        input.approver.groups.push("security".into());
        input.prior_approvals = vec![approval_by(&input.approver, "identity owner", plan(1))];
        input.stage = security_stage();
        let messages = refused_by(
            &shipped().decide_approval(&input),
            &["approvers_distinct_across_stages"],
        );
        assert_eq!(
            messages,
            [
                "`Olivia Owner` already approved another stage of this request: each stage needs a different approver"
            ]
        );
    }

    #[test]
    fn an_approval_of_an_earlier_plan_does_not_count_against_distinctness() {
        let mut input = owner_approves();
        input.approver.groups.push("security".into());
        input.prior_approvals = vec![approval_by(&input.approver, "identity owner", plan(9))];
        input.stage = security_stage();
        assert_allowed(&shipped().decide_approval(&input));
    }

    #[test]
    fn an_approval_of_a_plan_that_changed_is_refused() {
        let mut input = owner_approves();
        input.approved_plan_hash = plan(2);
        let messages = refused_by(
            &shipped().decide_approval(&input),
            &["approval_binds_to_plan"],
        );
        assert_eq!(
            messages,
            ["the request changed after `Olivia Owner` saw it: approve the current plan"]
        );
    }

    #[test]
    fn an_approver_who_left_is_refused() {
        let mut input = owner_approves();
        input.approver.active = false;
        input.request.identity.owner.active = false;
        refused_by(&shipped().decide_approval(&input), &["approver_active"]);
    }

    #[test]
    fn a_denial_is_decided_by_the_same_rules() {
        let mut input = owner_approves();
        input.decision = ApprovalDecision::Deny;
        assert_allowed(&shipped().decide_approval(&input));
        input.approver = person("Sam Stranger");
        refused_by(
            &shipped().decide_approval(&input),
            &["approver_eligible_for_stage"],
        );
    }

    #[test]
    fn the_new_owner_may_accept_a_transfer() {
        let mut input = owner_approves();
        let new_owner = person("Nora New");
        input.request.kind = RequestKind::Transfer;
        input.request.entitlement = None;
        input.request.new_owner = Some(new_owner.clone());
        input.stage = ApprovalStage {
            name: name("new owner"),
            approvers: ApproverRule::Principal(new_owner.id),
        };
        input.approver = new_owner;
        assert_allowed(&shipped().decide_approval(&input));
    }
}
