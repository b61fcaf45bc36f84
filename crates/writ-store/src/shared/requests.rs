//! Requests, compiled once per backend (see the crate docs): the facts a submission is
//! decided on, and the submission itself.

use writ_domain::{EntitlementId, IdentityId, PrincipalId, Request, RequestNumber};

use crate::error::StoreError;
use crate::rows;
use crate::{DecidedOn, RequestDecision};

use super::{Connection, Pool, sql};

/// The columns [`request_from`] reads.
pub(super) const COLUMNS: &str = "id, number, kind, requester_id, identity_id, entitlement_id, \
    justification, requested_ttl_secs, requested_end, new_owner_id, category, status, plan_hash, \
    decision, policy_set_hash, external_ref, sla_due, assignee_id, escalation, created_at";

/// Statuses in which a request's access counts as held for separation of duties: it may
/// still be granted.
const IN_FLIGHT: &str = "('submitted', 'pending_approval', 'approved', 'executing', 'verifying')";
/// Grant statuses in which the access is (or may be) live.
const HELD: &str = "('provisioning', 'active', 'revoking')";

/// The entitlements of the SoD rules that name `requested`: the only holdings its decision
/// counts.
pub(super) fn relevant_to(
    rules: &[writ_domain::SodRule],
    requested: Option<EntitlementId>,
) -> Vec<EntitlementId> {
    match requested {
        Some(requested) => rules
            .iter()
            .filter(|rule| rule.entitlements.as_slice().contains(&requested))
            .flat_map(|rule| rule.entitlements.as_slice().iter().copied())
            .collect(),
        None => Vec::new(),
    }
}

/// `IN ($2, …)` for `count` parameters after the first.
fn among(count: usize) -> String {
    let placeholders: Vec<String> = (2..count + 2).map(|n| format!("${n}")).collect();
    format!("IN ({})", placeholders.join(", "))
}

/// Which of `count` entitlements (`$2`, …) the identity `$1` holds or is about to hold.
pub(super) fn held_by_identity_sql(count: usize) -> String {
    let among = among(count);
    format!(
        "SELECT entitlement_id FROM grants WHERE identity_id = $1 AND status IN {HELD} \
         AND entitlement_id {among} \
         UNION SELECT entitlement_id FROM requests WHERE identity_id = $1 \
         AND entitlement_id {among} AND status IN {IN_FLIGHT}"
    )
}

/// Which of `count` entitlements (`$2`, …) any identity of the owner `$1` holds or is about to
/// hold.
pub(super) fn held_by_owner_sql(count: usize) -> String {
    let among = among(count);
    format!(
        "SELECT g.entitlement_id FROM grants g JOIN identities i ON i.id = g.identity_id \
         WHERE i.owner_id = $1 AND g.status IN {HELD} AND g.entitlement_id {among} \
         UNION SELECT r.entitlement_id FROM requests r JOIN identities i ON i.id = r.identity_id \
         WHERE i.owner_id = $1 AND r.entitlement_id {among} AND r.status IN {IN_FLIGHT}"
    )
}

/// Whether a break-glass review of identity `$1`'s use of entitlement `$2` is open.
pub(super) const OPEN_REVIEW: &str = "SELECT count(*) FROM break_glass_reviews \
    WHERE identity_id = $1 AND entitlement_id = $2 AND status = 'open'";

/// Which of `relevant` the identity holds or is about to hold.
pub(super) async fn held_by_identity(
    conn: &mut Connection,
    identity: IdentityId,
    relevant: &[EntitlementId],
) -> Result<Vec<EntitlementId>, StoreError> {
    let mut query = sql::query_scalar(sqlx::AssertSqlSafe(held_by_identity_sql(relevant.len())))
        .bind(identity.as_uuid());
    for e in relevant {
        query = query.bind(e.as_uuid());
    }
    let ids: Vec<uuid::Uuid> = query.fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(EntitlementId::from_uuid).collect())
}

