//! The store's read-only connections, and the reads of a request's lifecycle (submission
//! facts, the request, its approvals) that run on them each inside one read transaction (one
//! snapshot for all its statements).
//!
//! Reads run on the calling thread: sqlx would hand every statement to a thread of its own
//! and back, and those two thread wake-ups per statement, not SQLite, were most of a
//! lifecycle's CPU time (docs/performance.md). Most reads are a few indexed point reads, tens
//! of microseconds from the page cache, and in WAL mode a reader never waits for the writer.

mod lookups;
mod rows;

pub(super) use lookups::{approvals, context, principal, request, subjects};

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use super::sql::Conn;
use crate::error::StoreError;

/// Idle connections kept for reuse; more are opened when more threads read at once.
const IDLE_MAX: usize = 8;

/// Read-only connections to the store's file, reused across lookups.
pub(super) struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl DirectReads {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `lookup` in one read transaction, on the calling thread.
    pub(super) fn read<T>(
        &self,
        lookup: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let reused = self.idle().pop();
        let mut conn = match reused {
            Some(conn) => conn,
            None => super::open_read_only(&self.path)?,
        };
        let found = {
            let snapshot = conn.transaction()?;
            // Dropped, the read transaction ends (rolled back: it changed nothing).
            lookup(&snapshot)
        };
        self.give_back(conn);
        found
    }

    /// A connection of the caller's own until the checkout is dropped, outside any read
    /// transaction (each statement reads the latest commit).
    pub(super) fn checkout(&self) -> Result<Checkout<'_>, StoreError> {
        let reused = self.idle().pop();
        let conn = match reused {
            Some(conn) => conn,
            None => super::open_read_only(&self.path)?,
        };
        Ok(Checkout {
            reads: self,
            conn: Some(Conn::new(conn)),
        })
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle();
        if idle.len() < IDLE_MAX {
            idle.push(conn);
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while holding the list leaves it valid: it only pushes and pops.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A read-only connection lent by [`DirectReads::checkout`], returned when dropped.
pub(super) struct Checkout<'a> {
    reads: &'a DirectReads,
    conn: Option<Conn>,
}

#[expect(
    clippy::expect_used,
    reason = "the connection is taken only by `drop`, after which nothing derefs"
)]
impl std::ops::Deref for Checkout<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a checkout holds its connection until dropped")
    }
}

#[expect(
    clippy::expect_used,
    reason = "the connection is taken only by `drop`, after which nothing derefs"
)]
impl std::ops::DerefMut for Checkout<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a checkout holds its connection until dropped")
    }
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.reads.give_back(conn.into_raw());
        }
    }
}
