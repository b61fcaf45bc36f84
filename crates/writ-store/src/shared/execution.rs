//! Execution of approved requests, compiled once per backend (see the crate docs): the
//! request moves to `executing` with its account and a `provisioning` grant, and ends
//! `fulfilled` (grant `active`) only after the target's read-back, or `failed`.

use writ_domain::{Account, GrantId, PlanHash, RequestId, RequestStatus, Timestamp};

use crate::error::StoreError;
use crate::rows::{parsed, to_json};
use crate::{Evidence, ExecutionEnd, ExecutionStart};

use super::{Connection, sql};

/// Moves an approved request to `executing`, creating its account (if the identity has none on
/// the system) and its `provisioning` grant. A request already executing resumes; one already
/// finished is reported as such, so a replayed job changes nothing.
pub(super) async fn begin(
    tx: &mut Connection,
    request: RequestId,
    plan_hash: PlanHash,
    account: &Account,
    now: Timestamp,
) -> Result<ExecutionStart, StoreError> {
    // The common case in one statement: an approved request under this plan starts.
    let started: Option<(uuid::Uuid, Option<uuid::Uuid>)> = sql::query_as(
        "UPDATE requests SET status = 'executing', updated_at = $1 \
         WHERE id = $2 AND status = 'approved' AND plan_hash = $3 \
         RETURNING identity_id, entitlement_id",
    )
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .bind(plan_hash.as_bytes().to_vec())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((identity, entitlement)) = started else {
        return unstarted(tx, request, plan_hash).await;
    };
    let entitlement = entitlement
        .ok_or_else(|| StoreError::corrupt("request", "an access request without entitlement"))?;
    // The identity's existing account on the system wins; the no-op update makes the row come
    // back either way.
    let (account_id, key): (uuid::Uuid, String) = sql::query_as(
        "INSERT INTO accounts (id, identity_id, system_id, account_key, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'active', $5, $5) \
         ON CONFLICT (identity_id, system_id) DO UPDATE SET updated_at = accounts.updated_at \
         RETURNING id, account_key",
    )
    .bind(account.id.as_uuid())
    .bind(identity)
    .bind(account.system.as_uuid())
    .bind(account.key.as_str())
    .bind(now.as_micros())
    .fetch_one(&mut *tx)
    .await?;
    let grant = GrantId::new();
    sql::query(
        "INSERT INTO grants (id, identity_id, account_id, entitlement_id, request_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'provisioning', $6, $6)",
    )
    .bind(grant.as_uuid())
    .bind(identity)
    .bind(account_id)
    .bind(entitlement)
    .bind(request.as_uuid())
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(ExecutionStart::Started {
        grant,
        account: parsed("account key", &key)?,
    })
}

/// Why a request did not start: it is missing, its plan changed, it is executing already
/// (resume) or past execution.
async fn unstarted(
    tx: &mut Connection,
    request: RequestId,
    plan_hash: PlanHash,
) -> Result<ExecutionStart, StoreError> {
    let row: Option<(String, Option<Vec<u8>>)> =
        sql::query_as("SELECT status, plan_hash FROM requests WHERE id = $1")
            .bind(request.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((status, stored_plan)) = row else {
        return Err(StoreError::NotFound {
            what: format!("request {request}"),
        });
    };
    let status: RequestStatus = parsed("request status", &status)?;
    if stored_plan.as_deref() != Some(plan_hash.as_bytes().as_slice()) {
        return Ok(ExecutionStart::PlanChanged);
    }
    match status {
        RequestStatus::Executing | RequestStatus::Verifying => {
            let (grant, key) = existing_grant(tx, request).await?;
            Ok(ExecutionStart::Resumed {
                grant,
                account: key,
            })
        }
        other => Ok(ExecutionStart::Finished(other)),
    }
}

async fn existing_grant(
    tx: &mut Connection,
    request: RequestId,
) -> Result<(GrantId, writ_domain::AccountKey), StoreError> {
    let (grant, key): (uuid::Uuid, String) = sql::query_as(
        "SELECT g.id, a.account_key FROM grants g JOIN accounts a ON a.id = g.account_id WHERE g.request_id = $1",
    )
    .bind(request.as_uuid())
    .fetch_one(&mut *tx)
    .await?;
    Ok((GrantId::from_uuid(grant), parsed("account key", &key)?))
}

/// Ends an executing request: fulfilled with its grant active from the read-back on, or failed.
pub(super) async fn finish(
    tx: &mut Connection,
    request: RequestId,
    end: &ExecutionEnd,
    evidence: &[Evidence],
    now: Timestamp,
) -> Result<(), StoreError> {
    let (request_status, grant_status) = match end {
        ExecutionEnd::Fulfilled { .. } => ("fulfilled", "active"),
        ExecutionEnd::Failed { .. } => ("failed", "failed"),
    };
    let updated = sql::query(
        "UPDATE requests SET status = $1, updated_at = $2 WHERE id = $3 AND status IN ('executing', 'approved')",
    )
    .bind(request_status)
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("an outcome for request {request}"),
        });
    }
    let (verified_at, expires_at) = match end {
        ExecutionEnd::Fulfilled {
            verified_at,
            expires_at,
        } => (
            Some(verified_at.as_micros()),
            expires_at.map(|t| t.as_micros()),
        ),
        ExecutionEnd::Failed { .. } => (None, None),
    };
    sql::query(
        "UPDATE grants SET status = $1, granted_at = $2, expires_at = $3, last_verified_at = $2, updated_at = $4 \
         WHERE request_id = $5 AND status = 'provisioning'",
    )
    .bind(grant_status)
    .bind(verified_at)
    .bind(expires_at)
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .execute(&mut *tx)
    .await?;
    insert_evidence(tx, request, evidence).await
}

/// Keeps the evidence with the request, in one statement.
pub(super) async fn insert_evidence(
    tx: &mut Connection,
    request: RequestId,
    evidence: &[Evidence],
) -> Result<(), StoreError> {
    if evidence.is_empty() {
        return Ok(());
    }
    // Placeholders only: the text depends on nothing but the number of rows.
    let mut sql =
        String::from("INSERT INTO request_evidence (id, request_id, kind, data, at) VALUES ");
    for row in 0..evidence.len() {
        let p = row * 5;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5
        ));
    }
    let mut insert = sql::query(sqlx::AssertSqlSafe(sql));
    for item in evidence {
        insert = insert
            .bind(uuid::Uuid::now_v7())
            .bind(request.as_uuid())
            .bind(item.kind.as_str())
            .bind(to_json("evidence", &item.data)?)
            .bind(item.at.as_micros());
    }
    insert.execute(&mut *tx).await?;
    Ok(())
}
