//! Requests, compiled once per backend (see the crate docs): the facts a submission is
//! decided on, and the submission itself.

use writ_domain::{
    EntitlementId, IdentityId, PlanHash, PrincipalId, Request, RequestId, RequestNumber, Timestamp,
};

use crate::error::StoreError;
use crate::rows::{self, parsed};
use crate::{DecidedOn, RequestDecision, SubmitContext};

use super::{Connection, Db, Pool, catalog};

/// The columns [`request_from`] reads.
pub(super) const COLUMNS: &str = "id, number, kind, requester_id, identity_id, entitlement_id, \
    justification, requested_ttl_secs, requested_end, new_owner_id, category, status, plan_hash, \
    decision, policy_set_hash, external_ref, sla_due, assignee_id, escalation, created_at";

/// Statuses in which a request's access counts as held for separation of duties: it may
/// still be granted.
const IN_FLIGHT: &str = "('submitted', 'pending_approval', 'approved', 'executing', 'verifying')";
/// Grant statuses in which the access is (or may be) live.
const HELD: &str = "('provisioning', 'active', 'revoking')";

/// Who and what a request names (requester, identity, owner, entitlement, system), without
/// the holdings and SoD rules only a submission's decision needs: enough to decide an approval
/// or to execute.
pub(super) async fn subjects(
    pool: &Pool,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let mut conn = pool.acquire().await?;
    subjects_on(&mut conn, requester, identity, entitlement).await
}

/// [`subjects`], on a connection the caller holds.
async fn subjects_on(
    conn: &mut Connection,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let requester = catalog::principal(conn, requester).await?;
    let identity = catalog::identity(conn, identity).await?;
    let owner = match &identity {
        Some(identity) => catalog::principal(conn, identity.owner).await?,
        None => None,
    };
    let entitlement = match entitlement {
        Some(id) => catalog::entitlement(conn, id).await?,
        None => None,
    };
    let system = match &entitlement {
        Some(e) => catalog::system(conn, e.system).await?,
        None => None,
    };
    Ok(SubmitContext {
        requester,
        identity,
        owner,
        entitlement,
        system,
        ..SubmitContext::default()
    })
}

/// Everything a submission is decided on, read at one moment: its subjects, and the holdings
/// and SoD rules its decision counts.
pub(super) async fn context(
    pool: &Pool,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut context = subjects_on(&mut conn, requester, identity, entitlement).await?;
    context.sod_rules = catalog::all_sod_rules(&mut conn).await?;
    // Holdings matter only to the SoD rules naming the requested entitlement: reading just
    // those keeps a submission's cost independent of how much the owner's identities hold.
    let relevant: Vec<EntitlementId> = match entitlement {
        Some(requested) => context
            .sod_rules
            .iter()
            .filter(|rule| rule.entitlements.as_slice().contains(&requested))
            .flat_map(|rule| rule.entitlements.as_slice().iter().copied())
            .collect(),
        None => Vec::new(),
    };
    if let Some(identity) = &context.identity {
        if !relevant.is_empty() {
            context.held = held_by_identity(&mut conn, identity.id, &relevant).await?;
            context.owner_held = held_by_owner(&mut conn, identity.owner, &relevant).await?;
        }
        if let Some(e) = &context.entitlement {
            context.open_break_glass_review = open_review(&mut conn, identity.id, e.id).await?;
        }
    }
    Ok(context)
}

/// `IN ($2, …)` for `count` parameters after the first.
fn among(count: usize) -> String {
    let placeholders: Vec<String> = (2..count + 2).map(|n| format!("${n}")).collect();
    format!("IN ({})", placeholders.join(", "))
}

/// Which of `relevant` the identity holds or is about to hold.
async fn held_by_identity(
    conn: &mut Connection,
    identity: IdentityId,
    relevant: &[EntitlementId],
) -> Result<Vec<EntitlementId>, StoreError> {
    let among = among(relevant.len());
    let sql = format!(
        "SELECT entitlement_id FROM grants WHERE identity_id = $1 AND status IN {HELD} \
         AND entitlement_id {among} \
         UNION SELECT entitlement_id FROM requests WHERE identity_id = $1 \
         AND entitlement_id {among} AND status IN {IN_FLIGHT}"
    );
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(identity.as_uuid());
    for e in relevant {
        query = query.bind(e.as_uuid());
    }
    let ids: Vec<uuid::Uuid> = query.fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(EntitlementId::from_uuid).collect())
}

/// Which of `relevant` any identity of the owner holds or is about to hold.
async fn held_by_owner(
    conn: &mut Connection,
    owner: PrincipalId,
    relevant: &[EntitlementId],
) -> Result<Vec<EntitlementId>, StoreError> {
    let among = among(relevant.len());
    let sql = format!(
        "SELECT g.entitlement_id FROM grants g JOIN identities i ON i.id = g.identity_id \
         WHERE i.owner_id = $1 AND g.status IN {HELD} AND g.entitlement_id {among} \
         UNION SELECT r.entitlement_id FROM requests r JOIN identities i ON i.id = r.identity_id \
         WHERE i.owner_id = $1 AND r.entitlement_id {among} AND r.status IN {IN_FLIGHT}"
    );
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(owner.as_uuid());
    for e in relevant {
        query = query.bind(e.as_uuid());
    }
    let ids: Vec<uuid::Uuid> = query.fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(EntitlementId::from_uuid).collect())
}

