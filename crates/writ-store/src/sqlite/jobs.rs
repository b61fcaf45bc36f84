//! The job queue on SQLite. Claims run inside `BEGIN IMMEDIATE`, which makes them exclusive.

use sqlx::{SqliteConnection, SqlitePool};
use writ_domain::audit::NewAuditEvent;
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::{JobId, Timestamp};

use crate::error::StoreError;
use crate::rows::{self, JobRow, job_columns};
use crate::{ClaimRequest, Enqueued, JobFailure};

pub(super) async fn enqueue(
    tx: &mut SqliteConnection,
    job: &NewJob,
    now: Timestamp,
) -> Result<Enqueued, StoreError> {
    let id = JobId::new();
    let dedupe_key = job.payload.dedupe_key();
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, dedupe_key, state, run_after, max_attempts, created_at, updated_at) \
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
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
    let existing: uuid::Uuid = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = ?")
        .bind(&dedupe_key)
        .fetch_one(&mut *tx)
        .await?;
    Ok(Enqueued::Replay(JobId::from_uuid(existing)))
}

/// Dead-letters running jobs whose lease expired on their last attempt (their worker died)
/// and returns the audit events to record.
pub(super) async fn dead_letter_expired(
    tx: &mut SqliteConnection,
    now: Timestamp,
) -> Result<Vec<NewAuditEvent>, StoreError> {
    let dead: Vec<(uuid::Uuid, String, i32, String)> = sqlx::query_as(
        "UPDATE jobs SET state = 'dead', last_error = 'lease expired on the last attempt', \
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ? \
         WHERE state = 'running' AND lease_expires_at <= ? AND attempts >= max_attempts \
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

pub(super) async fn claim(
    tx: &mut SqliteConnection,
    claim: &ClaimRequest<'_>,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let token = uuid::Uuid::now_v7();
    let now = claim.now.as_micros();
    let rows: Vec<JobRow> = sqlx::query_as(concat!(
        "UPDATE jobs SET state = 'running', lease_owner = ?, lease_token = ?, lease_expires_at = ?, \
         attempts = attempts + 1, updated_at = ? \
         WHERE id IN (SELECT id FROM jobs \
             WHERE (state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_expires_at <= ?) \
             ORDER BY run_after, id LIMIT ?) \
         RETURNING ",
        job_columns!()
    ))
    .bind(claim.worker)
    .bind(token)
    .bind(claim.now.plus(claim.lease_for).as_micros())
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(i64::from(claim.limit))
    .fetch_all(&mut *tx)
    .await?;
    rows::claimed(rows, token)
}

pub(super) async fn complete(
    tx: &mut SqliteConnection,
    lease: &Lease,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
         updated_at = ? WHERE id = ? AND state = 'running' AND lease_token = ?",
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
    tx: &mut SqliteConnection,
    lease: &Lease,
    error: &str,
    retry_at: Timestamp,
    permanent: bool,
    now: Timestamp,
) -> Result<(JobFailure, Option<NewAuditEvent>), StoreError> {
    let error = rows::bounded_error(error);
    let row: Option<(String, String, i32)> = sqlx::query_as(
        "UPDATE jobs SET state = CASE WHEN ? OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
         run_after = ?, last_error = ?, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
         updated_at = ? WHERE id = ? AND state = 'running' AND lease_token = ? \
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

pub(super) async fn get(pool: &SqlitePool, id: JobId) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = ?"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.map(rows::job).transpose()
}
