//! Findings: gaps between governed and live state that reconciliation found, and what people
//! decide about them.

use utoipa::ToSchema;

use crate::page::page;

/// A gap reconciliation found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct FindingView {
    /// writ's id.
    pub id: String,
    /// `unapproved_access`, `orphaned_access`, `missing_access`, `unowned_account` or
    /// `sod_violation`.
    pub kind: String,
    /// `open`, `remediating`, `accepted` or `resolved`.
    pub status: String,
    /// The system's id.
    pub system: String,
    /// What the gap is about, unique within its system and kind (`account/entitlement`,
    /// `account`, or `rule/holder`).
    pub subject: String,
    /// The identity's id, when one is known.
    pub identity: Option<String>,
    /// The live account's native key.
    pub account_key: Option<String>,
    /// The catalog entitlement's id, when the live key matches one.
    pub entitlement: Option<String>,
    /// The live entitlement's native key.
    pub entitlement_key: Option<String>,
    /// When reconciliation first saw it (RFC 3339).
    pub first_seen: String,
    /// When reconciliation last saw it (RFC 3339).
    pub last_seen: String,
    /// How many reconciliations saw it.
    pub count: u64,
    /// How it was resolved, or why it was accepted.
    pub resolution: Option<String>,
    /// Until when an accepted finding stays accepted (RFC 3339).
    pub accepted_until: Option<String>,
    /// The governed request that remediates or adopts it.
    pub request: Option<String>,
}

page! {
    /// A page of findings, in id order.
    FindingPage of FindingView
}

/// Accepting a finding for a while: an admin or the owner of its system.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptFindingBody {
    /// Why the gap is acceptable for now.
    pub reason: String,
    /// Until when (RFC 3339); the finding reopens then if the gap is still there.
    pub until: String,
}

/// Adopting live access nobody approved: a retroactive grant request by the caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptFindingBody {
    /// Why the access is needed.
    pub justification: String,
    /// How long, counted from fulfilment (`7d`, `12h`; the entitlement's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}
