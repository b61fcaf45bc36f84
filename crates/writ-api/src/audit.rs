//! The audit log: append-only and hash-chained.

use utoipa::ToSchema;

use crate::page::page;

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct AuditEventView {
    /// Its position in the log, from 1, without gaps.
    pub seq: u64,
    /// When (RFC 3339).
    pub at: String,
    /// Who (`principal:<id>` or `system:<component>`).
    pub actor: String,
    /// What happened (`noun.verb`).
    pub action: String,
    /// What it touched (`kind:id`).
    pub subjects: Vec<String>,
    /// Its details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The previous event's hash (hex).
    pub prev_hash: String,
    /// This event's hash (hex).
    pub hash: String,
}

page! {
    /// A page of audit events, oldest first.
    AuditPage of AuditEventView
}

/// A signed tree head of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CheckpointView {
    /// How many events the signed tree holds.
    pub size: u64,
    /// Its RFC 6962 tree hash (hex).
    pub root: String,
    /// The C2SP signed note, exactly as signed: check it with the public key.
    pub note: String,
    /// When it was signed (RFC 3339).
    pub signed_at: String,
}

/// Every signed checkpoint, smallest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CheckpointList {
    /// The checkpoints.
    pub items: Vec<CheckpointView>,
}
