//! Closing findings through governed requests, never by touching a target: in
//! `revoke_unapproved` mode live access nobody approved gets a `revoke` request, in
//! `restore_missing` mode an active grant the target lost gets a `grant` request; live access
//! whose adoption was refused is revoked whatever the mode. Requests writ files itself are
//! made by its system principal and go through policy and approval like any other.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Finding, FindingKind, FindingStatus, PrincipalId, RemediationMode, RequestKind, RequestNumber,
    RequestStatus, System, Timestamp,
};
use writ_store::FindingQuery;

use super::{ReconcileError, Reconciler};
use crate::requests::NewRequest;

/// Findings read per page when looking for ones to remediate.
const PAGE: u32 = 500;

impl Reconciler {
    /// Settles findings whose remediation ended without fixing them, then files requests for
    /// the open findings `mode` lets it remediate. Returns the requests filed.
    pub(super) async fn remediate(
        &self,
        system: &System,
        mode: RemediationMode,
    ) -> Result<Vec<RequestNumber>, ReconcileError> {
        let mut filed = Vec::new();
        for (finding, kind, status) in self.store.remediating_findings(system.id).await? {
            let ended_unfixed = matches!(
                status,
                RequestStatus::Denied
                    | RequestStatus::Rejected
                    | RequestStatus::Cancelled
                    | RequestStatus::Expired
                    | RequestStatus::Failed
                    | RequestStatus::Fulfilled
            );
            if !ended_unfixed {
                continue;
            }
            let note = format!("its `{kind}` request ended `{status}` and the gap is still live");
            let event = self
                .finding_event(&finding, "finding.reopened")
                .data(serde_json::json!({ "reason": note }));
            if !self.store.reopen_finding(finding.id, &note, event).await? {
                continue;
            }
            let adoption_refused = kind == RequestKind::Grant
                && matches!(
                    status,
                    RequestStatus::Denied
                        | RequestStatus::Rejected
                        | RequestStatus::Cancelled
                        | RequestStatus::Expired
                )
                && matches!(
                    finding.kind,
                    FindingKind::UnapprovedAccess | FindingKind::OrphanedAccess
                );
            if adoption_refused
                && let Some(number) = self
                    .file(&finding, RequestKind::Revoke, "its adoption was refused")
                    .await?
            {
                filed.push(number);
            }
        }
        let kinds: &[FindingKind] = match mode {
            RemediationMode::Report => &[],
            RemediationMode::RevokeUnapproved => {
                &[FindingKind::UnapprovedAccess, FindingKind::OrphanedAccess]
            }
            RemediationMode::RestoreMissing => &[FindingKind::MissingAccess],
        };
        for kind in kinds {
            let request_kind = match kind {
                FindingKind::MissingAccess => RequestKind::Grant,
                _ => RequestKind::Revoke,
            };
            let mut after = None;
            loop {
                let page = self
                    .store
                    .findings(FindingQuery {
                        system: Some(system.id),
                        status: Some(FindingStatus::Open),
                        kind: Some(*kind),
                        after,
                        limit: PAGE,
                    })
                    .await?;
                after = page.last().map(|f| f.id);
                // A finding whose remediation already ended without closing it was reopened
                // with a note: it is a person's to settle now, not filed again every run.
                for finding in page.iter().filter(|f| f.request.is_none()) {
                    let why = format!("remediation mode `{mode}`");
                    if let Some(number) = self.file(finding, request_kind, &why).await? {
                        filed.push(number);
                    }
                }
                if page.len() < PAGE as usize {
                    break;
                }
            }
        }
        Ok(filed)
    }

    /// Files a `revoke` or restoring `grant` request for an open finding as writ itself and
    /// links the finding to it; `None` when the finding names no registered identity or
    /// catalog entitlement (nothing filed), or policy refused the request (linked, so the next
    /// run reopens it with that outcome).
    pub(crate) async fn file(
        &self,
        finding: &Finding,
        kind: RequestKind,
        why: &str,
    ) -> Result<Option<RequestNumber>, ReconcileError> {
        let (Some(identity), Some(entitlement)) = (finding.identity, finding.entitlement) else {
            return Ok(None);
        };
        let end = match kind {
            RequestKind::Grant => finding
                .evidence
                .get("expires_at")
                .and_then(|v| v.as_str())
                .and_then(|t| Timestamp::parse_rfc3339(t).ok()),
            _ => None,
        };
        let what = match kind {
            RequestKind::Grant => "restores access an active grant covers, missing on the target",
            _ => "removes live access no active grant covers",
        };
        let submitted = self
            .requests
            .submit(NewRequest {
                requester: PrincipalId::SYSTEM,
                kind,
                identity,
                entitlement: Some(entitlement),
                justification: format!(
                    "reconciliation {what} (finding {}, `{}`): {why}",
                    finding.id, finding.subject
                ),
                ttl: None,
                end,
                external_ref: None,
                new_owner: None,
            })
            .await?;
        let request = submitted.request;
        let rejected = request.status == RequestStatus::Rejected;
        if rejected {
            // Linked all the same: the next run reopens the finding with the request's outcome
            // as its note, and nobody files it again.
            tracing::warn!(finding = %finding.id, number = %request.number, "policy refused the remediation request");
        }
        let event = self
            .finding_event(finding, "finding.remediating")
            .subject(SubjectRef::new("request", request.id))
            .data(serde_json::json!({
                "kind": finding.kind.as_str(),
                "request": request.number.to_string(),
                "request_kind": kind.as_str(),
            }));
        self.store
            .remediate_finding(finding.id, request.id, event)
            .await?;
        Ok((!rejected).then_some(request.number))
    }

    fn finding_event(&self, finding: &Finding, action: &str) -> NewAuditEvent {
        NewAuditEvent::new(self.clock.now(), Actor::system("reconciler"), action)
            .subject(SubjectRef::new("finding", finding.id))
            .subject(SubjectRef::new("system", finding.system))
    }
}
