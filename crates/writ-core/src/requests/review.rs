//! Break-glass post-use reviews: someone accountable (the identity's owner, the assignee, or
//! the security group) looks at how emergency access was used and closes the review; an
//! overdue review escalates to the security group. Nobody reviews their own break-glass.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Category, NewNotification, NotificationTopic, PostUseReview, PrincipalId, ReviewClosure,
    ReviewId, ReviewStatus,
};
use writ_store::StoreError;

use super::Requests;
use crate::error::CoreError;

/// A reviewer's closing of a post-use review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReview {
    /// Who closes it.
    pub by: PrincipalId,
    /// Which review.
    pub review: ReviewId,
    /// What they found (required).
    pub notes: String,
}

/// Reviews handled per store read of the sweep.
const SWEEP_BATCH: u32 = 100;

impl Requests {
    /// Closes an open post-use review, which lets the identity be granted the entitlement
    /// again.
    #[tracing::instrument(skip_all, fields(review = %close.review))]
    pub async fn close_review(&self, close: CloseReview) -> Result<(), CoreError> {
        let notes = close.notes.trim().to_string();
        if notes.is_empty() {
            return Err(CoreError::Invalid(
                "closing a review needs notes on what was found".into(),
            ));
        }
        let review = self
            .store
            .review(close.review)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("review `{}`", close.review)))?;
        if review.status == ReviewStatus::Closed {
            return Err(CoreError::Invalid(format!(
                "review `{}` is already closed",
                review.id
            )));
        }
        let context = self
            .store
            .approval_context(review.request, close.by)
            .await?;
        let (request, _) = context
            .request
            .ok_or_else(|| CoreError::not_found(format!("request `{}`", review.request)))?;
        let by = context
            .approver
            .ok_or_else(|| CoreError::not_found(format!("principal `{}`", close.by)))?;
        let owner = context
            .facts
            .as_ref()
            .and_then(|f| f.identity.as_ref())
            .map(|identity| identity.owner);
        if by.id == request.requester {
            return Err(CoreError::Forbidden(format!(
                "`{}` used this break-glass access and may not review it",
                by.name
            )));
        }
        let accountable = Some(by.id) == owner
            || Some(by.id) == review.assignee
            || by.is_in_group(&self.roles.security_group);
        if !by.active || !accountable {
            return Err(CoreError::Forbidden(format!(
                "`{}` may not close this review: the identity's owner, its assignee or a member of `{}` may",
                by.name, self.roles.security_group
            )));
        }
        let now = self.clock.now();
        let event = review_event(
            &review,
            now,
            Actor::principal(by.id),
            "break_glass_review.closed",
        )
        .data(serde_json::json!({
            "request": request.number.to_string(),
            "notes": notes,
            "overdue": now > review.due_at,
        }));
        let closure = ReviewClosure {
            by: by.id,
            at: now,
            notes,
        };
        self.store.close_review(review.id, closure, event).await?;
        Ok(())
    }

    /// Escalates every overdue post-use review to a member of the security group (other than
    /// whoever used the access); returns how many.
    pub(super) async fn escalate_overdue_reviews(&self) -> Result<usize, CoreError> {
        let now = self.clock.now();
        let members = self
            .store
            .principals_in_group(&self.roles.security_group)
            .await?;
        let mut escalated = 0;
        loop {
            let overdue = self.store.overdue_reviews(now, SWEEP_BATCH).await?;
            let batch = overdue.len();
            for review in overdue {
                let requester = self
                    .store
                    .request(review.request)
                    .await?
                    .map(|(r, _)| r.requester);
                let eligible: Vec<_> = members.iter().filter(|m| Some(m.id) != requester).collect();
                let assignee = (!eligible.is_empty())
                    .then(|| eligible[review.escalation as usize % eligible.len()].id);
                let due_at = self.sla.due(Category::Emergency, now);
                let event = review_event(
                    &review,
                    now,
                    Actor::system("sla"),
                    "break_glass_review.escalated",
                )
                .data(serde_json::json!({
                    "overdue_since": review.due_at.to_string(),
                    "assignee": assignee.map(|p| p.to_string()),
                    "due_at": due_at.to_string(),
                    "escalation": review.escalation + 1,
                }));
                let notify = NewNotification::to_each(
                    assignee,
                    NotificationTopic::ReviewEscalated,
                    review.request,
                    "a break-glass post-use review went overdue and now waits for you",
                );
                match self
                    .store
                    .escalate_review(review.id, review.due_at, assignee, due_at, notify, event)
                    .await
                {
                    Ok(()) => escalated += 1,
                    Err(StoreError::Conflict { .. }) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            if batch < SWEEP_BATCH as usize {
                return Ok(escalated);
            }
        }
    }
}

fn review_event(
    review: &PostUseReview,
    now: writ_domain::Timestamp,
    actor: Actor,
    action: &str,
) -> NewAuditEvent {
    NewAuditEvent::new(now, actor, action)
        .subject(SubjectRef::new("review", review.id))
        .subject(SubjectRef::new("request", review.request))
        .subject(SubjectRef::new("identity", review.identity))
        .subject(SubjectRef::new("entitlement", review.entitlement))
}
