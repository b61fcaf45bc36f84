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

/// How long a departed owner's identity waits for its new owner before it is suspended.
pub const DEFAULT_HANDOVER_GRACE: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

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
    handover_grace: std::time::Duration,
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
            handover_grace: DEFAULT_HANDOVER_GRACE,
        }
    }

    /// Suspends a departed owner's identities this long after nobody accepted them.
    pub fn with_handover_grace(mut self, grace: std::time::Duration) -> Self {
        self.handover_grace = grace;
        self
    }

    /// The findings use cases over the same store, clock and roles, filing their requests
    /// through these.
    pub fn findings(&self) -> crate::findings::Findings {
        crate::findings::Findings::new(
            self.store.clone(),
            self.clone(),
            self.clock.clone(),
            self.roles.clone(),
        )
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
