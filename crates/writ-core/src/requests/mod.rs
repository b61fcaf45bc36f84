//! Requests: submission decided by policy, approvers' decisions stage by stage, routing to
//! an assignee with an SLA (escalation and expiry when it runs out), cancellation and plan
//! changes. Nothing here executes anything: an approved request carries its execute job.

mod amend;
mod approve;
mod cancel;
mod departure;
mod facts;
mod review;
mod routing;
mod submit;

use std::sync::Arc;

use writ_domain::SlaPolicy;
use writ_policy::PolicyEngine;
use writ_store::Store;

use crate::Clock;

pub use amend::ChangePlan;
pub use approve::{Decide, Decided};
pub use cancel::Cancel;
pub use departure::Handover;
pub use review::CloseReview;
pub use routing::OverdueSweep;
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
    sla: SlaPolicy,
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
            sla: SlaPolicy::default(),
        }
    }

    /// Uses these approval SLAs instead of the defaults.
    pub fn with_sla(mut self, sla: SlaPolicy) -> Self {
        self.sla = sla;
        self
    }

    fn stage_defaults(&self) -> writ_policy::StageDefaults {
        writ_policy::StageDefaults {
            security_group: self.roles.security_group.clone(),
        }
    }
}
