//! Approvals: one approver's decision on one stage of a request, bound to the plan it saw.

use crate::id::{ApprovalId, PrincipalId, RequestId};
use crate::kinds::ApprovalDecision;
use crate::name::Name;
use crate::plan::PlanHash;
use crate::time::Timestamp;

/// One decision on one stage of a request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Approval {
    /// writ's id.
    pub id: ApprovalId,
    /// The request decided on.
    pub request: RequestId,
    /// The name of the approval stage decided.
    pub stage: Name,
    /// Who decided; never the requester.
    pub approver: PrincipalId,
    /// Approve or deny.
    pub decision: ApprovalDecision,
    /// Why, in the approver's words.
    pub reason: Option<String>,
    /// When the decision was made.
    pub at: Timestamp,
    /// The plan the approver saw; the approval counts for that plan only.
    pub plan_hash: PlanHash,
    /// The ids of the policies that permitted the approver to decide.
    pub policy_ids: Vec<String>,
}

impl Approval {
    /// Whether this approval approves the plan whose hash is `current`: an approval of an
    /// earlier plan no longer counts once the plan has changed.
    pub fn approves(&self, current: &PlanHash) -> bool {
        self.decision == ApprovalDecision::Approve && self.plan_hash == *current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(decision: ApprovalDecision, plan_hash: PlanHash) -> Approval {
        Approval {
            id: ApprovalId::new(),
            request: RequestId::new(),
            stage: Name::parse("owner").unwrap(),
            approver: PrincipalId::new(),
            decision,
            reason: None,
            at: Timestamp::EPOCH,
            plan_hash,
            policy_ids: vec!["owner-approves-nhi".into()],
        }
    }

    #[test]
    fn an_approval_counts_for_the_plan_it_saw() {
        let plan = PlanHash::from_bytes([1; 32]);
        assert!(approval(ApprovalDecision::Approve, plan).approves(&plan));
    }

    #[test]
    fn an_approval_of_an_earlier_plan_no_longer_counts() {
        let seen = PlanHash::from_bytes([1; 32]);
        let changed = PlanHash::from_bytes([2; 32]);
        assert!(!approval(ApprovalDecision::Approve, seen).approves(&changed));
    }

    #[test]
    fn a_denial_approves_nothing() {
        let plan = PlanHash::from_bytes([1; 32]);
        assert!(!approval(ApprovalDecision::Deny, plan).approves(&plan));
    }
}
