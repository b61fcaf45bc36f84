//! Findings: gaps between governed state (grants) and live state (observations).

use crate::id::{EntitlementId, FindingId, IdentityId, SodRuleId, SystemId};
use crate::kinds::{FindingKind, FindingStatus};
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
    /// Where its handling stands.
    pub status: FindingStatus,
    /// How it was resolved or why it was accepted.
    pub resolution: Option<String>,
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
