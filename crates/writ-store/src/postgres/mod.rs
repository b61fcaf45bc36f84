//! The PostgreSQL adapter: the path to several `writ serve` replicas on one database.
//!
//! Every connection runs with `synchronous_commit=on`, whatever the server default, so an
//! acknowledged change survives a power loss. Audit appends are serialised by a
//! transaction-scoped advisory lock; job claims use `FOR UPDATE SKIP LOCKED`.

mod audit;
mod jobs;
mod scan;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use writ_domain::audit::{AuditEvent, AuditHash, NewAuditEvent};
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::{JobId, Timestamp};

use crate::error::StoreError;
use crate::location::redact;
use crate::migrate::{self, CREATE_MIGRATIONS_TABLE};
use crate::open::OpenMode;
use crate::{ClaimRequest, Enqueued, JobFailure, SchemaStatus, Store, StoreResult};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 16;
/// Advisory lock keys (arbitrary constants, unique within writ).
const MIGRATION_LOCK: i64 = 0x7772_6974_0001;

/// The PostgreSQL store.
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    #[tracing::instrument(skip_all, fields(url = %redact(url)))]
    pub(crate) async fn open(url: &str, mode: OpenMode) -> StoreResult<(Self, SchemaStatus)> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl {
                url: redact(url),
                reason: redact(&e.to_string()),
            })?
            .application_name("writ")
            .options([("synchronous_commit", "on")]);
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("(default database)")
        );
        // One direct connection first: the pool would retry until its timeout and hide the
        // cause (refused, unknown host, bad password) behind "timed out".
        let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| connect_error(&target, sqlx::Error::PoolTimedOut))?
            .map_err(|e| connect_error(&target, e))?;
        probe.close().await.map_err(|e| connect_error(&target, e))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(&target, e))?;
        let status = migrate_postgres(&pool, mode).await?;
        Ok((Self { pool }, status))
    }
}

async fn migrate_postgres(pool: &PgPool, mode: OpenMode) -> StoreResult<SchemaStatus> {
    let mut tx = pool.begin().await?;
    // Replicas starting together migrate one at a time.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREATE_MIGRATIONS_TABLE)
        .execute(&mut *tx)
        .await?;
    let applied: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM writ_schema_migrations")
            .fetch_one(&mut *tx)
            .await?;
    let pending = migrate::pending(migrate::POSTGRES, applied)?;
    let latest = migrate::latest_schema_version();
    if mode == OpenMode::Existing && !pending.is_empty() {
        return Err(StoreError::SchemaBehind {
            found: applied,
            required: latest,
        });
    }
    for migration in pending {
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applying migration"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO writ_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(Timestamp::now_utc().as_micros())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(SchemaStatus { applied, latest })
}

fn connect_error(target: &str, err: sqlx::Error) -> StoreError {
    let reason = match &err {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS failed: {tls}"),
        sqlx::Error::PoolTimedOut => format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    StoreError::Unreachable {
        target: target.to_string(),
        reason: redact(&reason),
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> StoreResult<Vec<AuditEvent>> {
        let mut tx = self.pool.begin().await?;
        let sealed = audit::append(&mut tx, events).await?;
        tx.commit().await?;
        Ok(sealed)
    }

    async fn audit_page(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        audit::page(&self.pool, after, limit).await
    }

    async fn audit_range(&self, after: u64, through: u64) -> StoreResult<Vec<AuditEvent>> {
        scan::audit_range(&self.pool, after, through).await
    }

    async fn audit_head(&self) -> StoreResult<Option<(u64, AuditHash)>> {
        audit::head(&self.pool).await
    }

    async fn enqueue_job(&self, job: NewJob, event: NewAuditEvent) -> StoreResult<Enqueued> {
        let mut tx = self.pool.begin().await?;
        let enqueued = jobs::enqueue(&mut tx, &job, event.at).await?;
        if let Enqueued::New(_) = enqueued {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(enqueued)
    }

    async fn claim_jobs(&self, claim: ClaimRequest<'_>) -> StoreResult<Vec<ClaimedJob>> {
        let mut tx = self.pool.begin().await?;
        let dead = jobs::dead_letter_expired(&mut tx, claim.now).await?;
        if !dead.is_empty() {
            audit::append(&mut tx, dead).await?;
        }
        let claimed = jobs::claim(&mut tx, &claim).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn complete_job(&self, lease: &Lease, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        jobs::complete(&mut tx, lease, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fail_job(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Timestamp,
        permanent: bool,
        now: Timestamp,
    ) -> StoreResult<JobFailure> {
        let mut tx = self.pool.begin().await?;
        let (failure, event) = jobs::fail(&mut tx, lease, error, retry_at, permanent, now).await?;
        if let Some(event) = event {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(failure)
    }

    async fn job(&self, id: JobId) -> StoreResult<Option<Job>> {
        jobs::get(&self.pool, id).await
    }
}
