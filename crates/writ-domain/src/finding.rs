//! Findings: gaps between governed state (grants) and live state (what a connector reads).

use crate::id::{EntitlementId, FindingId, IdentityId, RequestId, SodRuleId, SystemId};
use crate::kinds::{FindingKind, FindingStatus, string_enum};
use crate::name::{AccountKey, EntitlementKey};
use crate::time::Timestamp;

/// A gap between what writ governs and what a system shows, from first sight to resolution.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// writ's id.
    pub id: FindingId,
    /// What kind of gap.
    pub kind: FindingKind,
    /// The system where it was seen.
    pub system: SystemId,
    /// What the gap is about, as a key unique within its system and kind
    /// (`account/entitlement`, `account`, or `rule/holder`): a gap seen again is the same
    /// finding.
    pub subject: String,
    /// The identity concerned, when one is known.
    pub identity: Option<IdentityId>,
    /// The live account concerned, by native key (an unowned account has nothing else).
    pub account_key: Option<AccountKey>,
    /// The catalog entitlement concerned, when the live key matches one.
    pub entitlement: Option<EntitlementId>,
    /// The live entitlement concerned, by native key.
    pub entitlement_key: Option<EntitlementKey>,
    /// The separation-of-duties rule broken (`sod_violation` only).
    pub sod_rule: Option<SodRuleId>,
    /// When reconciliation first saw the gap.
    pub first_seen: Timestamp,
    /// When reconciliation last saw it.
    pub last_seen: Timestamp,
    /// How many reconciliations saw it.
    pub count: u64,
    /// Where its handling stands.
    pub status: FindingStatus,
    /// How it was resolved or why it was accepted.
    pub resolution: Option<String>,
    /// Until when an accepted finding stays accepted; it reopens then.
    pub accepted_until: Option<Timestamp>,
    /// The governed request that remediates or adopts it, once one is filed.
    pub request: Option<RequestId>,
    /// What reconciliation read and what it compared it with (grant, request, run), for the
    /// record.
    pub evidence: serde_json::Value,
}

impl Finding {
    /// Whether the finding still needs attention (open or being remediated).
    pub fn is_outstanding(&self) -> bool {
        matches!(
            self.status,
            FindingStatus::Open | FindingStatus::Remediating
        )
    }
}

/// The subject key of a gap about one membership.
pub fn access_subject(account: &str, entitlement: &str) -> String {
    format!("{account}/{entitlement}")
}

string_enum! {
    /// What reconciliation of a system may change on its own, always through a governed
    /// request (it never touches a target itself).
    #[derive(Default)]
    RemediationMode as "remediation mode" {
        /// Report findings only.
        #[default]
        Report = "report",
        /// File a `revoke` request for live access no grant covers.
        RevokeUnapproved = "revoke_unapproved",
        /// File a `grant` request to restore an active grant the target no longer shows.
        RestoreMissing = "restore_missing",
    }
}