async fn open_review(
    conn: &mut Connection,
    identity: IdentityId,
    entitlement: EntitlementId,
) -> Result<bool, StoreError> {
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM break_glass_reviews WHERE identity_id = $1 AND entitlement_id = $2 AND status = 'open'",
    )
    .bind(identity.as_uuid())
    .bind(entitlement.as_uuid())
    .fetch_one(&mut *conn)
    .await?;
    Ok(open > 0)
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
    sqlx::query(lock)
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

/// Stores a decided request.
pub(super) async fn insert(
    tx: &mut Connection,
    request: &Request,
    decision: &RequestDecision,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO requests (id, number, kind, requester_id, identity_id, entitlement_id, justification, \
         requested_ttl_secs, requested_end, new_owner_id, category, status, plan_hash, decision, \
         policy_set_hash, external_ref, sla_due, assignee_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)",
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
    .bind(request.created_at.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One request with the decision it was submitted under.
pub(super) async fn get(
    pool: &Pool,
    id: RequestId,
) -> Result<Option<(Request, RequestDecision)>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM requests WHERE id = $1"
    )))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(request_from).transpose()
}

/// One request by its number (`REQ-…`).
pub(super) async fn by_number(
    pool: &Pool,
    number: RequestNumber,
) -> Result<Option<(Request, RequestDecision)>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM requests WHERE number = $1"
    )))
    .bind(number.get() as i64)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(request_from).transpose()
}

/// Allocates the next request number; numbers are never reused.
pub(super) async fn next_number(tx: &mut Connection) -> Result<RequestNumber, StoreError> {
    let n: i64 = sqlx::query_scalar(super::next_request_number!())
        .fetch_one(&mut *tx)
        .await?;
    number(n)
}

/// A stored request number, which must be positive.
pub(super) fn number(n: i64) -> Result<RequestNumber, StoreError> {
    let n = u64::try_from(n).map_err(|e| StoreError::corrupt("request number", e))?;
    RequestNumber::new(n).map_err(|e| StoreError::corrupt("request number", e))
}

pub(super) fn request_from(
    row: &<Db as sqlx::Database>::Row,
) -> Result<(Request, RequestDecision), StoreError> {
    use sqlx::Row;
    let id: uuid::Uuid = row.try_get("id")?;
    let what = format!("request {id}");
    let what = what.as_str();
    let text =
        |column: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(column)?) };
    let stored_number: i64 = row.try_get("number")?;
    let plan_hash: Option<Vec<u8>> = row.try_get("plan_hash")?;
    let external_ref: Option<String> = row.try_get("external_ref")?;
    let request = Request {
        id: RequestId::from_uuid(id),
        number: number(stored_number)?,
        kind: parsed(what, &text("kind")?)?,
        requester: PrincipalId::from_uuid(row.try_get("requester_id")?),
        identity: IdentityId::from_uuid(row.try_get("identity_id")?),
        entitlement: row
            .try_get::<Option<uuid::Uuid>, _>("entitlement_id")?
            .map(EntitlementId::from_uuid),
        justification: text("justification")?,
        requested_ttl: row
            .try_get::<Option<i64>, _>("requested_ttl_secs")?
            .map(|secs| rows::ttl(what, secs))
            .transpose()?,
        requested_end: row
            .try_get::<Option<i64>, _>("requested_end")?
            .map(Timestamp::from_micros),
        new_owner: row
            .try_get::<Option<uuid::Uuid>, _>("new_owner_id")?
            .map(PrincipalId::from_uuid),
        category: parsed(what, &text("category")?)?,
        status: parsed(what, &text("status")?)?,
        plan_hash: plan_hash
            .map(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).map(PlanHash::from_bytes))
            .transpose()
            .map_err(|e| StoreError::corrupt(what, e))?,
        external_ref: external_ref
            .map(|text| rows::from_json(what, &text))
            .transpose()?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
        sla_due: row
            .try_get::<Option<i64>, _>("sla_due")?
            .map(Timestamp::from_micros),
        assignee: row
            .try_get::<Option<uuid::Uuid>, _>("assignee_id")?
            .map(PrincipalId::from_uuid),
        escalation: u32::try_from(row.try_get::<i32, _>("escalation")?)
            .map_err(|e| StoreError::corrupt(what, e))?,
    };
    let decision = RequestDecision {
        record: rows::from_json(what, &text("decision")?)?,
        policy_set_hash: text("policy_set_hash")?,
    };
    Ok((request, decision))
}
