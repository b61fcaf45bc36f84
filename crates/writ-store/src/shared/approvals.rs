//! Approvals, compiled once per backend (see the crate docs).

use writ_domain::{
    Approval, ApprovalId, PlanHash, PrincipalId, RequestId, RequestStatus, Timestamp,
};

use crate::error::StoreError;
use crate::rows::{from_json, parsed, to_json};

use super::{Connection, sql};

pub(super) type ApprovalRow = (
    uuid::Uuid,
    String,
    uuid::Uuid,
    String,
    Option<String>,
    Vec<u8>,
    String,
    i64,
);

/// Every decision recorded on a request, in stage order then time.
pub(super) async fn for_request(
    conn: &mut Connection,
    request: RequestId,
) -> Result<Vec<Approval>, StoreError> {
    let rows: Vec<ApprovalRow> = sql::query_as(FOR_REQUEST)
        .bind(request.as_uuid())
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|row| approval_from(request, row))
        .collect()
}

/// The decisions recorded on request `$1`, as [`ApprovalRow`]s in stage order then time.
pub(super) const FOR_REQUEST: &str = "SELECT id, stage, approver_id, decision, reason, \
    plan_hash, policy_ids, at FROM approvals WHERE request_id = $1 ORDER BY at, stage_index";

pub(super) fn approval_from(request: RequestId, row: ApprovalRow) -> Result<Approval, StoreError> {
    let (id, stage, approver, decision, reason, plan_hash, policy_ids, at) = row;
    let what = "approval";
    Ok(Approval {
        id: ApprovalId::from_uuid(id),
        request,
        stage: parsed(what, &stage)?,
        approver: PrincipalId::from_uuid(approver),
        decision: parsed(what, &decision)?,
        reason,
        at: Timestamp::from_micros(at),
        plan_hash: <[u8; 32]>::try_from(plan_hash.as_slice())
            .map(PlanHash::from_bytes)
            .map_err(|e| StoreError::corrupt(what, e))?,
        policy_ids: from_json(what, &policy_ids)?,
    })
}

/// Records a decision on stage `stage_index` and moves the request to `status`, provided it is
/// still pending: a request decided meanwhile, or a stage already decided for this plan, is a
/// conflict and nothing is written.
pub(super) async fn record(
    tx: &mut Connection,
    approval: &Approval,
    stage_index: u32,
    status: RequestStatus,
) -> Result<(), StoreError> {
    let inserted = sql::query(
        "INSERT INTO approvals (id, request_id, stage_index, stage, approver_id, decision, reason, plan_hash, \
         policy_ids, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (request_id, stage_index, plan_hash) DO NOTHING",
    )
    .bind(approval.id.as_uuid())
    .bind(approval.request.as_uuid())
    .bind(i64::from(stage_index))
    .bind(approval.stage.as_str())
    .bind(approval.approver.as_uuid())
    .bind(approval.decision.as_str())
    .bind(approval.reason.as_deref())
    .bind(approval.plan_hash.as_bytes().to_vec())
    .bind(to_json("approval policy ids", &approval.policy_ids)?)
    .bind(approval.at.as_micros())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("a decision on stage `{}` of this request", approval.stage),
        });
    }
    let updated = sql::query(
        "UPDATE requests SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'pending_approval'",
    )
    .bind(status.as_str())
    .bind(approval.at.as_micros())
    .bind(approval.request.as_uuid())
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: "a final decision on this request".into(),
        });
    }
    Ok(())
}
