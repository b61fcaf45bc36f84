//! Grants: governed access an identity holds.

use utoipa::ToSchema;

use crate::page::page;

/// An entitlement held by an identity's account.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct GrantView {
    /// writ's id.
    pub id: String,
    /// The identity's id.
    pub identity: String,
    /// The account's id.
    pub account: String,
    /// The entitlement's id.
    pub entitlement: String,
    /// The request's id that granted it.
    pub request: String,
    /// `provisioning`, `active`, `revoking`, `revoked` or `failed`.
    pub status: String,
    /// When the read-back showed it (RFC 3339).
    pub granted_at: Option<String>,
    /// When it ends (RFC 3339).
    pub expires_at: Option<String>,
    /// When it was last read back from the target (RFC 3339).
    pub last_verified_at: Option<String>,
}

page! {
    /// A page of grants, newest first.
    GrantPage of GrantView
}
