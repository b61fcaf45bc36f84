//! Principals: the humans (or automation acting for humans) who request, approve and own.

use crate::id::PrincipalId;
use crate::name::{Email, Name};

/// A human, or automation acting for humans, as known to the identity provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// writ's id.
    pub id: PrincipalId,
    /// The IdP's subject, the stable key the principal is synchronised by.
    pub external_id: String,
    /// Where notifications go.
    pub email: Email,
    /// The display name.
    pub name: Name,
    /// The principal's manager, if the IdP knows one.
    pub manager: Option<PrincipalId>,
    /// IdP groups the principal belongs to; approver rules may name them.
    pub groups: Vec<String>,
    /// False once the principal has left; a leaver's identities must be transferred.
    pub active: bool,
}

impl Principal {
    /// Whether the principal belongs to `group`.
    pub fn is_in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
