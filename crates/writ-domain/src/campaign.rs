//! Campaigns: periodic recertification of grants, one item per grant and reviewer.

use crate::entitlement::ApproverRule;
use crate::id::{CampaignId, CampaignItemId, EntitlementId, GrantId, PrincipalId, SystemId};
use crate::kinds::{ReviewDecision, Risk};
use crate::name::Name;
use crate::time::Timestamp;

/// A recertification of the grants in its scope, due by a deadline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Campaign {
    /// writ's id.
    pub id: CampaignId,
    /// The campaign's name, e.g. `Q3 production review`.
    pub name: Name,
    /// Which grants it reviews.
    pub scope: CampaignScope,
    /// Who reviews each grant (typically the identity's owner).
    pub reviewers: ApproverRule,
    /// When every item must be decided.
    pub deadline: Timestamp,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it was closed, once every item is decided or the deadline passed.
    pub closed_at: Option<Timestamp>,
}

/// Which active grants a campaign covers: those matching every filter given; no filter at all
/// covers every active grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignScope {
    /// Only grants in this system.
    pub system: Option<SystemId>,
    /// Only grants of this entitlement.
    pub entitlement: Option<EntitlementId>,
    /// Only grants of entitlements at least this risky.
    pub min_risk: Option<Risk>,
}

impl CampaignScope {
    /// Whether a grant of `entitlement` (of `risk`) in `system` is in scope.
    pub fn covers(&self, system: SystemId, entitlement: EntitlementId, risk: Risk) -> bool {
        self.system.is_none_or(|s| s == system)
            && self.entitlement.is_none_or(|e| e == entitlement)
            && self.min_risk.is_none_or(|min| risk >= min)
    }
}

/// One grant to be recertified by one reviewer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignItem {
    /// writ's id.
    pub id: CampaignItemId,
    /// The campaign it belongs to.
    pub campaign: CampaignId,
    /// The grant under review.
    pub grant: GrantId,
    /// Who must decide.
    pub reviewer: PrincipalId,
    /// The decision, once made.
    pub review: Option<Review>,
}

/// A reviewer's decision on one campaign item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    /// Keep or revoke.
    pub decision: ReviewDecision,
    /// Why, in the reviewer's words.
    pub reason: Option<String>,
    /// When it was decided.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_scope_covers_every_grant() {
        let scope = CampaignScope::default();
        assert!(scope.covers(SystemId::new(), EntitlementId::new(), Risk::Low));
    }

    #[test]
    fn a_scope_covers_only_grants_matching_every_filter() {
        let system = SystemId::new();
        let scope = CampaignScope {
            system: Some(system),
            entitlement: None,
            min_risk: Some(Risk::High),
        };
        assert!(scope.covers(system, EntitlementId::new(), Risk::Critical));
        assert!(!scope.covers(system, EntitlementId::new(), Risk::Medium));
        assert!(!scope.covers(SystemId::new(), EntitlementId::new(), Risk::Critical));
    }
}
