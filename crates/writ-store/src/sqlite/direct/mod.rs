//! The reads of a request's lifecycle (submission facts, the request, its approvals), run
//! through rusqlite on the calling thread.
//!
//! sqlx runs every SQLite statement on the connection's own thread and hands it back; those
//! two thread wake-ups per statement, not SQLite, were most of a lifecycle's CPU time
//! (docs/performance.md). These lookups are a few indexed point reads each, tens of
//! microseconds from the page cache, and in WAL mode a reader never waits for the writer, so
//! they run where they are called, on read-only connections of their own, each inside one read
//! transaction (one snapshot for all its statements).

mod lookups;
mod rows;

pub(super) use lookups::{approvals, context, principal, request, subjects};

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

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
        let mut idle = self.idle();
        if idle.len() < IDLE_MAX {
            idle.push(conn);
        }
        found
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while holding the list leaves it valid: it only pushes and pops.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