/// Which of `relevant` any identity of the owner holds or is about to hold.
pub(super) async fn held_by_owner(
    conn: &mut Connection,
    owner: PrincipalId,
    relevant: &[EntitlementId],
) -> Result<Vec<EntitlementId>, StoreError> {
    let mut query = sql::query_scalar(sqlx::AssertSqlSafe(held_by_owner_sql(relevant.len())))
        .bind(owner.as_uuid());
    for e in relevant {
        query = query.bind(e.as_uuid());
    }
    let ids: Vec<uuid::Uuid> = query.fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(EntitlementId::from_uuid).collect())
}

/// Refuses a submission whose owner's holdings changed since it was decided. Locks the owner
/// first (`lock_owner!`; on SQLite the write lock already serialises writers), so concurrent
/// submissions for one owner's identities are checked one after the other.
pub(super) async fn check_holdings(
    tx: &mut Connection,
    decided_on: &DecidedOn,
) -> Result<(), StoreError> {
    let lock = concat!(
        "SELECT id FROM principals WHERE id = $1",
        super::lock_owner!()
    );
    sql::query(lock)
        .bind(decided_on.owner.as_uuid())
        .execute(&mut *tx)
        .await?;
    let relevant = |mut held: Vec<EntitlementId>| {
        held.retain(|e| decided_on.relevant.contains(e));
        held.sort();
        held.dedup();
        held
    };
    let owner_now = relevant(held_by_owner(tx, decided_on.owner, &decided_on.relevant).await?);
    let identity_now =
        relevant(held_by_identity(tx, decided_on.identity, &decided_on.relevant).await?);
    if owner_now != relevant(decided_on.held.clone())
        || identity_now != relevant(decided_on.identity_held.clone())
    {
        return Err(StoreError::Conflict {
            what: "a change to the holdings this request was decided on".into(),
        });
    }
    Ok(())
}

/// Stores a decided request, routed already if it waits for approval.
pub(super) async fn insert(
    tx: &mut Connection,
    request: &Request,
    decision: &RequestDecision,
) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO requests (id, number, kind, requester_id, identity_id, entitlement_id, justification, \
         requested_ttl_secs, requested_end, new_owner_id, category, status, plan_hash, decision, \
         policy_set_hash, external_ref, sla_due, assignee_id, escalation, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)",
    )
    .bind(request.id.as_uuid())
    .bind(request.number.get() as i64)
    .bind(request.kind.as_str())
    .bind(request.requester.as_uuid())
    .bind(request.identity.as_uuid())
    .bind(request.entitlement.map(|e| e.as_uuid()))
    .bind(&request.justification)
    .bind(request.requested_ttl.map(|t| t.as_secs() as i64))
    .bind(request.requested_end.map(|t| t.as_micros()))
    .bind(request.new_owner.map(|p| p.as_uuid()))
    .bind(request.category.as_str())
    .bind(request.status.as_str())
    .bind(request.plan_hash.map(|h| h.as_bytes().to_vec()))
    .bind(decision.record.to_string())
    .bind(&decision.policy_set_hash)
    .bind(request.external_ref.as_ref().map(|r| rows::to_json("external ref", r)).transpose()?)
    .bind(request.sla_due.map(|t| t.as_micros()))
    .bind(request.assignee.map(|p| p.as_uuid()))
    .bind(i64::from(request.escalation))
    .bind(request.created_at.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One request by its number (`REQ-…`).
pub(super) async fn by_number(
    pool: &Pool,
    number: RequestNumber,
) -> Result<Option<(Request, RequestDecision)>, StoreError> {
    let row = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM requests WHERE number = $1"
    )))
    .bind(number.get() as i64)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(request_from).transpose()
}

/// Allocates the next request number; numbers are never reused.
pub(super) async fn next_number(tx: &mut Connection) -> Result<RequestNumber, StoreError> {
    let n: i64 = sql::query_scalar(super::next_request_number!())
        .fetch_one(&mut *tx)
        .await?;
    number(n)
}

/// A stored request number, which must be positive.
pub(super) fn number(n: i64) -> Result<RequestNumber, StoreError> {
    rows::request_number(n)
}

pub(super) fn request_from(row: &super::SqlRow) -> Result<(Request, RequestDecision), StoreError> {
    use super::sql::Row as _;
    rows::request_from(rows::request_columns!(row, try_get))
}
