//! Break-glass post-use reviews, compiled once per backend (see the crate docs): opened with
//! the break-glass request, escalated when overdue, closed by someone accountable.

use writ_domain::{
    EntitlementId, IdentityId, PostUseReview, PrincipalId, RequestId, ReviewClosure, ReviewId,
    Timestamp,
};

use crate::NewReview;
use crate::error::StoreError;
use crate::rows::parsed;

use super::{Connection, Pool, sql};

const COLUMNS: &str = "id, request_id, identity_id, entitlement_id, status, assignee_id, due_at, \
    escalation, closed_by, closed_at, notes";

/// Opens the review of a break-glass request.
pub(super) async fn open(
    tx: &mut Connection,
    request: RequestId,
    identity: IdentityId,
    entitlement: EntitlementId,
    review: &NewReview,
    now: Timestamp,
) -> Result<ReviewId, StoreError> {
    let id = ReviewId::new();
    sql::query(
        "INSERT INTO break_glass_reviews (id, request_id, identity_id, entitlement_id, status, \
         assignee_id, due_at, created_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7)",
    )
    .bind(id.as_uuid())
    .bind(request.as_uuid())
    .bind(identity.as_uuid())
    .bind(entitlement.as_uuid())
    .bind(review.assignee.map(|p| p.as_uuid()))
    .bind(review.due_at.as_micros())
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// One review by id.
pub(super) async fn get(pool: &Pool, id: ReviewId) -> Result<Option<PostUseReview>, StoreError> {
    let row = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM break_glass_reviews WHERE id = $1"
    )))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(review_from).transpose()
}

/// The reviews of one request (one per break-glass request).
pub(super) async fn of_request(
    pool: &Pool,
    request: RequestId,
) -> Result<Vec<PostUseReview>, StoreError> {
    let rows = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM break_glass_reviews WHERE request_id = $1 ORDER BY created_at"
    )))
    .bind(request.as_uuid())
    .fetch_all(pool)
    .await?;
    rows.iter().map(review_from).collect()
}

/// Open reviews due at or before `now`, most overdue first.
pub(super) async fn overdue(
    pool: &Pool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<PostUseReview>, StoreError> {
    let rows = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM break_glass_reviews WHERE status = 'open' AND due_at <= $1 \
         ORDER BY due_at, id LIMIT $2"
    )))
    .bind(now.as_micros())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(review_from).collect()
}

/// Closes an open review.
pub(super) async fn close(
    tx: &mut Connection,
    id: ReviewId,
    closure: &ReviewClosure,
) -> Result<(), StoreError> {
    let closed = sql::query(
        "UPDATE break_glass_reviews SET status = 'closed', closed_by = $1, closed_at = $2, notes = $3 \
         WHERE id = $4 AND status = 'open'",
    )
    .bind(closure.by.as_uuid())
    .bind(closure.at.as_micros())
    .bind(&closure.notes)
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    if closed.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: "a change of this review (it is no longer open)".into(),
        });
    }
    Ok(())
}

/// Escalates an open review still due at `seen_due` to `assignee`, due again at `due_at`.
pub(super) async fn escalate(
    tx: &mut Connection,
    id: ReviewId,
    seen_due: Timestamp,
    assignee: Option<PrincipalId>,
    due_at: Timestamp,
) -> Result<(), StoreError> {
    let escalated = sql::query(
        "UPDATE break_glass_reviews SET assignee_id = $1, due_at = $2, escalation = escalation + 1 \
         WHERE id = $3 AND status = 'open' AND due_at = $4",
    )
    .bind(assignee.map(|p| p.as_uuid()))
    .bind(due_at.as_micros())
    .bind(id.as_uuid())
    .bind(seen_due.as_micros())
    .execute(&mut *tx)
    .await?;
    if escalated.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: "a change of this review while it was overdue".into(),
        });
    }
    Ok(())
}

fn review_from(row: &super::SqlRow) -> Result<PostUseReview, StoreError> {
    use super::sql::Row as _;
    let what = "break-glass review";
    let closed_by: Option<uuid::Uuid> = row.try_get("closed_by")?;
    let closed_at: Option<i64> = row.try_get("closed_at")?;
    let notes: Option<String> = row.try_get("notes")?;
    Ok(PostUseReview {
        id: ReviewId::from_uuid(row.try_get("id")?),
        request: RequestId::from_uuid(row.try_get("request_id")?),
        identity: IdentityId::from_uuid(row.try_get("identity_id")?),
        entitlement: EntitlementId::from_uuid(row.try_get("entitlement_id")?),
        status: parsed(what, &row.try_get::<String, _>("status")?)?,
        assignee: row
            .try_get::<Option<uuid::Uuid>, _>("assignee_id")?
            .map(PrincipalId::from_uuid),
        due_at: Timestamp::from_micros(row.try_get("due_at")?),
        escalation: u32::try_from(row.try_get::<i32, _>("escalation")?)
            .map_err(|e| StoreError::corrupt(what, e))?,
        closed: match (closed_by, closed_at) {
            (Some(by), Some(at)) => Some(ReviewClosure {
                by: PrincipalId::from_uuid(by),
                at: Timestamp::from_micros(at),
                notes: notes.unwrap_or_default(),
            }),
            _ => None,
        },
    })
}
