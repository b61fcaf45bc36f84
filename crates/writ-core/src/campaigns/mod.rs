//! Recertification campaigns: a campaign's scope picks active grants; launching it snapshots
//! each into an item its accountable reviewer keeps or revokes; the deadline sweep reminds
//! reviewers, then settles what nobody decided by the campaign's policy. A revocation is a
//! governed `revoke` request, executed and read back like any other; a suspension is the
//! `suspend_identity` job that departures use.

mod deadline;
mod decide;
mod launch;
mod snapshot;

use std::sync::Arc;
use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Campaign, CampaignId, CampaignScope, CampaignStatus, Principal, PrincipalId, ReviewerRule,
    Timestamp, UndecidedPolicy,
};
use writ_store::Store;

use crate::requests::{Requests, Roles};
use crate::{Clock, CoreError};

pub use deadline::Swept;
pub use decide::{Decide, Delegate};

/// How long before an item is due its reviewer is reminded, by default.
pub const DEFAULT_REMIND_BEFORE: Duration = Duration::from_secs(3 * 86_400);
/// How long an escalated item has, by default, before it escalates again.
pub const DEFAULT_ESCALATION_GRACE: Duration = Duration::from_secs(7 * 86_400);

/// A campaign as its creator describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    /// Who creates it (an admin or a member of the security group).
    pub created_by: PrincipalId,
    /// Its name.
    pub name: String,
    /// Which grants it reviews.
    pub scope: CampaignScope,
    /// Who reviews each grant.
    pub reviewers: ReviewerRule,
    /// What becomes of items nobody decided by the deadline.
    pub undecided: UndecidedPolicy,
    /// When every item must be decided.
    pub deadline: Timestamp,
    /// For a recurring campaign, how many days after each launch the next one starts.
    pub every_days: Option<u32>,
}

/// The campaign use cases, over a store, the request use cases (a revocation is a governed
/// request) and a clock.
#[derive(Clone)]
pub struct Campaigns {
    store: Arc<dyn Store>,
    requests: Requests,
    clock: Arc<dyn Clock>,
    roles: Roles,
    remind_before: Duration,
    escalation_grace: Duration,
}

impl Campaigns {
    /// The use cases over these ports.
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
            remind_before: DEFAULT_REMIND_BEFORE,
            escalation_grace: DEFAULT_ESCALATION_GRACE,
        }
    }

    /// Reminds reviewers this long before an item is due.
    pub fn with_remind_before(mut self, before: Duration) -> Self {
        self.remind_before = before;
        self
    }

    /// Gives an escalated item this long before it escalates again.
    pub fn with_escalation_grace(mut self, grace: Duration) -> Self {
        self.escalation_grace = grace;
        self
    }

    /// Creates a draft campaign; launching it snapshots its grants.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, new: NewCampaign) -> Result<Campaign, CoreError> {
        let by = self.organiser(new.created_by).await?;
        let now = self.clock.now();
        if new.deadline <= now {
            return Err(CoreError::Invalid(format!(
                "the deadline `{}` has passed",
                new.deadline
            )));
        }
        if new.every_days == Some(0) {
            return Err(CoreError::Invalid(
                "a recurring campaign recurs every 1 day or more".into(),
            ));
        }
        let campaign = Campaign {
            id: CampaignId::new(),
            name: new.name.parse()?,
            scope: new.scope,
            reviewers: new.reviewers,
            undecided: new.undecided,
            deadline: new.deadline,
            every_days: new.every_days,
            status: CampaignStatus::Draft,
            created_by: by.id,
            created_at: now,
            launched_at: None,
            closed_at: None,
            recurs_at: None,
        };
        let event = created_event(&campaign, Actor::principal(by.id), now);
        self.store
            .create_campaign(campaign.clone(), None, event)
            .await?;
        Ok(campaign)
    }

    /// One campaign, or a clear error naming it.
    pub async fn campaign(&self, id: CampaignId) -> Result<Campaign, CoreError> {
        self.store
            .campaign(id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("campaign `{id}`")))
    }

    /// The principal `id`, if they may organise campaigns (an admin or a member of the
    /// security group).
    async fn organiser(&self, id: PrincipalId) -> Result<Principal, CoreError> {
        let by = self.principal(id).await?;
        let allowed = id == PrincipalId::SYSTEM
            || by.is_in_group(&self.roles.admin_group)
            || by.is_in_group(&self.roles.security_group);
        if !by.active || !allowed {
            return Err(CoreError::Forbidden(format!(
                "`{}` may not organise campaigns: members of `{}` or `{}` may",
                by.name, self.roles.admin_group, self.roles.security_group
            )));
        }
        Ok(by)
    }

    async fn principal(&self, id: PrincipalId) -> Result<Principal, CoreError> {
        self.store
            .principal(id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("principal `{id}`")))
    }
}

/// The audit event of a campaign's creation, carrying its whole definition.
fn created_event(campaign: &Campaign, actor: Actor, now: Timestamp) -> NewAuditEvent {
    NewAuditEvent::new(now, actor, "campaign.created")
        .subject(SubjectRef::new("campaign", campaign.id))
        .data(serde_json::json!({
            "name": campaign.name.as_str(),
            "scope": campaign.scope,
            "reviewers": campaign.reviewers.as_str(),
            "undecided": campaign.undecided.as_str(),
            "deadline": campaign.deadline.to_string(),
            "every_days": campaign.every_days,
        }))
}
