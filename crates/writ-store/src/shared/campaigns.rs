//! Campaigns and their items, compiled once per backend (see the crate docs): created and
//! launched with their snapshots, settled item by item, reassigned when delegated or overdue,
//! closed once nothing is left pending.

use async_trait::async_trait;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Campaign, CampaignId, CampaignItem, CampaignItemId, CampaignStatus, ItemStatus,
    NewNotification, PrincipalId, RequestId, Review, Timestamp,
};

use crate::error::StoreError;
use crate::rows::{from_json, parsed, to_json};
use crate::{CampaignStore, Launch, Reassignment, Settlement, StoreResult};

use super::{Adapter, Connection, audit, jobs, notifications, sql};

const CAMPAIGN_COLUMNS: &str = "id, name, scope, reviewers, undecided, deadline, every_days, \
    status, created_by, created_at, launched_at, closed_at, recurs_at";

const ITEM_COLUMNS: &str = "i.id, i.campaign_id, i.grant_id, i.context, i.reviewer_id, \
    i.delegated_from, i.due_at, i.escalation, i.status, i.decision, i.reason, i.decided_by, \
    i.decided_at, i.revoke_request";

/// Pending items of open campaigns, for the queries below to narrow.
const PENDING: &str = "FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id \
    WHERE c.status = 'open' AND i.status = 'pending'";

