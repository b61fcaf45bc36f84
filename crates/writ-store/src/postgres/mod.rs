//! The PostgreSQL adapter: the path to several `writ serve` replicas on one database.
//!
//! Every connection runs with `synchronous_commit=on`, whatever the server default, so an
//! acknowledged change survives a power loss. Audit appends are serialised by a
//! transaction-scoped advisory lock; job claims use `FOR UPDATE SKIP LOCKED`.

mod governed;
mod scan;

/// What the shared queries are compiled against (see the crate docs).
type Db = sqlx::Postgres;
type Connection = PgConnection;
type Pool = PgPool;
type Adapter = PgStore;
/// A row read by `sql::query`, its columns by name.
type SqlRow = sqlx::postgres::PgRow;

/// What `sql::query_as` reads rows as.
trait FromTuple: for<'r> sqlx::FromRow<'r, SqlRow> + Send + Unpin {}
impl<T: for<'r> sqlx::FromRow<'r, SqlRow> + Send + Unpin> FromTuple for T {}

/// The shared queries run through sqlx itself (on SQLite, through `sqlite::sql`).
use sqlx as sql;

/// Claims skip rows another worker has locked, so concurrent claimers never share a job.
macro_rules! claim_lock {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
}

/// Request numbers come from a sequence, so replicas never collide.
macro_rules! next_request_number {
    () => {
        "SELECT nextval('request_numbers')"
    };
}
pub(crate) use next_request_number;

/// Locks the owner's row, so submissions for one owner are checked one after the other.
macro_rules! lock_owner {
    () => {
        " FOR UPDATE"
    };
}
pub(crate) use lock_owner;

#[path = "../shared/approvals.rs"]
mod approvals;
#[path = "../shared/audit.rs"]
mod audit;
#[path = "../shared/campaigns.rs"]
mod campaigns;
#[path = "../shared/catalog.rs"]
mod catalog;
#[path = "../shared/credentials.rs"]
mod credentials;
#[path = "../shared/evidence.rs"]
mod evidence;
#[path = "../shared/execution.rs"]
mod execution;
#[path = "../shared/figures.rs"]
mod figures;
#[path = "../shared/findings.rs"]
mod findings;
#[path = "../shared/jobs.rs"]
mod jobs;
#[path = "../shared/listing.rs"]
mod listing;
#[path = "../shared/lookups.rs"]
mod lookups;
#[path = "../shared/names.rs"]
mod names;
#[path = "../shared/notifications.rs"]
mod notifications;
#[path = "../shared/outbox.rs"]
mod outbox;
#[path = "../shared/removal.rs"]
mod removal;
#[path = "../shared/requests.rs"]
mod requests;
#[path = "../shared/reviews.rs"]
mod reviews;
#[path = "../shared/revocation.rs"]
mod revocation;
#[path = "../shared/routing.rs"]
mod routing;
#[path = "../shared/schema.rs"]
mod schema;
#[path = "../shared/statements.rs"]
mod statements;
#[path = "../shared/store_impl.rs"]
mod store_impl;
#[path = "../shared/tickets.rs"]
mod tickets;
#[path = "../shared/tokens.rs"]
mod tokens;
#[path = "../shared/transfer.rs"]
mod transfer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use writ_domain::audit::AuditEvent;

use crate::error::StoreError;
use crate::location::redact;
use crate::migrate;
use crate::open::OpenMode;
use crate::{SchemaStatus, StoreResult};

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

    const BACKEND: &'static str = "postgres";

    async fn write(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        Ok(self.pool.begin().await?)
    }

    fn reads(&self) -> &Pool {
        &self.pool
    }

    /// A pooled connection for a few reads in a row.
    async fn read_conn(&self) -> StoreResult<sqlx::pool::PoolConnection<Db>> {
        Ok(self.pool.acquire().await?)
    }

    /// A system's grants in byte order of their keys, streamed.
    fn scan_grants(
        &self,
        system: writ_domain::SystemId,
    ) -> futures_util::stream::BoxStream<'_, StoreResult<crate::GovernedGrant>> {
        governed::grants(&self.pool, system)
    }

    /// A system's accounts in byte order of their keys, streamed.
    fn scan_accounts(
        &self,
        system: writ_domain::SystemId,
    ) -> futures_util::stream::BoxStream<'_, StoreResult<crate::GovernedAccount>> {
        governed::accounts(&self.pool, system)
    }

    async fn scan_audit(&self, after: u64, through: u64) -> StoreResult<Vec<AuditEvent>> {
        scan::audit_range(&self.pool, after, through).await
    }
}

/// Advisory lock key that serialises audit appends (an arbitrary constant unique within writ).
const AUDIT_LOCK: i64 = 0x7772_6974_0002;

/// Serialises audit appends across connections and replicas until the transaction ends.
async fn lock_audit(conn: &mut Connection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

async fn migrate_postgres(pool: &PgPool, mode: OpenMode) -> StoreResult<SchemaStatus> {
    let mut tx = pool.begin().await?;
    // Replicas starting together migrate one at a time.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    let status = schema::apply(&mut tx, migrate::POSTGRES, mode).await?;
    tx.commit().await?;
    Ok(status)
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
