//! Recertification campaigns: their definition, progress and items, a reviewer's queue and
//! decisions.

use utoipa::ToSchema;

use crate::page::page;

/// A campaign to create (a draft until launched).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaignBody {
    /// Its name, e.g. `Q3 production review`.
    pub name: String,
    /// When every item must be decided (RFC 3339).
    pub deadline: String,
    /// `identity_owner` (default; falls back to the system's owner) or `system_owner`.
    #[serde(default)]
    pub reviewers: Option<String>,
    /// What becomes of undecided items at the deadline: `revoke` (default), `suspend` or
    /// `escalate`.
    #[serde(default)]
    pub undecided: Option<String>,
    /// For a recurring campaign, how many days after each launch the next one starts.
    #[serde(default)]
    pub every_days: Option<u32>,
    /// Only grants on this system (id or name).
    #[serde(default)]
    pub system: Option<String>,
    /// Only grants on systems of this environment (`production`, `staging`, `development`).
    #[serde(default)]
    pub environment: Option<String>,
    /// Only grants of entitlements at least this risky (`low` … `critical`).
    #[serde(default)]
    pub min_risk: Option<String>,
    /// Only grants held by identities of this kind (`service_account`, …).
    #[serde(default)]
    pub identity_kind: Option<String>,
    /// Only grants live for at least this many days.
    #[serde(default)]
    pub older_than_days: Option<u32>,
}

/// A campaign and how far it has come.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CampaignView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `draft`, `open` or `closed`.
    pub status: String,
    /// Its scope's filters, as stored.
    pub scope: serde_json::Value,
    /// `identity_owner` or `system_owner`.
    pub reviewers: String,
    /// `revoke`, `suspend` or `escalate`.
    pub undecided: String,
    /// When every item must be decided (RFC 3339).
    pub deadline: String,
    /// Days between launches of a recurring campaign.
    pub every_days: Option<u32>,
    /// When it was launched (RFC 3339).
    pub launched_at: Option<String>,
    /// When it was closed (RFC 3339).
    pub closed_at: Option<String>,
}

page! {
    /// A page of campaigns, newest first.
    CampaignPage of CampaignView
}

/// How many items of a campaign stand where.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, ToSchema,
)]
pub struct ProgressView {
    /// Every item.
    pub total: u32,
    /// Still waiting for a reviewer.
    pub pending: u32,
    /// Kept.
    pub kept: u32,
    /// Revoked (through a governed `revoke` request).
    pub revoked: u32,
    /// Settled by suspending the identity.
    pub suspended: u32,
}

/// A campaign with its progress and items.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CampaignDetail {
    /// The campaign.
    pub campaign: CampaignView,
    /// Its progress.
    pub progress: ProgressView,
    /// A page of its items, in id order.
    pub items: Vec<CampaignItemView>,
    /// Pass as `after` for the next page of items; absent on the last page.
    pub next: Option<String>,
}

/// One grant under review, with what the reviewer needs to decide.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CampaignItemView {
    /// Its id.
    pub id: String,
    /// Its campaign's id.
    pub campaign: String,
    /// `pending`, `kept`, `revoked` or `suspended`.
    pub status: String,
    /// Who must decide (e-mail).
    pub reviewer: String,
    /// Who handed it to the reviewer (e-mail), when delegated.
    pub delegated_from: Option<String>,
    /// When it is due (RFC 3339).
    pub due_at: String,
    /// How many times it escalated.
    pub escalation: u32,
    /// The identity holding the grant.
    pub identity: String,
    /// Its owner's name.
    pub owner: String,
    /// The entitlement held.
    pub entitlement: String,
    /// Its system.
    pub system: String,
    /// Its risk.
    pub risk: String,
    /// When the grant went live (RFC 3339).
    pub granted_at: Option<String>,
    /// The request that granted it, `REQ-…`.
    pub request: String,
    /// Its justification.
    pub justification: String,
    /// Who approved it.
    pub approvers: Vec<String>,
    /// Break-glass and exception requests for the same access.
    pub history: Vec<String>,
    /// Open findings about the identity on the system.
    pub open_findings: Vec<String>,
    /// SoD rules the grant breaks with the identity's others.
    pub sod_flags: Vec<String>,
    /// `keep` or `revoke`, once decided.
    pub decision: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Who decided (e-mail; `writ` when the deadline's policy did).
    pub decided_by: Option<String>,
    /// When (RFC 3339).
    pub decided_at: Option<String>,
    /// The `revoke` request a revocation filed, `REQ-…`.
    pub revoke_request: Option<String>,
}

/// A page of the caller's pending campaign items, soonest due first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CampaignItemList {
    /// The items.
    pub items: Vec<CampaignItemView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

/// A reviewer's decision; the reviewer is the caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideItemBody {
    /// `keep` or `revoke`.
    pub decision: String,
    /// Why (required to keep access of risk `high` or above).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A reviewer handing an item to someone else; the reviewer is the caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateItemBody {
    /// Who reviews it from now (id or e-mail).
    pub to: String,
    /// Why, for the record.
    #[serde(default)]
    pub reason: Option<String>,
}
