//! Identities: the non-human identities under governance, each with a mandatory owner.

use crate::id::{IdentityId, PrincipalId};
use crate::kinds::{Environment, IdentityKind, IdentityStatus};
use crate::name::Name;
use crate::time::Timestamp;

/// A non-human identity (service account, API key, CI token, automation role, AI agent or
/// workload) under governance.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// writ's id.
    pub id: IdentityId,
    /// The name, unique among identities.
    pub name: Name,
    /// What sort of identity this is.
    pub kind: IdentityKind,
    /// The accountable human; never absent, and the default approver of its access.
    pub owner: PrincipalId,
    /// The team the identity belongs to, if recorded.
    pub team: Option<String>,
    /// What the identity is for, in the owner's words.
    pub purpose: String,
    /// Which environment the identity runs in.
    pub environment: Environment,
    /// Where the identity is in its life.
    pub status: IdentityStatus,
    /// When it was registered.
    pub created_at: Timestamp,
}

impl Identity {
    /// Whether the identity may be given new access: only while active.
    pub fn may_receive_access(&self) -> bool {
        self.status == IdentityStatus::Active
    }
}
