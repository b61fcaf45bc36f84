//! Requests: what a requester asks, how policy explains it, and what approvers decide.

use utoipa::ToSchema;

use crate::page::page;

/// A request: one governed change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct RequestView {
    /// writ's id.
    pub id: String,
    /// The human-facing number, `REQ-000123`.
    pub number: String,
    /// `grant`, `revoke`, `rotate`, `offboard`, `break_glass`, `exception` or `transfer`.
    pub kind: String,
    /// The requester's principal id.
    pub requester: String,
    /// The identity's id.
    pub identity: String,
    /// The entitlement's id (access kinds only).
    pub entitlement: Option<String>,
    /// Why, in the requester's words.
    pub justification: String,
    /// How long the access lasts once fulfilled (`8h`).
    pub ttl: Option<String>,
    /// The latest end (RFC 3339).
    pub end: Option<String>,
    /// The new owner's principal id (`transfer` only).
    pub new_owner: Option<String>,
    /// The routing category.
    pub category: String,
    /// Where it stands: `pending_approval`, `approved`, `fulfilled`, …
    pub status: String,
    /// The hash of exactly what will execute; an approval binds to it.
    pub plan_hash: Option<String>,
    /// When it was submitted (RFC 3339).
    pub created_at: String,
    /// When its current approval stage is due (RFC 3339).
    pub sla_due: Option<String>,
    /// Who its current stage is assigned to (principal id).
    pub assignee: Option<String>,
}

/// One approver's decision on a stage.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct ApprovalView {
    /// The stage's name.
    pub stage: String,
    /// The approver's principal id.
    pub approver: String,
    /// `approve` or `deny`.
    pub decision: String,
    /// Why.
    pub reason: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// The plan hash the approver saw.
    pub plan_hash: String,
    /// The policies that permitted the decision.
    pub policy_ids: Vec<String>,
}

/// One request with its policy decision and every approval.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct RequestDetail {
    /// The request.
    pub request: RequestView,
    /// The policy decision it was submitted under (allowed, reasons, policy ids).
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// Every decision recorded on it, oldest first.
    pub approvals: Vec<ApprovalView>,
}

/// A request as its requester asks it; the requester is the caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    /// The kind of change; `grant` when absent. Rotations carry the current credential and
    /// are filed with `writ credential rotate`, not here.
    #[serde(default)]
    pub kind: Option<String>,
    /// The identity: its id or its name.
    pub identity: String,
    /// The entitlement: its id, or `SYSTEM/KEY` (access kinds only).
    #[serde(default)]
    pub entitlement: Option<String>,
    /// Why, in the requester's words.
    pub justification: String,
    /// How long, counted from fulfilment (`8h`, `7d`); the entitlement's default when absent.
    #[serde(default)]
    pub ttl: Option<String>,
    /// The latest end (RFC 3339).
    #[serde(default)]
    pub end: Option<String>,
    /// The new owner's e-mail (`transfer` only).
    #[serde(default)]
    pub new_owner: Option<String>,
}

/// One reason policy gave for a refusal.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct ReasonView {
    /// The refusing policy.
    pub policy_id: String,
    /// What is wrong, as the requester reads it.
    pub message: String,
}

/// What policy says of a request, and who would have to approve it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct ExplanationView {
    /// Whether policy allows it.
    pub allowed: bool,
    /// Every reason for a refusal.
    pub reasons: Vec<ReasonView>,
    /// The policies that decided.
    pub policy_ids: Vec<String>,
    /// The approval stages it needs, in order.
    pub stages: Vec<String>,
    /// Its routing category.
    pub category: String,
}

/// A stored request and why it stands where it does.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct SubmittedView {
    /// The request: `rejected`, `pending_approval` or (pre-approved) `approved`.
    pub request: RequestView,
    /// The decision and the stages.
    pub explanation: ExplanationView,
}

/// An approver's decision; the approver is the caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    /// The plan hash of the request as the approver saw it; a request whose plan changed
    /// since is refused, so nobody approves what they did not see.
    pub plan_hash: String,
    /// Why (required to deny).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Where a request stands after a decision.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct DecidedView {
    /// `next_stage`, `approved` or `denied`.
    pub outcome: String,
    /// The next stage, for `next_stage`.
    pub next_stage: Option<String>,
    /// The request now.
    pub request: RequestView,
}

/// A cancellation; its author is the caller.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why, for the record.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A rotated credential's new secret, shown once.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct RevealedView {
    /// The secret; writ cannot show it again.
    pub secret: String,
    /// Its fingerprint, as writ keeps it.
    pub fingerprint: String,
    /// The system's name.
    pub system: String,
    /// The account there.
    pub account: String,
}

page! {
    /// A page of requests, newest first.
    RequestPage of RequestView
}
