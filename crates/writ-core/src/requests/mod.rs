//! Requests: submission decided by policy, and approvers' decisions stage by stage. Nothing
//! here executes anything; an approved request waits for the execution that issue-by-issue
//! follows.

mod approve;
mod facts;
mod submit;

use std::sync::Arc;

use writ_policy::PolicyEngine;
use writ_store::Store;

use crate::Clock;

pub use approve::{Decide, Decided};
pub use submit::{Explanation, NewRequest, Submitted};

/// The groups that carry writ's roles, as the identity provider names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// Members administer writ (and may request for any identity).
    pub admin_group: String,
    /// Members read everything, evidence included, and change nothing.
    pub auditor_group: String,
    /// Members approve the security stage.
    pub security_group: String,
}

impl Default for Roles {
    fn default() -> Self {
        Self {
            admin_group: "writ-admins".into(),
            auditor_group: "writ-auditors".into(),
            security_group: "security".into(),
        }
    }
}

/// The request use cases, over a store, a policy engine and a clock.
#[derive(Clone)]
pub struct Requests {
    store: Arc<dyn Store>,
    policy: Arc<PolicyEngine>,
    clock: Arc<dyn Clock>,
    roles: Roles,
}

impl Requests {
    /// The use cases over these ports.
    pub fn new(
        store: Arc<dyn Store>,
        policy: Arc<PolicyEngine>,
        clock: Arc<dyn Clock>,
        roles: Roles,
    ) -> Self {
        Self {
            store,
            policy,
            clock,
            roles,
        }
    }

    fn stage_defaults(&self) -> writ_policy::StageDefaults {
        writ_policy::StageDefaults {
            security_group: self.roles.security_group.clone(),
        }
    }
}
