//! The SQLite adapter: one file in WAL mode with `synchronous=FULL`, foreign keys on.
//!
//! Writes go through a pool of one connection and open with `BEGIN IMMEDIATE`, so they are
//! serialised in-process without lock upgrades, and across processes by SQLite's own lock
//! (bounded by the busy timeout). Reads use a separate pool and never wait for writers.

mod audit;
mod jobs;
mod scan;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use writ_domain::audit::{AuditEvent, AuditHash, NewAuditEvent};
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::{JobId, Timestamp};

use crate::error::StoreError;
use crate::migrate::{self, CREATE_MIGRATIONS_TABLE};
use crate::open::OpenMode;
use crate::{ClaimRequest, Enqueued, JobFailure, SchemaStatus, Store, StoreResult};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 4;

/// The embedded store.
pub(crate) struct SqliteStore {
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    #[tracing::instrument(skip_all, fields(path = %path.display()))]
    pub(crate) async fn open(path: &Path, mode: OpenMode) -> StoreResult<(Self, SchemaStatus)> {
        let shown = path.display().to_string();
        if mode == OpenMode::Existing && !path.exists() {
            return Err(StoreError::CannotOpen {
                path: shown,
                reason: "no such file (run `writ migrate` to create it)".into(),
            });
        }
        if path.is_dir() {
            return Err(StoreError::CannotOpen {
                path: shown,
                reason: "it is a directory".into(),
            });
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(mode == OpenMode::Migrate)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| open_error(path, e))?;
        let status = migrate_sqlite(&writer, mode).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.create_if_missing(false))
            .await
            .map_err(|e| open_error(path, e))?;
        Ok((
            Self {
                path: path.to_path_buf(),
                writer,
                reader,
            },
            status,
        ))
    }

    /// A write transaction that holds SQLite's write lock from its first statement.
    async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

async fn migrate_sqlite(pool: &SqlitePool, mode: OpenMode) -> StoreResult<SchemaStatus> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(CREATE_MIGRATIONS_TABLE)
        .execute(&mut *tx)
        .await?;
    let applied: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM writ_schema_migrations")
            .fetch_one(&mut *tx)
            .await?;
    let pending = migrate::pending(migrate::SQLITE, applied)?;
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
            "INSERT INTO writ_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
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

/// Turns a failure to open the file into a message that says what to fix.
fn open_error(path: &Path, err: sqlx::Error) -> StoreError {
    let shown = path.display().to_string();
    let code = match &err {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff),
        _ => None,
    };
    match code {
        Some(26) => StoreError::NotADatabase { path: shown },
        Some(14) | Some(8) => StoreError::CannotOpen {
            reason: unwritable_reason(path),
            path: shown,
        },
        _ => match err {
            sqlx::Error::Io(io) => StoreError::CannotOpen {
                path: shown,
                reason: io.to_string(),
            },
            other => other.into(),
        },
    }
}

fn unwritable_reason(path: &Path) -> String {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        return format!("directory `{}` does not exist", dir.display());
    }
    let probe = dir.join(format!(".writ-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            "the file or its -wal/-shm companions are not writable".into()
        }
        Err(e) => format!("directory `{}` is not writable ({e})", dir.display()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> StoreResult<Vec<AuditEvent>> {
        let mut tx = self.write().await?;
        let sealed = audit::append(&mut tx, events).await?;
        tx.commit().await?;
        Ok(sealed)
    }

    async fn audit_page(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        audit::page(&self.reader, after, limit).await
    }

    async fn audit_range(&self, after: u64, through: u64) -> StoreResult<Vec<AuditEvent>> {
        scan::audit_range(&self.path, after, through).await
    }

    async fn audit_head(&self) -> StoreResult<Option<(u64, AuditHash)>> {
        audit::head(&self.reader).await
    }

    async fn enqueue_job(&self, job: NewJob, event: NewAuditEvent) -> StoreResult<Enqueued> {
        let mut tx = self.write().await?;
        let enqueued = jobs::enqueue(&mut tx, &job, event.at).await?;
        if let Enqueued::New(_) = enqueued {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(enqueued)
    }

    async fn claim_jobs(&self, claim: ClaimRequest<'_>) -> StoreResult<Vec<ClaimedJob>> {
        let mut tx = self.write().await?;
        let dead = jobs::dead_letter_expired(&mut tx, claim.now).await?;
        if !dead.is_empty() {
            audit::append(&mut tx, dead).await?;
        }
        let claimed = jobs::claim(&mut tx, &claim).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn complete_job(&self, lease: &Lease, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.write().await?;
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
        let mut tx = self.write().await?;
        let (failure, event) = jobs::fail(&mut tx, lease, error, retry_at, permanent, now).await?;
        if let Some(event) = event {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(failure)
    }

    async fn job(&self, id: JobId) -> StoreResult<Option<Job>> {
        jobs::get(&self.reader, id).await
    }
}