#[async_trait]
impl CampaignStore for Adapter {
    async fn create_campaign(
        &self,
        campaign: Campaign,
        follows: Option<CampaignId>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        if let Some(previous) = follows {
            let consumed = sql::query(
                "UPDATE campaigns SET recurs_at = NULL WHERE id = $1 AND recurs_at IS NOT NULL",
            )
            .bind(previous.as_uuid())
            .execute(&mut *tx)
            .await?;
            if consumed.rows_affected() == 0 {
                return Err(StoreError::Conflict {
                    what: format!("a successor of campaign `{previous}`"),
                });
            }
        }
        insert_campaign(&mut tx, &campaign).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn campaign(&self, id: CampaignId) -> StoreResult<Option<Campaign>> {
        let row = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1"
        )))
        .bind(id.as_uuid())
        .fetch_optional(self.reads())
        .await?;
        row.as_ref().map(campaign_from).transpose()
    }

    async fn campaigns_page(
        &self,
        after: Option<CampaignId>,
        limit: u32,
    ) -> StoreResult<Vec<Campaign>> {
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE ($1 IS NULL OR id < $1) \
             ORDER BY id DESC LIMIT $2"
        )))
        .bind(after.map(|id| id.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(campaign_from).collect()
    }

    async fn launch_campaign(&self, launch: Launch, event: NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let launched = sql::query(
            "UPDATE campaigns SET status = 'open', launched_at = $1, recurs_at = $2 \
             WHERE id = $3 AND status = 'draft'",
        )
        .bind(launch.at.as_micros())
        .bind(launch.recurs_at.map(Timestamp::as_micros))
        .bind(launch.campaign.as_uuid())
        .execute(&mut *tx)
        .await?;
        if launched.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!(
                    "a launch of campaign `{}` (it is not a draft)",
                    launch.campaign
                ),
            });
        }
        for item in &launch.items {
            insert_item(&mut tx, item).await?;
        }
        notifications::insert(&mut tx, &launch.notify, launch.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn campaign_items(
        &self,
        campaign: CampaignId,
        after: Option<CampaignItemId>,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>> {
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM campaign_items i WHERE i.campaign_id = $1 \
             AND ($2 IS NULL OR i.id > $2) ORDER BY i.id LIMIT $3"
        )))
        .bind(campaign.as_uuid())
        .bind(after.map(|id| id.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(item_from).collect()
    }

    async fn campaign_progress(&self, campaign: CampaignId) -> StoreResult<Vec<(ItemStatus, u64)>> {
        let rows: Vec<(String, i64)> = sql::query_as(
            "SELECT status, COUNT(*) FROM campaign_items WHERE campaign_id = $1 \
             GROUP BY status ORDER BY status",
        )
        .bind(campaign.as_uuid())
        .fetch_all(self.reads())
        .await?;
        rows.into_iter()
            .map(|(status, n)| {
                let what = "campaign progress";
                Ok((
                    parsed(what, &status)?,
                    u64::try_from(n).map_err(|e| StoreError::corrupt(what, e))?,
                ))
            })
            .collect()
    }

    async fn campaign_item(&self, id: CampaignItemId) -> StoreResult<Option<CampaignItem>> {
        let row = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM campaign_items i WHERE i.id = $1"
        )))
        .bind(id.as_uuid())
        .fetch_optional(self.reads())
        .await?;
        row.as_ref().map(item_from).transpose()
    }

    async fn review_queue(
        &self,
        reviewer: PrincipalId,
        after: Option<CampaignItemId>,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>> {
        // Keyset on (due_at, id): the page starts after where the item `after` sorts.
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} {PENDING} AND i.reviewer_id = $1 \
             AND ($2 IS NULL OR (i.due_at, i.id) > \
                 (SELECT a.due_at, a.id FROM campaign_items a WHERE a.id = $2)) \
             ORDER BY i.due_at, i.id LIMIT $3"
        )))
        .bind(reviewer.as_uuid())
        .bind(after.map(|id| id.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(item_from).collect()
    }

    async fn settle_campaign_item(
        &self,
        settlement: Settlement,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let Settlement {
            item,
            seen_reviewer,
            status,
            review,
            job,
        } = settlement;
        let mut tx = self.write().await?;
        let settled = sql::query(
            "UPDATE campaign_items SET status = $1, decision = $2, reason = $3, decided_by = $4, \
             decided_at = $5 WHERE id = $6 AND status = 'pending' AND reviewer_id = $7",
        )
        .bind(status.as_str())
        .bind(review.decision.as_str())
        .bind(&review.reason)
        .bind(review.by.as_uuid())
        .bind(review.at.as_micros())
        .bind(item.as_uuid())
        .bind(seen_reviewer.as_uuid())
        .execute(&mut *tx)
        .await?;
        if settled.rows_affected() == 0 {
            return Err(item_moved(item));
        }
        if let Some(job) = job {
            jobs::enqueue(&mut tx, &job, event.at).await?;
        }
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn link_revoke_request(
        &self,
        item: CampaignItemId,
        request: RequestId,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sql::query("UPDATE campaign_items SET revoke_request = $1 WHERE id = $2")
            .bind(request.as_uuid())
            .bind(item.as_uuid())
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reassign_campaign_item(
        &self,
        reassignment: Reassignment,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let Reassignment {
            item,
            seen_reviewer,
            reviewer,
            delegated_from,
            escalated_due,
            notify,
        } = reassignment;
        let mut tx = self.write().await?;
        let moved = sql::query(
            "UPDATE campaign_items SET reviewer_id = $1, delegated_from = $2, \
             due_at = COALESCE($3, due_at), \
             escalation = escalation + (CASE WHEN $3 IS NULL THEN 0 ELSE 1 END), \
             reminded_at = NULL \
             WHERE id = $4 AND status = 'pending' AND reviewer_id = $5",
        )
        .bind(reviewer.as_uuid())
        .bind(delegated_from.map(|p| p.as_uuid()))
        .bind(escalated_due.map(Timestamp::as_micros))
        .bind(item.as_uuid())
        .bind(seen_reviewer.as_uuid())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(item_moved(item));
        }
        notifications::insert(&mut tx, &notify, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_campaign_items(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>> {
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} {PENDING} AND i.due_at <= $1 ORDER BY i.due_at, i.id LIMIT $2"
        )))
        .bind(now.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(item_from).collect()
    }

    async fn unreminded_campaign_items(
        &self,
        due_by: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<CampaignItem>> {
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} {PENDING} AND i.reminded_at IS NULL AND i.due_at <= $1 \
             ORDER BY i.due_at, i.id LIMIT $2"
        )))
        .bind(due_by.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(item_from).collect()
    }

    async fn record_reminders(
        &self,
        items: Vec<CampaignItemId>,
        notify: Vec<NewNotification>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        for item in &items {
            sql::query("UPDATE campaign_items SET reminded_at = $1 WHERE id = $2")
                .bind(event.at.as_micros())
                .bind(item.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        notifications::insert(&mut tx, &notify, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unfiled_revocations(&self, limit: u32) -> StoreResult<Vec<CampaignItem>> {
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM campaign_items i \
             WHERE i.status = 'revoked' AND i.revoke_request IS NULL ORDER BY i.id LIMIT $1"
        )))
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(item_from).collect()
    }

    async fn close_finished_campaigns(&self, now: Timestamp) -> StoreResult<Vec<CampaignId>> {
        let mut tx = self.write().await?;
        let finished: Vec<uuid::Uuid> = sql::query_scalar(
            "SELECT c.id FROM campaigns c WHERE c.status = 'open' AND NOT EXISTS \
             (SELECT 1 FROM campaign_items i WHERE i.campaign_id = c.id AND i.status = 'pending') \
             ORDER BY c.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut events = Vec::with_capacity(finished.len());
        for id in &finished {
            sql::query("UPDATE campaigns SET status = 'closed', closed_at = $1 WHERE id = $2")
                .bind(now.as_micros())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let id = CampaignId::from_uuid(*id);
            events.push(
                NewAuditEvent::new(now, Actor::system("campaigns"), "campaign.closed")
                    .subject(SubjectRef::new("campaign", id)),
            );
        }
        if !events.is_empty() {
            audit::append(&mut tx, events).await?;
        }
        tx.commit().await?;
        Ok(finished.into_iter().map(CampaignId::from_uuid).collect())
    }

    async fn due_recurrences(&self, now: Timestamp) -> StoreResult<Vec<Campaign>> {
        let rows = sql::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE recurs_at IS NOT NULL \
             AND recurs_at <= $1 ORDER BY recurs_at, id"
        )))
        .bind(now.as_micros())
        .fetch_all(self.reads())
        .await?;
        rows.iter().map(campaign_from).collect()
    }
}

