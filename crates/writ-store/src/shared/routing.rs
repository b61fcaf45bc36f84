//! Routing of pending requests, compiled once per backend (see the crate docs): who is
//! assigned the current stage, until when, and what happens when that time passes
//! (escalation or expiry) or the requester withdraws or changes the request.

use writ_domain::{Principal, PrincipalId, Request, RequestId, RequestStatus, Timestamp};

use crate::error::StoreError;
use crate::{PlanChange, Route, Seen};

use super::requests::{COLUMNS, request_from};
use super::{Connection, Pool, catalog, sql};

/// Assigns the request's current stage along `route`: the next candidate in the pool's
/// round-robin (the only one when one person decides), its due time and escalation.
pub(super) async fn assign(
    tx: &mut Connection,
    request: RequestId,
    route: &Route,
    now: Timestamp,
) -> Result<Option<PrincipalId>, StoreError> {
    let assignee = next_assignee(tx, route).await?;
    sql::query(
        "UPDATE requests SET assignee_id = $1, sla_due = $2, escalation = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(assignee.map(|p| p.as_uuid()))
    .bind(route.sla_due.as_micros())
    .bind(i64::from(route.escalation))
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .execute(&mut *tx)
    .await?;
    Ok(assignee)
}

/// The candidate of `route` whose turn it is: the next in the pool's round-robin, or the only
/// one when one person decides.
pub(super) async fn next_assignee(
    tx: &mut Connection,
    route: &Route,
) -> Result<Option<PrincipalId>, StoreError> {
    Ok(match (route.candidates.as_slice(), &route.pool) {
        ([], _) => None,
        ([only], _) | ([only, ..], None) => Some(*only),
        (candidates, Some(pool)) => {
            // One atomic upsert per turn, so concurrent submissions never share a turn.
            let turn: i64 = sql::query_scalar(
                "INSERT INTO routing_cursors (pool, turns) VALUES ($1, 0) \
                 ON CONFLICT (pool) DO UPDATE SET turns = routing_cursors.turns + 1 RETURNING turns",
            )
            .bind(pool)
            .fetch_one(&mut *tx)
            .await?;
            let index = usize::try_from(turn.rem_euclid(candidates.len() as i64))
                .map_err(|e| StoreError::corrupt("routing cursor", e))?;
            candidates.get(index).copied()
        }
    })
}

/// The active members of `group`, by id. Groups live in each principal's JSON list, so this
/// reads the active principals and keeps the members; principals number in the thousands.
pub(super) async fn in_group(pool: &Pool, group: &str) -> Result<Vec<Principal>, StoreError> {
    let mut members = catalog::active_principals(pool).await?;
    members.retain(|p| p.is_in_group(group));
    Ok(members)
}

/// Pending requests whose stage is due, most overdue first.
pub(super) async fn overdue(
    pool: &Pool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Request>, StoreError> {
    let rows = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM requests WHERE status = 'pending_approval' AND sla_due <= $1 \
         ORDER BY sla_due, id LIMIT $2"
    )))
    .bind(now.as_micros())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| request_from(row).map(|(request, _)| request))
        .collect()
}

/// Moves a request that is still as it was `seen` to `status`; a request that moved since is
/// a conflict.
pub(super) async fn settle_overdue(
    tx: &mut Connection,
    seen: &Seen,
    status: RequestStatus,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = sql::query(
        "UPDATE requests SET status = $1, updated_at = $2 WHERE id = $3 \
         AND status = 'pending_approval' AND sla_due = $4 AND escalation = $5",
    )
    .bind(status.as_str())
    .bind(now.as_micros())
    .bind(seen.request.as_uuid())
    .bind(seen.sla_due.as_micros())
    .bind(i64::from(seen.escalation))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: "a decision on this request while it was overdue".into(),
        });
    }
    Ok(())
}

/// Cancels a request that no job has started on; returns the status it left.
pub(super) async fn cancel(
    tx: &mut Connection,
    request: RequestId,
    now: Timestamp,
) -> Result<RequestStatus, StoreError> {
    let cannot = || StoreError::Conflict {
        what: "a change of this request's status (it can no longer be cancelled)".into(),
    };
    let from: String = sql::query_scalar(
        "SELECT status FROM requests WHERE id = $1 AND status IN ('pending_approval', 'approved')",
    )
    .bind(request.as_uuid())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(cannot)?;
    // Guarded by the status just read, so a job that started meanwhile wins and this fails.
    let updated = sql::query(
        "UPDATE requests SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status = $3",
    )
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .bind(&from)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(cannot());
    }
    crate::rows::parsed("request status", &from)
}

/// Writes a pending request's new plan and decision; its stages start again.
pub(super) async fn change_plan(
    tx: &mut Connection,
    change: &PlanChange,
    now: Timestamp,
) -> Result<(), StoreError> {
    let updated = sql::query(
        "UPDATE requests SET requested_ttl_secs = $1, requested_end = $2, plan_hash = $3, \
         decision = $4, policy_set_hash = $5, updated_at = $6 \
         WHERE id = $7 AND status = 'pending_approval' AND plan_hash = $8",
    )
    .bind(change.ttl.map(|t| t.as_secs() as i64))
    .bind(change.end.map(|t| t.as_micros()))
    .bind(change.plan_hash.as_bytes().to_vec())
    .bind(change.decision.record.to_string())
    .bind(&change.decision.policy_set_hash)
    .bind(now.as_micros())
    .bind(change.request.as_uuid())
    .bind(change.from_plan.as_bytes().to_vec())
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: "a change of this request since its new plan was decided".into(),
        });
    }
    Ok(())
}
