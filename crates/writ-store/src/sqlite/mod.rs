//! The SQLite adapter: one file in WAL mode with `synchronous=FULL`, foreign keys on.
//!
//! Writes go through one connection with group commit (see [`group_commit`]): each is a
//! savepoint inside a `BEGIN IMMEDIATE` transaction shared by the writers waiting at that
//! moment, and returns once that transaction's `COMMIT` is durable. They are serialised
//! in-process without lock upgrades, and across processes by SQLite's own lock (bounded by the
//! busy timeout). Reads use read-only connections of their own and never wait for writers.
//!
//! Statements run through rusqlite on the calling thread (see [`sql`]); only a batch's
//! `COMMIT`, which waits for the disk, goes to a blocking thread. sqlx opens the file and runs
//! the migrations.

mod governed;
mod group_commit;
mod readers;
mod scan;
mod sql;

/// What the shared queries are compiled against (see the crate docs).
type Db = sqlx::Sqlite;
type Connection = sql::Conn;
type Pool = Readers;
type Adapter = SqliteStore;
/// A row read by `sql::query`, its columns by name.
type SqlRow = sql::SqlRow;

/// What `sql::query_as` reads rows as.
trait FromTuple: sql::Tuple + Send {}
impl<T: sql::Tuple + Send> FromTuple for T {}

/// No row lock needed: a claim runs under the `BEGIN IMMEDIATE` write lock.
macro_rules! claim_lock {
    () => {
        ""
    };
}

/// Request numbers come from a counter row, incremented under the write lock.
macro_rules! next_request_number {
    () => {
        "UPDATE counters SET value = value + 1 WHERE name = 'request_number' RETURNING value"
    };
}
pub(crate) use next_request_number;

/// No row lock needed: every write already holds SQLite's write lock.
macro_rules! lock_owner {
    () => {
        ""
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

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _};
use writ_domain::audit::AuditEvent;

use crate::error::StoreError;
use crate::migrate;
use crate::open::OpenMode;
use crate::{SchemaStatus, StoreResult};
use group_commit::{GroupCommit, Write};
use readers::Readers;

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A plain rusqlite connection that only reads (bulk scans and every other read).
fn open_read_only(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // A lifecycle's lookups alone are more distinct statements than rusqlite keeps by default.
    conn.set_prepared_statement_cache_capacity(sql::CACHED_STATEMENTS);
    Ok(conn)
}

/// The writer's own connection, set up as sqlx sets up the others (the file is already in WAL
/// mode, which persists).
fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(Connection::new(conn))
}

/// The embedded store.
pub(crate) struct SqliteStore {
    path: PathBuf,
    writer: GroupCommit,
    readers: Readers,
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
        let mut migrator = options.connect().await.map_err(|e| open_error(path, e))?;
        let status = migrate_sqlite(&mut migrator, mode).await?;
        migrator.close().await?;
        let writer = open_writer(path)?;
        Ok((
            Self {
                path: path.to_path_buf(),
                writer: GroupCommit::new(writer, BUSY_TIMEOUT),
                readers: Readers::new(path),
            },
            status,
        ))
    }

    const BACKEND: &'static str = "sqlite";

    /// A logical write transaction under SQLite's write lock; its `commit` returns once it is
    /// durable (group commit).
    async fn write(&self) -> StoreResult<Write> {
        self.writer.begin().await
    }

    /// The connections for reads, which never wait for the writer (WAL).
    fn reads(&self) -> &Pool {
        &self.readers
    }

    /// A connection of its own for a few reads that run on the calling thread, all in one
    /// read transaction (one snapshot).
    async fn read_conn(&self) -> StoreResult<readers::Checkout<'_>> {
        self.readers.snapshot()
    }

    /// A system's grants in byte order of their keys, streamed.
    fn scan_grants(
        &self,
        system: writ_domain::SystemId,
    ) -> futures_util::stream::BoxStream<'_, StoreResult<crate::GovernedGrant>> {
        governed::grants(&self.path, system)
    }

    /// A system's accounts in byte order of their keys, streamed.
    fn scan_accounts(
        &self,
        system: writ_domain::SystemId,
    ) -> futures_util::stream::BoxStream<'_, StoreResult<crate::GovernedAccount>> {
        governed::accounts(&self.path, system)
    }

    async fn scan_audit(&self, after: u64, through: u64) -> StoreResult<Vec<AuditEvent>> {
        scan::audit_range(&self.path, after, through).await
    }
}

async fn migrate_sqlite(
    conn: &mut sqlx::SqliteConnection,
    mode: OpenMode,
) -> StoreResult<SchemaStatus> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let status = schema::apply(&mut tx, migrate::SQLITE, mode).await?;
    tx.commit().await?;
    Ok(status)
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

/// Audit appends need no lock of their own: every write transaction already holds SQLite's
/// write lock (`BEGIN IMMEDIATE`).
async fn lock_audit(_: &mut Connection) -> StoreResult<()> {
    Ok(())
}