fn item_moved(item: CampaignItemId) -> StoreError {
    StoreError::Conflict {
        what: format!("a change of campaign item `{item}` (it was decided or handed on meanwhile)"),
    }
}

async fn insert_campaign(tx: &mut Connection, campaign: &Campaign) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO campaigns (id, name, scope, reviewers, undecided, deadline, every_days, \
         status, created_by, created_at, launched_at, closed_at, recurs_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(campaign.id.as_uuid())
    .bind(campaign.name.as_str())
    .bind(to_json("campaign scope", &campaign.scope)?)
    .bind(campaign.reviewers.as_str())
    .bind(campaign.undecided.as_str())
    .bind(campaign.deadline.as_micros())
    .bind(campaign.every_days.map(i64::from))
    .bind(campaign.status.as_str())
    .bind(campaign.created_by.as_uuid())
    .bind(campaign.created_at.as_micros())
    .bind(campaign.launched_at.map(Timestamp::as_micros))
    .bind(campaign.closed_at.map(Timestamp::as_micros))
    .bind(campaign.recurs_at.map(Timestamp::as_micros))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn insert_item(tx: &mut Connection, item: &CampaignItem) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO campaign_items (id, campaign_id, grant_id, context, reviewer_id, \
         delegated_from, due_at, escalation, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(item.id.as_uuid())
    .bind(item.campaign.as_uuid())
    .bind(item.grant.as_uuid())
    .bind(to_json("campaign item context", &item.context)?)
    .bind(item.reviewer.as_uuid())
    .bind(item.delegated_from.map(|p| p.as_uuid()))
    .bind(item.due_at.as_micros())
    .bind(i64::from(item.escalation))
    .bind(item.status.as_str())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn campaign_from(row: &super::SqlRow) -> Result<Campaign, StoreError> {
    use super::sql::Row as _;
    let what = "campaign";
    let every_days: Option<i64> = row.try_get("every_days")?;
    let status: CampaignStatus = parsed(what, &row.try_get::<String, _>("status")?)?;
    Ok(Campaign {
        id: CampaignId::from_uuid(row.try_get("id")?),
        name: parsed(what, &row.try_get::<String, _>("name")?)?,
        scope: from_json(what, &row.try_get::<String, _>("scope")?)?,
        reviewers: parsed(what, &row.try_get::<String, _>("reviewers")?)?,
        undecided: parsed(what, &row.try_get::<String, _>("undecided")?)?,
        deadline: Timestamp::from_micros(row.try_get("deadline")?),
        every_days: every_days
            .map(u32::try_from)
            .transpose()
            .map_err(|e| StoreError::corrupt(what, e))?,
        status,
        created_by: PrincipalId::from_uuid(row.try_get("created_by")?),
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
        launched_at: micros(row.try_get("launched_at")?),
        closed_at: micros(row.try_get("closed_at")?),
        recurs_at: micros(row.try_get("recurs_at")?),
    })
}

fn item_from(row: &super::SqlRow) -> Result<CampaignItem, StoreError> {
    use super::sql::Row as _;
    let what = "campaign item";
    let decision: Option<String> = row.try_get("decision")?;
    let decided_by: Option<uuid::Uuid> = row.try_get("decided_by")?;
    let decided_at: Option<i64> = row.try_get("decided_at")?;
    let review = match (decision, decided_by, decided_at) {
        (Some(decision), Some(by), Some(at)) => Some(Review {
            decision: parsed(what, &decision)?,
            reason: row.try_get("reason")?,
            by: PrincipalId::from_uuid(by),
            at: Timestamp::from_micros(at),
        }),
        _ => None,
    };
    Ok(CampaignItem {
        id: CampaignItemId::from_uuid(row.try_get("id")?),
        campaign: CampaignId::from_uuid(row.try_get("campaign_id")?),
        grant: writ_domain::GrantId::from_uuid(row.try_get("grant_id")?),
        context: from_json(what, &row.try_get::<String, _>("context")?)?,
        reviewer: PrincipalId::from_uuid(row.try_get("reviewer_id")?),
        delegated_from: row
            .try_get::<Option<uuid::Uuid>, _>("delegated_from")?
            .map(PrincipalId::from_uuid),
        due_at: Timestamp::from_micros(row.try_get("due_at")?),
        escalation: u32::try_from(row.try_get::<i64, _>("escalation")?)
            .map_err(|e| StoreError::corrupt(what, e))?,
        status: parsed(what, &row.try_get::<String, _>("status")?)?,
        review,
        revoke_request: row
            .try_get::<Option<uuid::Uuid>, _>("revoke_request")?
            .map(RequestId::from_uuid),
    })
}

fn micros(value: Option<i64>) -> Option<Timestamp> {
    value.map(Timestamp::from_micros)
}
