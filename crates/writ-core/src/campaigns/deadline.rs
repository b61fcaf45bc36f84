//! The deadline sweep, run periodically by `writ serve`: reminds reviewers of items due soon,
//! settles items nobody decided by the campaign's policy (revoke, suspend or escalate),
//! files any revocation left unfiled, closes finished campaigns and starts recurring ones.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::campaign::accountable_chain;
use writ_domain::job::{JobPayload, NewJob};
use writ_domain::{
    CampaignItem, ItemStatus, NewNotification, NotificationTopic, PrincipalId, Review,
    ReviewDecision, UndecidedPolicy,
};
use writ_store::{Reassignment, StoreError};

use super::Campaigns;
use crate::CoreError;

/// Items handled per store read.
const BATCH: u32 = 200;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Reviewers reminded of items due soon.
    pub reminded: usize,
    /// Undecided items revoked by policy.
    pub revoked: usize,
    /// Undecided items whose identity is being suspended by policy.
    pub suspended: usize,
    /// Undecided items handed to the next accountable principal.
    pub escalated: usize,
    /// Campaigns closed.
    pub closed: usize,
    /// Recurring campaigns started again.
    pub recurred: usize,
}

impl Campaigns {
    /// One pass of the deadline sweep.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> Result<Swept, CoreError> {
        let mut swept = Swept {
            reminded: self.remind().await?,
            ..Swept::default()
        };
        let now = self.clock.now();
        for item in self.store.due_campaign_items(now, BATCH).await? {
            let campaign = self.campaign(item.campaign).await?;
            let outcome = match campaign.undecided {
                UndecidedPolicy::Revoke => self.settle_undecided(&item, ItemStatus::Revoked).await,
                UndecidedPolicy::Suspend => {
                    self.settle_undecided(&item, ItemStatus::Suspended).await
                }
                UndecidedPolicy::Escalate => self.escalate(&campaign, &item).await,
            };
            match outcome {
                Ok(()) => match campaign.undecided {
                    UndecidedPolicy::Revoke => swept.revoked += 1,
                    UndecidedPolicy::Suspend => swept.suspended += 1,
                    UndecidedPolicy::Escalate => swept.escalated += 1,
                },
                // Decided or handed on while the sweep looked at it.
                Err(CoreError::Store(StoreError::Conflict { .. })) => {}
                Err(err) => return Err(err),
            }
        }
        for item in self.store.unfiled_revocations(BATCH).await? {
            self.file_revocation(&item).await?;
        }
        swept.closed = self.store.close_finished_campaigns(now).await?.len();
        swept.recurred = self.recur().await?;
        Ok(swept)
    }

    /// Settles an item nobody decided by its due date: revoked (through a governed request)
    /// or suspended (the identity's `suspend_identity` job).
    async fn settle_undecided(
        &self,
        item: &CampaignItem,
        status: ItemStatus,
    ) -> Result<(), CoreError> {
        let now = self.clock.now();
        let (reason, job) = match status {
            ItemStatus::Suspended => (
                "undecided at its due date: the campaign suspends the identity",
                Some(NewJob::new(
                    JobPayload::SuspendIdentity {
                        identity_id: item.context.identity,
                    },
                    now,
                )),
            ),
            _ => (
                "undecided at its due date: the campaign revokes the grant",
                None,
            ),
        };
        let review = Review {
            decision: ReviewDecision::Revoke,
            reason: Some(reason.into()),
            by: PrincipalId::SYSTEM,
            at: now,
        };
        self.settle(item, status, review, job, Actor::system("campaigns"))
            .await?;
        Ok(())
    }

    /// Hands an overdue item to the next accountable principal (the system's owner, then the
    /// security group), due again after the escalation grace; at the end of the chain it stays
    /// with its reviewer and the security group is told.
    async fn escalate(
        &self,
        campaign: &writ_domain::Campaign,
        item: &CampaignItem,
    ) -> Result<(), CoreError> {
        let mut members = self
            .store
            .principals_in_group(&self.roles.security_group)
            .await?;
        // In e-mail order, as at launch (`Campaigns::security_group`).
        members.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
        let security: Vec<PrincipalId> = members.iter().map(|p| p.id).collect();
        // The chain's active principals, each looked up: not the whole catalog per item. The
        // security group's members are active already (`principals_in_group`).
        let mut chain = Vec::new();
        for id in accountable_chain(campaign.reviewers, &item.context, &security) {
            if security.contains(&id) || self.store.principal(id).await?.is_some_and(|p| p.active) {
                chain.push(id);
            }
        }
        let next = match chain.iter().position(|p| *p == item.reviewer) {
            Some(at) => chain.get(at + 1).copied(),
            None => chain.first().copied(),
        };
        let reviewer = next.unwrap_or(item.reviewer);
        let now = self.clock.now();
        let due = now.plus(self.escalation_grace);
        let summary = format!(
            "campaign {}: the review of {} holding {} on {} went undecided past {} and now waits for you, due {due}",
            campaign.name,
            item.context.identity_name,
            item.context.entitlement_name,
            item.context.system_name,
            item.due_at
        );
        let recipients = std::iter::once(reviewer).chain(security.iter().copied());
        let notify = NewNotification::to_each(
            recipients,
            NotificationTopic::CampaignReviewEscalated,
            item.context.request_id,
            &summary,
        );
        let event = NewAuditEvent::new(now, Actor::system("campaigns"), "campaign.item.escalated")
            .subject(SubjectRef::new("campaign", item.campaign))
            .subject(SubjectRef::new("campaign_item", item.id))
            .data(serde_json::json!({
                "from": item.reviewer.to_string(),
                "to": reviewer.to_string(),
                "due_at": due.to_string(),
                "escalation": item.escalation + 1,
            }));
        self.store
            .reassign_campaign_item(
                Reassignment {
                    item: item.id,
                    seen_reviewer: item.reviewer,
                    reviewer,
                    delegated_from: None,
                    escalated_due: Some(due),
                    notify,
                },
                event,
            )
            .await?;
        Ok(())
    }

    /// Reminds each reviewer once of every item due within the reminder window.
    async fn remind(&self) -> Result<usize, CoreError> {
        let now = self.clock.now();
        let due_by = now.plus(self.remind_before);
        let items = self.store.unreminded_campaign_items(due_by, BATCH).await?;
        if items.is_empty() {
            return Ok(0);
        }
        let notify: Vec<NewNotification> = items
            .iter()
            .map(|item| NewNotification {
                recipient: item.reviewer,
                topic: NotificationTopic::CampaignReviewDue,
                request: item.context.request_id,
                summary: format!(
                    "keep or revoke {} holding {} on {} by {}",
                    item.context.identity_name,
                    item.context.entitlement_name,
                    item.context.system_name,
                    item.due_at
                ),
            })
            .collect();
        let event = NewAuditEvent::new(now, Actor::system("campaigns"), "campaign.reminded").data(
            serde_json::json!({
                "items": items.iter().map(|i| i.id.to_string()).collect::<Vec<_>>(),
            }),
        );
        let reminded = items.len();
        self.store
            .record_reminders(items.into_iter().map(|i| i.id).collect(), notify, event)
            .await?;
        Ok(reminded)
    }
}
