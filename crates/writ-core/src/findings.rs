//! What people do with findings: accept one for a while (an admin or the system's owner, with
//! a reason and an end), or adopt live access nobody approved by filing a retroactive `grant`
//! request that goes through policy and approval like any other. Approved, the access becomes
//! governed; refused, reconciliation files its revocation.

use std::sync::Arc;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Finding, FindingId, FindingKind, FindingStatus, PrincipalId, RequestKind, RequestStatus,
    Timestamp, Ttl,
};
use writ_store::{Acceptance, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::requests::{NewRequest, Requests, Roles, Submitted};

/// The finding use cases.
#[derive(Clone)]
pub struct Findings {
    store: Arc<dyn Store>,
    requests: Requests,
    clock: Arc<dyn Clock>,
    roles: Roles,
}

impl Findings {
    /// The use cases over these ports; `roles` names the admin group.
    pub fn new(
        store: Arc<dyn Store>,
        requests: Requests,
        clock: Arc<dyn Clock>,
        roles: Roles,
    ) -> Self {
        Self {
            store,
            requests,
            clock,
            roles,
        }
    }

    /// Accepts an open finding until `until`, for `reason`: only an admin or the owner of the
    /// finding's system may. It reopens at `until` if the gap is still there.
    #[tracing::instrument(skip_all, fields(finding = %id))]
    pub async fn accept(
        &self,
        id: FindingId,
        by: PrincipalId,
        reason: &str,
        until: Timestamp,
    ) -> Result<Finding, CoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CoreError::Invalid(
                "accepting a finding needs a reason".into(),
            ));
        }
        let now = self.clock.now();
        if until <= now {
            return Err(CoreError::Invalid(format!(
                "an acceptance must end in the future, not at {until}"
            )));
        }
        let finding = self.open_finding(id).await?;
        let principal = self
            .store
            .principal(by)
            .await?
            .filter(|p| p.active)
            .ok_or_else(|| CoreError::not_found(format!("active principal `{by}`")))?;
        let system = self
            .store
            .system(finding.system)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("system of finding {id}")))?;
        if system.owner != by && !principal.is_in_group(&self.roles.admin_group) {
            return Err(CoreError::Forbidden(format!(
                "`{}` may not accept findings on `{}`: only an admin or the system's owner may",
                principal.email, system.name
            )));
        }
        let event = NewAuditEvent::new(now, Actor::principal(by), "finding.accepted")
            .subject(SubjectRef::new("finding", id))
            .subject(SubjectRef::new("system", finding.system))
            .data(serde_json::json!({
                "kind": finding.kind.as_str(),
                "subject": finding.subject,
                "reason": reason,
                "until": until.to_string(),
            }));
        self.store
            .accept_finding(
                id,
                Acceptance {
                    by,
                    reason: reason.to_string(),
                    until,
                },
                event,
            )
            .await?;
        self.store
            .finding(id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("finding {id}")))
    }

    /// Adopts live access nobody approved (or whose grant ended): files a retroactive `grant` request by `requester`
    /// for the identity and entitlement the finding names, and links the finding to it. A
    /// request policy rejects at once is returned as it stands (reconciliation then revokes
    /// the access).
    #[tracing::instrument(skip_all, fields(finding = %id))]
    pub async fn adopt(
        &self,
        id: FindingId,
        requester: PrincipalId,
        justification: &str,
        ttl: Option<Ttl>,
    ) -> Result<Submitted, CoreError> {
        let finding = self.open_finding(id).await?;
        if !matches!(
            finding.kind,
            FindingKind::UnapprovedAccess | FindingKind::OrphanedAccess
        ) {
            return Err(CoreError::Invalid(format!(
                "finding {id} is `{}`: only live access (`unapproved_access`, \
                 `orphaned_access`) can be adopted",
                finding.kind
            )));
        }
        let (Some(identity), Some(entitlement)) = (finding.identity, finding.entitlement) else {
            return Err(CoreError::Invalid(format!(
                "finding {id} (`{}`) names no registered identity or no catalog entitlement: \
                 register them before adopting it",
                finding.subject
            )));
        };
        let submitted = self
            .requests
            .submit(NewRequest {
                requester,
                kind: RequestKind::Grant,
                identity,
                entitlement: Some(entitlement),
                justification: format!(
                    "adopts access found live without approval (finding {id}): {}",
                    justification.trim()
                ),
                ttl,
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await?;
        let request = &submitted.request;
        let event = NewAuditEvent::new(
            self.clock.now(),
            Actor::principal(requester),
            "finding.adopting",
        )
        .subject(SubjectRef::new("finding", id))
        .subject(SubjectRef::new("request", request.id))
        .data(serde_json::json!({
            "subject": finding.subject,
            "request": request.number.to_string(),
            "status": request.status.as_str(),
        }));
        self.store.remediate_finding(id, request.id, event).await?;
        if request.status == RequestStatus::Rejected {
            tracing::info!(finding = %id, number = %request.number, "adoption rejected by policy; reconciliation will revoke the access");
        }
        Ok(submitted)
    }

    async fn open_finding(&self, id: FindingId) -> Result<Finding, CoreError> {
        let finding = self
            .store
            .finding(id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("finding {id}")))?;
        if finding.status != FindingStatus::Open {
            return Err(CoreError::Invalid(format!(
                "finding {id} is `{}`, not open",
                finding.status
            )));
        }
        Ok(finding)
    }
}
