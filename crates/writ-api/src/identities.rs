//! Identities under governance, with their owners, accounts and grants.

use utoipa::ToSchema;

use crate::grants::GrantView;
use crate::page::page;

/// A non-human identity under governance.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct IdentityView {
    /// writ's id.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// `service_account`, `api_key`, `ci_token`, `automation_role`, `ai_agent`, `workload`.
    pub kind: String,
    /// The owner's principal id.
    pub owner: String,
    /// The owning team.
    pub team: Option<String>,
    /// What it is for.
    pub purpose: String,
    /// `production`, `staging` or `development`.
    pub environment: String,
    /// `active`, `suspended` or `decommissioned`.
    pub status: String,
    /// When it was registered (RFC 3339).
    pub created_at: String,
}

/// A principal, as shown beside what they own or decided.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct PrincipalView {
    /// writ's id.
    pub id: String,
    /// Their e-mail.
    pub email: String,
    /// Their name.
    pub name: String,
    /// False once they have left.
    pub active: bool,
}

/// An identity's account inside one system.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct AccountView {
    /// The system's name.
    pub system: String,
    /// The account's native key there.
    pub account: String,
}

/// One identity with its owner, accounts and newest grants.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct IdentityDetail {
    /// The identity.
    pub identity: IdentityView,
    /// Its owner.
    pub owner: Option<PrincipalView>,
    /// Its accounts.
    pub accounts: Vec<AccountView>,
    /// Its newest grants (up to 100; `GET /grants?identity=` pages through all).
    pub grants: Vec<GrantView>,
}

page! {
    /// A page of identities, by name.
    IdentityPage of IdentityView
}
