//! The catalog: target systems and their requestable entitlements.

use utoipa::ToSchema;

use crate::page::page;

/// A target system writ provisions into (its connector configuration is not shown).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct SystemView {
    /// writ's id.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// The connector kind (`local`, `postgres`, …).
    pub connector: String,
    /// The owner's principal id.
    pub owner: String,
    /// `production`, `staging` or `development`.
    pub environment: String,
    /// How critical the system is.
    pub criticality: String,
}

/// A catalog item: a role, group, scope or secret class of one system.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct EntitlementView {
    /// writ's id.
    pub id: String,
    /// The system's id.
    pub system: String,
    /// The native key on the system.
    pub key: String,
    /// The display name.
    pub name: String,
    /// What it gives.
    pub description: String,
    /// `low` … `critical`.
    pub risk: String,
    /// Its environment, when it differs from its system's.
    pub environment: Option<String>,
    /// The TTL when a request names none (`8h`).
    pub default_ttl: String,
    /// The longest TTL a request may ask.
    pub max_ttl: String,
    /// Whether it may be requested.
    pub requestable: bool,
    /// The identity kinds that may hold it (empty: any).
    pub allowed_identity_kinds: Vec<String>,
    /// The longest break-glass elevation, when break-glass is allowed.
    pub break_glass_max_ttl: Option<String>,
    /// The owner's principal id.
    pub owner: String,
}

page! {
    /// A page of systems, by name.
    SystemPage of SystemView
}

page! {
    /// A page of entitlements.
    EntitlementPage of EntitlementView
}
