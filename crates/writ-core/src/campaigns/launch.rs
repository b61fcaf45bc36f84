//! Launching a campaign: its grants in scope are snapshotted into items, each assigned to the
//! first accountable principal who may review it, and every reviewer is told, in one
//! transaction.

use std::collections::BTreeMap;
use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::campaign::accountable_chain;
use writ_domain::{
    Campaign, CampaignId, CampaignItem, CampaignItemId, CampaignStatus, Catalog, ItemContext,
    ItemStatus, NewNotification, NotificationTopic, PrincipalId,
};
use writ_store::Launch;

use super::{Campaigns, created_event};
use crate::CoreError;

impl Campaigns {
    /// Launches a draft campaign `by` an organiser; returns its items.
    #[tracing::instrument(skip_all, fields(campaign = %id))]
    pub async fn launch(
        &self,
        by: PrincipalId,
        id: CampaignId,
    ) -> Result<Vec<CampaignItem>, CoreError> {
        self.organiser(by).await?;
        let campaign = self.campaign(id).await?;
        self.launch_as(&campaign, Actor::principal(by)).await
    }

    async fn launch_as(
        &self,
        campaign: &Campaign,
        actor: Actor,
    ) -> Result<Vec<CampaignItem>, CoreError> {
        if campaign.status != CampaignStatus::Draft {
            return Err(CoreError::Invalid(format!(
                "campaign `{}` is {}, and only a draft can be launched",
                campaign.name, campaign.status
            )));
        }
        let now = self.clock.now();
        let catalog = self.store.catalog().await?;
        let security = self.security_group(&catalog);
        let mut items = Vec::new();
        for (grant, context) in self.snapshot(campaign, &catalog, now).await? {
            let reviewer = first_active(&catalog, campaign, &context, &security).ok_or_else(|| {
                CoreError::Invalid(format!(
                    "nobody may review `{}` holding `{}`: its owner, the system's owner and the `{}` group are all inactive or requested it",
                    context.identity_name, context.entitlement_name, self.roles.security_group
                ))
            })?;
            items.push(CampaignItem {
                id: CampaignItemId::new(),
                campaign: campaign.id,
                grant: grant.id,
                context,
                reviewer,
                delegated_from: None,
                due_at: campaign.deadline,
                escalation: 0,
                status: ItemStatus::Pending,
                review: None,
                revoke_request: None,
            });
        }
        let notify = assignment_notices(campaign, &items);
        let event = NewAuditEvent::new(now, actor, "campaign.launched")
            .subject(SubjectRef::new("campaign", campaign.id))
            .data(serde_json::json!({
                "deadline": campaign.deadline.to_string(),
                "items": items.iter().map(|i| serde_json::json!({
                    "item": i.id.to_string(),
                    "grant": i.grant.to_string(),
                    "identity": i.context.identity_name,
                    "entitlement": i.context.entitlement_name,
                    "reviewer": i.reviewer.to_string(),
                })).collect::<Vec<_>>(),
            }));
        let recurs_at = campaign
            .every_days
            .map(|days| now.plus(Duration::from_secs(u64::from(days) * 86_400)));
        self.store
            .launch_campaign(
                Launch {
                    campaign: campaign.id,
                    at: now,
                    recurs_at,
                    items: items.clone(),
                    notify,
                },
                event,
            )
            .await?;
        Ok(items)
    }

    /// Starts the successor of every recurring campaign whose next run is due: the same
    /// scope and rules over the same span, launched at once. Returns how many started.
    pub(super) async fn recur(&self) -> Result<usize, CoreError> {
        let now = self.clock.now();
        let mut started = 0;
        for previous in self.store.due_recurrences(now).await? {
            let next = Campaign {
                id: CampaignId::new(),
                deadline: now.plus(previous.span()),
                status: CampaignStatus::Draft,
                created_at: now,
                launched_at: None,
                closed_at: None,
                recurs_at: None,
                ..previous.clone()
            };
            let actor = Actor::system("campaigns");
            let event = created_event(&next, actor.clone(), now)
                .subject(SubjectRef::new("campaign", previous.id));
            match self
                .store
                .create_campaign(next.clone(), Some(previous.id), event)
                .await
            {
                // Another replica started it first.
                Err(writ_store::StoreError::Conflict { .. }) => continue,
                other => other?,
            }
            self.launch_as(&next, actor).await?;
            started += 1;
        }
        Ok(started)
    }

    /// The security group's active members.
    pub(super) fn security_group(&self, catalog: &Catalog) -> Vec<PrincipalId> {
        catalog
            .principals
            .iter()
            .filter(|p| p.active && p.is_in_group(&self.roles.security_group))
            .map(|p| p.id)
            .collect()
    }
}

/// The accountable principals for an item who are still active, in the order they are asked.
fn active_chain(
    catalog: &Catalog,
    campaign: &Campaign,
    context: &ItemContext,
    security: &[PrincipalId],
) -> Vec<PrincipalId> {
    accountable_chain(campaign.reviewers, context, security)
        .into_iter()
        .filter(|id| catalog.principals.iter().any(|p| p.id == *id && p.active))
        .collect()
}

fn first_active(
    catalog: &Catalog,
    campaign: &Campaign,
    context: &ItemContext,
    security: &[PrincipalId],
) -> Option<PrincipalId> {
    active_chain(catalog, campaign, context, security)
        .first()
        .copied()
}

/// One notice per reviewer, saying how many grants wait for them and by when.
fn assignment_notices(campaign: &Campaign, items: &[CampaignItem]) -> Vec<NewNotification> {
    let mut by_reviewer: BTreeMap<PrincipalId, Vec<&CampaignItem>> = BTreeMap::new();
    for item in items {
        by_reviewer.entry(item.reviewer).or_default().push(item);
    }
    by_reviewer
        .into_iter()
        .map(|(reviewer, items)| NewNotification {
            recipient: reviewer,
            topic: NotificationTopic::CampaignReviewAssigned,
            // The first grant's request: the inbox links a notice to a request.
            request: items[0].context.request_id,
            summary: format!(
                "campaign {}: {} grant(s) to keep or revoke by {}",
                campaign.name,
                items.len(),
                campaign.deadline
            ),
        })
        .collect()
}
