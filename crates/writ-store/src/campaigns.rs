//! The campaign half of the storage port: campaigns, their items and the decisions on them.
//! A supertrait of [`crate::Store`], so every store keeps campaigns and callers holding an
//! `Arc<dyn Store>` reach these methods with this trait in scope.

use async_trait::async_trait;
use writ_domain::audit::NewAuditEvent;
use writ_domain::job::NewJob;
use writ_domain::{
    Campaign, CampaignId, CampaignItem, CampaignItemId, ItemStatus, NewNotification, PrincipalId,
    RequestId, Review, Timestamp,
};

use crate::StoreResult;

/// A draft campaign's launch: the items it snapshotted, written with it.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The campaign.
    pub campaign: CampaignId,
    /// When it launched.
    pub at: Timestamp,
    /// When its successor launches (recurring campaigns).
    pub recurs_at: Option<Timestamp>,
    /// Its items, one per grant in scope.
    pub items: Vec<CampaignItem>,
    /// The reviewers told of their items.
    pub notify: Vec<NewNotification>,
}

/// A pending item settled: decided by its reviewer, or by the campaign's policy at its due
/// date.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// The item.
    pub item: CampaignItemId,
    /// Its reviewer when it was read: an item handed on meanwhile is a conflict.
    pub seen_reviewer: PrincipalId,
    /// Kept, revoked or suspended.
    pub status: ItemStatus,
    /// The decision.
    pub review: Review,
    /// A job it starts (the identity's suspension).
    pub job: Option<NewJob>,
}

/// A pending item handed to another reviewer: delegated by its reviewer, or escalated past
/// its due date.
#[derive(Debug, Clone)]
pub struct Reassignment {
    /// The item.
    pub item: CampaignItemId,
    /// Its reviewer when it was read: an item handed on or decided meanwhile is a conflict.
    pub seen_reviewer: PrincipalId,
    /// Who reviews it now.
    pub reviewer: PrincipalId,
    /// Who delegated it (none when escalated).
    pub delegated_from: Option<PrincipalId>,
    /// Its new due date, when escalated (which also counts the escalation).
    pub escalated_due: Option<Timestamp>,
    /// The new reviewer (and anyone else) told of it.
    pub notify: Vec<NewNotification>,
}

/// Campaigns, their items and decisions. Every method is one transaction; those that change
/// anything append their audit event in it.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Stores a new campaign with its audit event. A successor of a recurring campaign names
    /// the one it `follows`, whose pending recurrence it consumes: a second successor is a
    /// [`crate::StoreError::Conflict`].
    async fn create_campaign(
        &self,
        campaign: Campaign,
        follows: Option<CampaignId>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// One campaign.
    async fn campaign(&self, id: CampaignId) -> StoreResult<Option<Campaign>>;

    /// Up to `limit` campaigns older than `after` (from the newest when `None`), newest first.
    async fn campaigns_page(
        &self,
        after: Option<CampaignId>,
        limit: u32,
    ) -> StoreResult<Vec<Campaign>>;

    /// Opens a draft campaign with its items and notifications; one not draft is a
    /// [`crate::StoreError::Conflict`].
    async fn launch_campaign(&self, launch: Launch, event: NewAuditEvent) -> StoreResult<()>;

    /// Up to `limit` items of a campaign after `after`, in id order.
    async fn campaign_items(
        &self,
        campaign: CampaignId,
        after: Option<CampaignItemId>,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>>;

    /// How many items of a campaign are in each status (statuses with none left out).
    async fn campaign_progress(&self, campaign: CampaignId) -> StoreResult<Vec<(ItemStatus, u64)>>;

    /// One item.
    async fn campaign_item(&self, id: CampaignItemId) -> StoreResult<Option<CampaignItem>>;

    /// Up to `limit` pending items of open campaigns waiting for `reviewer`, soonest due first
    /// (then by id), starting after the item `after`.
    async fn review_queue(
        &self,
        reviewer: PrincipalId,
        after: Option<CampaignItemId>,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>>;

    /// Settles a pending item with its audit event (and job, if any); an item no longer
    /// pending, or handed to someone else, is a [`crate::StoreError::Conflict`].
    async fn settle_campaign_item(
        &self,
        settlement: Settlement,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Records the `revoke` request a revoked item filed, with the audit event that ties the
    /// two together (campaign evidence follows it to the request's read-back).
    async fn link_revoke_request(
        &self,
        item: CampaignItemId,
        request: RequestId,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Hands a pending item to another reviewer, with its audit event and notifications; one
    /// no longer pending, or handed on meanwhile, is a [`crate::StoreError::Conflict`].
    async fn reassign_campaign_item(
        &self,
        reassignment: Reassignment,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Up to `limit` pending items of open campaigns due at or before `now`, most overdue
    /// first.
    async fn due_campaign_items(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>>;

    /// Up to `limit` pending items of open campaigns due at or before `due_by` whose reviewer
    /// has not been reminded yet.
    async fn unreminded_campaign_items(
        &self,
        due_by: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>>;

    /// Marks `items` reminded at the event's time, with the reminders and audit event.
    async fn record_reminders(
        &self,
        items: Vec<CampaignItemId>,
        notify: Vec<NewNotification>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Up to `limit` items revoked whose `revoke` request was never filed (writ stopped
    /// between the decision and the filing).
    async fn unfiled_revocations(&self, limit: u32) -> StoreResult<Vec<CampaignItem>>;

    /// Closes every open campaign with no pending item left, each with a `campaign.closed`
    /// audit event; returns them.
    async fn close_finished_campaigns(&self, now: Timestamp) -> StoreResult<Vec<CampaignId>>;

    /// Campaigns whose successor is due to launch at or before `now`.
    async fn due_recurrences(&self, now: Timestamp) -> StoreResult<Vec<Campaign>>;
}
