//! What the store hands reconciliation: governed state in byte order of its native keys (so
//! it merges with sorted live state without being held in memory), the findings it records and
//! the runs it keeps.

use std::collections::BTreeMap;

use writ_domain::{
    EntitlementId, FindingId, FindingKind, FindingStatus, GrantId, GrantStatus, IdentityId,
    PrincipalId, RequestId, SodRuleId, SystemId, Timestamp,
};

/// One grant as governed state holds it, with the native keys it is live under.
#[derive(Debug, Clone, PartialEq)]
pub struct GovernedGrant {
    /// The account's native key (raw text: merged in byte order).
    pub account: String,
    /// The entitlement's native key.
    pub entitlement_key: String,
    /// The catalog entitlement.
    pub entitlement: EntitlementId,
    /// The identity holding it.
    pub identity: IdentityId,
    /// The grant.
    pub grant: GrantId,
    /// The request that granted it.
    pub request: RequestId,
    /// Where the grant stands.
    pub status: GrantStatus,
    /// When it ends.
    pub expires_at: Option<Timestamp>,
}

/// One account governed state maps to an identity.
#[derive(Debug, Clone, PartialEq)]
pub struct GovernedAccount {
    /// The account's native key (raw text: merged in byte order).
    pub account: String,
    /// The identity it belongs to.
    pub identity: IdentityId,
    /// That identity's owner (owner-scoped separation of duties).
    pub owner: PrincipalId,
}

/// A gap one reconciliation saw, to record: a new finding, or the same one seen again.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenFinding {
    /// What kind of gap.
    pub kind: FindingKind,
    /// Its key within its system and kind (see [`writ_domain::Finding::subject`]).
    pub subject: String,
    /// The identity concerned, when known.
    pub identity: Option<IdentityId>,
    /// The account's native key.
    pub account_key: Option<String>,
    /// The catalog entitlement, when the live key matches one.
    pub entitlement: Option<EntitlementId>,
    /// The entitlement's native key.
    pub entitlement_key: Option<String>,
    /// The SoD rule broken.
    pub sod_rule: Option<SodRuleId>,
    /// What was read and compared.
    pub evidence: serde_json::Value,
}

/// Which findings to list, a page at a time (keyset: ids after `after`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingQuery {
    /// Only this system's.
    pub system: Option<SystemId>,
    /// Only findings in this status.
    pub status: Option<FindingStatus>,
    /// Only this kind.
    pub kind: Option<FindingKind>,
    /// Ids greater than this one.
    pub after: Option<FindingId>,
    /// At most this many.
    pub limit: u32,
}

/// A finished reconciliation of one system.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconciliationRun {
    /// The system.
    pub system: SystemId,
    /// When it started reading.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Accounts the target showed.
    pub live_accounts: u64,
    /// Memberships the target showed.
    pub live_grants: u64,
    /// Those of them that trace to an approved, unexpired request (an active grant).
    pub traced_grants: u64,
    /// Findings seen, by kind.
    pub findings: BTreeMap<FindingKind, u64>,
    /// Findings opened by this run.
    pub opened: u64,
    /// Findings it resolved.
    pub resolved: u64,
}

impl ReconciliationRun {
    /// Entitlement integrity: the share of live grants that trace to an approved, unexpired
    /// request (1 when nothing is live).
    pub fn integrity(&self) -> f64 {
        if self.live_grants == 0 {
            1.0
        } else {
            self.traced_grants as f64 / self.live_grants as f64
        }
    }
}

/// An explicit acceptance of a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Acceptance {
    /// Who accepts it (an admin or the system's owner: checked by the caller).
    pub by: PrincipalId,
    /// Why.
    pub reason: String,
    /// Until when; the finding reopens then if the gap is still there.
    pub until: Timestamp,
}
