//! A reviewer's decisions: keep or revoke an item (a reason required to keep high-risk
//! access), or hand it to another eligible principal. Nobody certifies access they requested,
//! and a revocation is a governed `revoke` request, executed and read back like any other.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::campaign::eligibility;
use writ_domain::{
    CampaignItem, CampaignItemId, ItemStatus, NewNotification, NotificationTopic, PrincipalId,
    RequestKind, Review, ReviewDecision,
};
use writ_store::{Reassignment, Settlement};

use super::Campaigns;
use crate::CoreError;
use crate::requests::NewRequest;

/// A reviewer's decision on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decide {
    /// Who decides (the item's reviewer).
    pub by: PrincipalId,
    /// Which item.
    pub item: CampaignItemId,
    /// Keep or revoke.
    pub decision: ReviewDecision,
    /// Why (required to keep access of high risk or above).
    pub reason: Option<String>,
}

/// A reviewer handing an item to someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegate {
    /// Who hands it on (the item's reviewer).
    pub by: PrincipalId,
    /// Which item.
    pub item: CampaignItemId,
    /// To whom.
    pub to: PrincipalId,
    /// Why, for the record.
    pub reason: Option<String>,
}

impl Campaigns {
    /// Records a reviewer's decision; a revocation files its governed `revoke` request.
    #[tracing::instrument(skip_all, fields(item = %decide.item))]
    pub async fn decide(&self, decide: Decide) -> Result<CampaignItem, CoreError> {
        let item = self.pending_item(decide.item).await?;
        let by = self.principal(decide.by).await?;
        if by.id != item.reviewer {
            let reviewer = self.principal(item.reviewer).await?;
            return Err(CoreError::Forbidden(format!(
                "`{}` is not the reviewer of this item; `{}` is",
                by.name, reviewer.name
            )));
        }
        eligibility(by.id, &item.context).map_err(|refused| {
            CoreError::Forbidden(format!("`{}` may not decide this item: {refused}", by.name))
        })?;
        let now = self.clock.now();
        let review = Review::new(
            decide.decision,
            decide.reason,
            item.context.risk,
            by.id,
            now,
        )
        .map_err(|refused| CoreError::Invalid(refused.to_string()))?;
        let status = match review.decision {
            ReviewDecision::Keep => ItemStatus::Kept,
            ReviewDecision::Revoke => ItemStatus::Revoked,
        };
        self.settle(&item, status, review, None, Actor::principal(by.id))
            .await
    }

    /// Hands a pending item to another eligible principal, recorded in the audit log.
    #[tracing::instrument(skip_all, fields(item = %delegate.item))]
    pub async fn delegate(&self, delegate: Delegate) -> Result<CampaignItem, CoreError> {
        let item = self.pending_item(delegate.item).await?;
        let by = self.principal(delegate.by).await?;
        if by.id != item.reviewer {
            return Err(CoreError::Forbidden(format!(
                "`{}` is not the reviewer of this item and may not hand it on",
                by.name
            )));
        }
        let to = self.principal(delegate.to).await?;
        if to.id == by.id {
            return Err(CoreError::Invalid(format!(
                "`{}` already reviews this item",
                to.name
            )));
        }
        if !to.active {
            return Err(CoreError::Invalid(format!(
                "`{}` is no longer active and cannot review",
                to.name
            )));
        }
        eligibility(to.id, &item.context).map_err(|refused| {
            CoreError::Invalid(format!("`{}` may not review this item: {refused}", to.name))
        })?;
        let now = self.clock.now();
        let reason = delegate.reason.map(|r| r.trim().to_string());
        let event = NewAuditEvent::new(now, Actor::principal(by.id), "campaign.item.delegated")
            .subject(SubjectRef::new("campaign", item.campaign))
            .subject(SubjectRef::new("campaign_item", item.id))
            .data(serde_json::json!({
                "from": by.id.to_string(),
                "to": to.id.to_string(),
                "reason": reason,
            }));
        let notify = vec![NewNotification {
            recipient: to.id,
            topic: NotificationTopic::CampaignReviewAssigned,
            request: item.context.request_id,
            summary: format!(
                "{} handed you the review of {} holding {} on {}",
                by.name,
                item.context.identity_name,
                item.context.entitlement_name,
                item.context.system_name
            ),
        }];
        self.store
            .reassign_campaign_item(
                Reassignment {
                    item: item.id,
                    seen_reviewer: by.id,
                    reviewer: to.id,
                    delegated_from: Some(by.id),
                    escalated_due: None,
                    notify,
                },
                event,
            )
            .await?;
        self.item(item.id).await
    }

