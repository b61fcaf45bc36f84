//! The job queue, compiled once per backend (see the crate docs). Claims are exclusive: on
//! SQLite the `BEGIN IMMEDIATE` write lock serialises them; on PostgreSQL `claim_lock!()`
//! adds `FOR UPDATE SKIP LOCKED`, so concurrent workers and replicas never share a job.

use writ_domain::audit::NewAuditEvent;
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::{JobId, Timestamp};

use crate::error::StoreError;
use crate::rows::{self, JobRow, job_columns};
use crate::{ClaimRequest, Enqueued, JobFailure};

use super::{Connection, Pool, sql};

pub(super) async fn enqueue(
    tx: &mut Connection,
    job: &NewJob,
    now: Timestamp,
) -> Result<Enqueued, StoreError> {
    let id = JobId::new();
    let dedupe_key = job.payload.dedupe_key();
    let inserted = sql::query(
        "INSERT INTO jobs (id, kind, payload, dedupe_key, state, run_after, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(id.as_uuid())
    .bind(job.payload.kind())
    .bind(rows::job_payload_text(&job.payload)?)
    .bind(&dedupe_key)
    .bind(job.run_after.as_micros())
    .bind(i64::from(job.max_attempts))
    .bind(now.as_micros())
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Enqueued::New(id));
    }
    let existing: uuid::Uuid = sql::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
        .bind(&dedupe_key)
        .fetch_one(&mut *tx)
        .await?;
    Ok(Enqueued::Replay(JobId::from_uuid(existing)))
}

/// Dead-letters running jobs whose lease expired on their last attempt (their worker died)
/// and returns the audit events to record.
pub(super) async fn dead_letter_expired(
    tx: &mut Connection,
    now: Timestamp,
) -> Result<Vec<NewAuditEvent>, StoreError> {
    let dead: Vec<(uuid::Uuid, String, i32, String)> = sql::query_as(
        "UPDATE jobs SET state = 'dead', last_error = 'lease expired on the last attempt', \
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = $1 \
         WHERE state = 'running' AND lease_expires_at <= $2 AND attempts >= max_attempts \
         RETURNING id, kind, attempts, last_error",
    )
    .bind(now.as_micros())
    .bind(now.as_micros())
    .fetch_all(&mut *tx)
    .await?;
    Ok(dead
        .into_iter()
        .map(|(id, kind, attempts, error)| {
            rows::dead_letter_event(JobId::from_uuid(id), &kind, attempts, &error, now)
        })
        .collect())
}

/// Leases up to `claim.limit` due jobs: queued ones whose time has come, oldest first, then
/// running ones whose lease expired (their worker died). Two passes, each walking its own
/// partial index, so a claim costs the same with ten queued jobs or a million.
pub(super) async fn claim(
    tx: &mut Connection,
    claim: &ClaimRequest<'_>,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let token = uuid::Uuid::now_v7();
    let mut rows = lease(
        tx,
        claim,
        token,
        concat!(
            "SELECT id FROM jobs WHERE state = 'queued' AND run_after <= $5 \
             ORDER BY run_after, id LIMIT $6",
            claim_lock!()
        ),
        i64::from(claim.limit),
    )
    .await?;
    let left = i64::from(claim.limit) - rows.len() as i64;
    if left > 0 {
        rows.extend(
            lease(
                tx,
                claim,
                token,
                concat!(
                    "SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at <= $5 \
                     ORDER BY lease_expires_at, id LIMIT $6",
                    claim_lock!()
                ),
                left,
            )
            .await?,
        );
    }
    rows::claimed(rows, token)
}

/// Leases the jobs `due` selects (binding `$5` to now and `$6` to `limit`) under `token`.
async fn lease(
    tx: &mut Connection,
    claim: &ClaimRequest<'_>,
    token: uuid::Uuid,
    due: &'static str,
    limit: i64,
) -> Result<Vec<JobRow>, StoreError> {
    let now = claim.now.as_micros();
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_token = $2, lease_expires_at = $3, \
         attempts = attempts + 1, updated_at = $4 WHERE id IN ({due}) RETURNING {}",
        job_columns!()
    );
    let leased = sql::query_as(sqlx::AssertSqlSafe(sql))
        .bind(claim.worker)
        .bind(token)
        .bind(claim.now.plus(claim.lease_for).as_micros())
        .bind(now)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    Ok(leased)
}

pub(super) async fn complete(
    tx: &mut Connection,
    lease: &Lease,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done = sql::query(
        "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
         updated_at = $1 WHERE id = $2 AND state = 'running' AND lease_token = $3",
    )
    .bind(now.as_micros())
    .bind(lease.job_id.as_uuid())
    .bind(lease.token)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::LeaseLost { job: lease.job_id });
    }
    Ok(())
}

pub(super) async fn fail(
    tx: &mut Connection,
    lease: &Lease,
    error: &str,
    retry_at: Timestamp,
    permanent: bool,
    now: Timestamp,
) -> Result<(JobFailure, Option<NewAuditEvent>), StoreError> {
    let error = rows::bounded_error(error);
    let row: Option<(String, String, i32)> = sql::query_as(
        "UPDATE jobs SET state = CASE WHEN $1 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
         run_after = $2, last_error = $3, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
         updated_at = $4 WHERE id = $5 AND state = 'running' AND lease_token = $6 \
         RETURNING state, kind, attempts",
    )
    .bind(permanent)
    .bind(retry_at.as_micros())
    .bind(&error)
    .bind(now.as_micros())
    .bind(lease.job_id.as_uuid())
    .bind(lease.token)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((state, kind, attempts)) = row else {
        return Err(StoreError::LeaseLost { job: lease.job_id });
    };
    Ok(rows::failure(
        lease.job_id,
        &state,
        &kind,
        attempts,
        &error,
        retry_at,
        now,
    ))
}

pub(super) async fn get(pool: &Pool, id: JobId) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = sql::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = $1"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.map(rows::job).transpose()
}
