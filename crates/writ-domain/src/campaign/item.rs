//! One grant under review: what the reviewer sees (a snapshot taken at launch), who must
//! decide, and the decision.

use crate::id::{
    CampaignId, CampaignItemId, EntitlementId, GrantId, IdentityId, PrincipalId, RequestId,
    SystemId,
};
use crate::kinds::{Environment, IdentityKind, ReviewDecision, Risk, string_enum};
use crate::time::Timestamp;

/// One grant to be recertified by one reviewer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignItem {
    /// writ's id.
    pub id: CampaignItemId,
    /// The campaign it belongs to.
    pub campaign: CampaignId,
    /// The grant under review.
    pub grant: GrantId,
    /// What the reviewer needs to decide, as it stood at launch.
    pub context: ItemContext,
    /// Who must decide now.
    pub reviewer: PrincipalId,
    /// Who handed it to the reviewer, when it was delegated.
    pub delegated_from: Option<PrincipalId>,
    /// When it must be decided (the deadline, later once escalated).
    pub due_at: Timestamp,
    /// How many times it was escalated past its due date.
    pub escalation: u32,
    /// Pending, or how it was settled.
    pub status: ItemStatus,
    /// The decision, once made (by the reviewer, or by writ applying the campaign's policy).
    pub review: Option<Review>,
    /// The governed `revoke` request a revocation filed.
    pub revoke_request: Option<RequestId>,
}

string_enum! {
    /// Where a campaign item is.
    ItemStatus as "campaign item status" {
        /// Waiting for its reviewer.
        Pending = "pending",
        /// The reviewer vouched for the grant.
        Kept = "kept",
        /// The grant is revoked through a governed `revoke` request.
        Revoked = "revoked",
        /// Nobody decided it in time and the identity was suspended.
        Suspended = "suspended",
    }
}

/// A decision on one campaign item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    /// Keep or revoke.
    pub decision: ReviewDecision,
    /// Why, in the reviewer's words (or the policy writ applied).
    pub reason: Option<String>,
    /// Who decided ([`PrincipalId::SYSTEM`] when the deadline's policy did).
    pub by: PrincipalId,
    /// When.
    pub at: Timestamp,
}

/// Why a decision on a campaign item is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefused {
    /// Keeping risky access needs a reason on record.
    #[error("keeping `{risk}` access needs a reason")]
    ReasonRequired {
        /// The entitlement's risk.
        risk: Risk,
    },
    /// The principal requested the access under review.
    #[error("a reviewer never certifies access they requested themselves")]
    OwnRequest,
    /// writ itself never reviews.
    #[error("writ itself cannot review access")]
    System,
}

impl Review {
    /// A reviewer's decision on an item of `risk`: keeping anything high-risk or above needs a
    /// reason; blank reasons count as none.
    pub fn new(
        decision: ReviewDecision,
        reason: Option<String>,
        risk: Risk,
        by: PrincipalId,
        at: Timestamp,
    ) -> Result<Self, ReviewRefused> {
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if decision == ReviewDecision::Keep && risk >= Risk::High && reason.is_none() {
            return Err(ReviewRefused::ReasonRequired { risk });
        }
        Ok(Self {
            decision,
            reason,
            by,
            at,
        })
    }
}

/// What a reviewer sees of one grant, snapshotted when the campaign launched.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemContext {
    /// The identity holding the grant.
    pub identity: IdentityId,
    /// Its name.
    pub identity_name: String,
    /// Its kind.
    pub identity_kind: IdentityKind,
    /// Its owner.
    pub owner: PrincipalId,
    /// The owner's name.
    pub owner_name: String,
    /// The entitlement held.
    pub entitlement: EntitlementId,
    /// Its name.
    pub entitlement_name: String,
    /// Its risk.
    pub risk: Risk,
    /// Its system.
    pub system: SystemId,
    /// The system's name.
    pub system_name: String,
    /// The system's owner.
    pub system_owner: PrincipalId,
    /// The system's environment.
    pub environment: Environment,
    /// When a read-back first showed the grant live.
    pub granted_at: Option<Timestamp>,
    /// When it ends, if it does.
    pub expires_at: Option<Timestamp>,
    /// The request that granted it.
    pub request_id: RequestId,
    /// Its number, `REQ-…`.
    pub request: String,
    /// Who asked for it.
    pub requester: PrincipalId,
    /// Its justification, in the requester's words.
    pub justification: String,
    /// Who approved it, by name.
    pub approvers: Vec<String>,
    /// Break-glass and exception requests for the same identity and entitlement, `REQ-… (kind,
    /// status)`.
    pub history: Vec<String>,
    /// Open findings about the identity on the system, in words.
    pub open_findings: Vec<String>,
    /// SoD rules the identity's grants break together with this one, by name.
    pub sod_flags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeping_high_risk_access_needs_a_reason() {
        let by = PrincipalId::new();
        let at = Timestamp::from_micros(0);
        let refused = Review::new(ReviewDecision::Keep, Some("  ".into()), Risk::High, by, at);
        assert_eq!(
            refused,
            Err(ReviewRefused::ReasonRequired { risk: Risk::High })
        );
        assert!(Review::new(ReviewDecision::Keep, None, Risk::Medium, by, at).is_ok());
        assert!(Review::new(ReviewDecision::Revoke, None, Risk::Critical, by, at).is_ok());
    }
}
