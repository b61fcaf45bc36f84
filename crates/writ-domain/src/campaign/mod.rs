//! Campaigns: recertifications of grants. A campaign's scope picks active grants; launching
//! it snapshots each into an item that one accountable reviewer keeps or revokes by the
//! deadline, after which the campaign's policy settles what nobody decided.

mod evidence;
mod item;
mod reviewer;

use std::time::Duration;

use crate::id::{CampaignId, EntitlementId, PrincipalId, SystemId};
use crate::kinds::{Environment, IdentityKind, Risk, string_enum};
use crate::name::Name;
use crate::time::Timestamp;

pub use evidence::{CAMPAIGN_FORMAT, CampaignEvidence, CampaignSummary};
pub use item::{CampaignItem, ItemContext, ItemStatus, Review, ReviewRefused};
pub use reviewer::{accountable_chain, eligibility};

/// A recertification of the grants in its scope, due by a deadline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Campaign {
    /// writ's id.
    pub id: CampaignId,
    /// The campaign's name, e.g. `Q3 production review`.
    pub name: Name,
    /// Which grants it reviews.
    pub scope: CampaignScope,
    /// Who reviews each grant.
    pub reviewers: ReviewerRule,
    /// What happens to items nobody decided by the deadline.
    pub undecided: UndecidedPolicy,
    /// When every item must be decided.
    pub deadline: Timestamp,
    /// For a recurring campaign, how many days after its launch the next one starts.
    pub every_days: Option<u32>,
    /// Draft, open or closed.
    pub status: CampaignStatus,
    /// Who created it.
    pub created_by: PrincipalId,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was launched (its items snapshotted).
    pub launched_at: Option<Timestamp>,
    /// When it was closed: every item decided or settled by policy.
    pub closed_at: Option<Timestamp>,
    /// When its successor is due to launch (recurring campaigns, until it has launched).
    pub recurs_at: Option<Timestamp>,
}

impl Campaign {
    /// How long the campaign runs, from launch to deadline: a recurring campaign's successor
    /// gets the same span.
    pub fn span(&self) -> Duration {
        self.deadline
            .since(self.launched_at.unwrap_or(self.created_at))
    }
}

string_enum! {
    /// Where a campaign is: created, then launched (items snapshotted), then closed.
    CampaignStatus as "campaign status" {
        /// Created, not yet launched: its scope and deadline may still be read over.
        Draft = "draft",
        /// Launched: its items wait for their reviewers.
        Open = "open",
        /// Every item is decided or settled by the campaign's policy.
        Closed = "closed",
    }
}

string_enum! {
    /// Who reviews a grant in a campaign.
    ReviewerRule as "reviewer rule" {
        /// The identity's owner, falling back to the system's owner when the owner may not
        /// certify it (they requested it) or has left.
        IdentityOwner = "identity_owner",
        /// The system's owner, falling back to the identity's owner.
        SystemOwner = "system_owner",
    }
}

string_enum! {
    /// What becomes of an item nobody decided by the deadline.
    UndecidedPolicy as "undecided policy" {
        /// Revoke the grant through a governed `revoke` request.
        Revoke = "revoke",
        /// Suspend the identity (its accounts disabled, its grants kept).
        Suspend = "suspend",
        /// Hand the item to the next accountable principal, with a new due date.
        Escalate = "escalate",
    }
}

/// Which active grants a campaign covers: those matching every filter given; no filter at all
/// covers every active grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignScope {
    /// Only grants in this system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemId>,
    /// Only grants in systems of this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Only grants of this entitlement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement: Option<EntitlementId>,
    /// Only grants of entitlements at least this risky.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_risk: Option<Risk>,
    /// Only grants held by identities of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_kind: Option<IdentityKind>,
    /// Only grants live for at least this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than_days: Option<u32>,
}

/// What a scope is matched against: one active grant, as the catalog describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopedGrant {
    /// Its entitlement's system.
    pub system: SystemId,
    /// That system's environment.
    pub environment: Environment,
    /// Its entitlement.
    pub entitlement: EntitlementId,
    /// That entitlement's risk.
    pub risk: Risk,
    /// The kind of identity holding it.
    pub identity_kind: IdentityKind,
    /// When a read-back first showed it live.
    pub granted_at: Option<Timestamp>,
}

impl CampaignScope {
    /// Whether `grant` is in scope at `now`.
    pub fn covers(&self, grant: &ScopedGrant, now: Timestamp) -> bool {
        let old_enough = self.older_than_days.is_none_or(|days| {
            let min_age = Duration::from_secs(u64::from(days) * 86_400);
            grant.granted_at.is_some_and(|at| now.since(at) >= min_age)
        });
        self.system.is_none_or(|s| s == grant.system)
            && self.environment.is_none_or(|e| e == grant.environment)
            && self.entitlement.is_none_or(|e| e == grant.entitlement)
            && self.min_risk.is_none_or(|min| grant.risk >= min)
            && self.identity_kind.is_none_or(|k| k == grant.identity_kind)
            && old_enough
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(risk: Risk) -> ScopedGrant {
        ScopedGrant {
            system: SystemId::new(),
            environment: Environment::Production,
            entitlement: EntitlementId::new(),
            risk,
            identity_kind: IdentityKind::ServiceAccount,
            granted_at: Some(Timestamp::from_micros(0)),
        }
    }

    #[test]
    fn an_empty_scope_covers_every_grant() {
        let now = Timestamp::from_micros(1);
        assert!(CampaignScope::default().covers(&grant(Risk::Low), now));
    }

    #[test]
    fn a_scope_covers_only_grants_matching_every_filter() {
        let g = grant(Risk::Critical);
        let now = Timestamp::from_micros(0).plus(Duration::from_secs(40 * 86_400));
        let scope = CampaignScope {
            system: Some(g.system),
            environment: Some(Environment::Production),
            min_risk: Some(Risk::High),
            older_than_days: Some(30),
            ..CampaignScope::default()
        };
        assert!(scope.covers(&g, now));
        assert!(!scope.covers(&grant(Risk::Critical), now), "another system");
        assert!(!scope.covers(
            &ScopedGrant {
                risk: Risk::Medium,
                ..g
            },
            now
        ));
        let young = Timestamp::from_micros(0).plus(Duration::from_secs(10 * 86_400));
        assert!(!scope.covers(&g, young), "not yet 30 days old");
        let staging = CampaignScope {
            environment: Some(Environment::Staging),
            ..CampaignScope::default()
        };
        assert!(!staging.covers(&g, now));
    }
}