    /// Writes a settled item with its audit event; a revocation then files its request.
    pub(super) async fn settle(
        &self,
        item: &CampaignItem,
        status: ItemStatus,
        review: Review,
        job: Option<writ_domain::job::NewJob>,
        actor: Actor,
    ) -> Result<CampaignItem, CoreError> {
        let event = NewAuditEvent::new(review.at, actor, "campaign.item.decided")
            .subject(SubjectRef::new("campaign", item.campaign))
            .subject(SubjectRef::new("campaign_item", item.id))
            .subject(SubjectRef::new("grant", item.grant))
            .subject(SubjectRef::new("identity", item.context.identity))
            .data(serde_json::json!({
                "status": status.as_str(),
                "decision": review.decision.as_str(),
                "reason": review.reason,
                "by": review.by.to_string(),
                "identity": item.context.identity_name,
                "entitlement": item.context.entitlement_name,
                "system": item.context.system_name,
            }));
        self.store
            .settle_campaign_item(
                Settlement {
                    item: item.id,
                    seen_reviewer: item.reviewer,
                    status,
                    review,
                    job,
                },
                event,
            )
            .await?;
        let settled = self.item(item.id).await?;
        if settled.status == ItemStatus::Revoked {
            self.file_revocation(&settled).await?;
            return self.item(item.id).await;
        }
        Ok(settled)
    }

    /// Files the governed `revoke` request of a revoked item, as writ, naming the campaign
    /// and the decision in its justification; policy decides it like any other.
    pub(super) async fn file_revocation(&self, item: &CampaignItem) -> Result<(), CoreError> {
        let campaign = self.campaign(item.campaign).await?;
        let (by, reason) = item
            .review
            .as_ref()
            .map(|r| (r.by, r.reason.clone().unwrap_or_default()))
            .unwrap_or((PrincipalId::SYSTEM, String::new()));
        let decided_by = if by == PrincipalId::SYSTEM {
            "its deadline passed undecided".to_string()
        } else {
            format!(
                "reviewer {} decided to revoke",
                self.principal(by).await?.name
            )
        };
        let submitted = self
            .requests
            .submit(NewRequest {
                requester: PrincipalId::SYSTEM,
                kind: RequestKind::Revoke,
                identity: item.context.identity,
                entitlement: Some(item.context.entitlement),
                justification: format!(
                    "campaign {} ({}): {decided_by}. {reason}",
                    campaign.name, item.context.request
                )
                .trim()
                .to_string(),
                ttl: None,
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await?;
        if !submitted.explanation.decision.allowed {
            // Left unlinked: the deadline sweep files it again, and the refusal is in the log.
            return Err(CoreError::Refused(submitted.explanation.decision));
        }
        let request = &submitted.request;
        let event = NewAuditEvent::new(
            self.clock.now(),
            Actor::system("campaigns"),
            "campaign.item.revoke_filed",
        )
        .subject(SubjectRef::new("campaign", item.campaign))
        .subject(SubjectRef::new("campaign_item", item.id))
        .subject(SubjectRef::new("request", request.id))
        .data(serde_json::json!({
            "request": request.number.to_string(),
            "access": format!(
                "{} holding {} on {}",
                item.context.identity_name, item.context.entitlement_name, item.context.system_name
            ),
        }));
        self.store
            .link_revoke_request(item.id, request.id, event)
            .await?;
        Ok(())
    }

    async fn item(&self, id: CampaignItemId) -> Result<CampaignItem, CoreError> {
        self.store
            .campaign_item(id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("campaign item `{id}`")))
    }

    async fn pending_item(&self, id: CampaignItemId) -> Result<CampaignItem, CoreError> {
        let item = self.item(id).await?;
        if item.status != ItemStatus::Pending {
            return Err(CoreError::Invalid(format!(
                "campaign item `{id}` is already {}",
                item.status
            )));
        }
        Ok(item)
    }
}
