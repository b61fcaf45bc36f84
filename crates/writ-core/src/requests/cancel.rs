//! Withdrawing a request before anything touched a target: its requester (or an admin)
//! cancels it while it is pending approval, or approved but not yet executing.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{PrincipalId, RequestEvent, RequestId, RequestStatus};
use writ_store::StoreError;

use super::Requests;
use super::facts::principal_facts;
use crate::error::CoreError;

/// A cancellation, as its author gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancel {
    /// Who cancels: the requester or an admin.
    pub by: PrincipalId,
    /// Which request.
    pub request: RequestId,
    /// Why, for the record.
    pub reason: Option<String>,
}

impl Requests {
    /// Cancels a request no job has started on. Once executing, the change runs to its end;
    /// undoing it is a `revoke` request.
    #[tracing::instrument(skip_all, fields(request = %cancel.request))]
    pub async fn cancel(&self, cancel: Cancel) -> Result<RequestStatus, CoreError> {
        let context = self
            .store
            .approval_context(cancel.request, cancel.by)
            .await?;
        let (request, _) = context
            .request
            .ok_or_else(|| CoreError::not_found(format!("request `{}`", cancel.request)))?;
        let by = context
            .approver
            .ok_or_else(|| CoreError::not_found(format!("principal `{}`", cancel.by)))?;
        let admin = principal_facts(&by, &self.roles).admin;
        if by.id != request.requester && !admin {
            return Err(CoreError::Forbidden(format!(
                "`{}` may not cancel {}: only its requester or an admin may",
                by.name, request.number
            )));
        }
        let cannot = |status: RequestStatus| {
            CoreError::Invalid(format!(
                "{} is {status} and can no longer be cancelled{}",
                request.number,
                if status.is_terminal() {
                    ""
                } else {
                    ": it is executing; revoke the access once it is granted"
                }
            ))
        };
        request
            .status
            .apply(RequestEvent::Cancelled)
            .map_err(|_| cannot(request.status))?;
        let now = self.clock.now();
        let reason = cancel
            .reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let event = NewAuditEvent::new(now, Actor::principal(by.id), "request.cancelled")
            .subject(SubjectRef::new("request", request.id))
            .subject(SubjectRef::new("identity", request.identity))
            .data(serde_json::json!({
                "number": request.number.to_string(),
                "reason": reason,
            }));
        match self.store.cancel_request(request.id, event).await {
            Ok(from) => Ok(from),
            // A job started, or an approver decided, since it was read: say where it is now.
            Err(conflict @ StoreError::Conflict { .. }) => {
                let status = self
                    .store
                    .request(request.id)
                    .await?
                    .map_or(request.status, |(r, _)| r.status);
                match status.apply(RequestEvent::Cancelled) {
                    Ok(_) => Err(conflict.into()),
                    Err(_) => Err(cannot(status)),
                }
            }
            Err(err) => Err(err.into()),
        }
    }
}
