//! The store's read-only connections, lent to reads that run on the calling thread.
//!
//! sqlx would hand every statement to a thread of its own and back, and those two thread
//! wake-ups per statement, not SQLite, were most of a lifecycle's CPU time
//! (docs/performance.md). Most reads are a few indexed point reads, tens of microseconds from
//! the page cache, and in WAL mode a reader never waits for the writer.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use super::sql::Conn;
use crate::error::StoreError;

/// Idle connections kept for reuse; more are opened when more threads read at once.
const IDLE_MAX: usize = 8;

/// Read-only connections to the store's file, reused across reads.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
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
            readers: self,
            conn: Some(Conn::new(conn)),
            snapshot: false,
        })
    }

    /// A connection of the caller's own inside one read transaction: every statement sees
    /// the same commit, until the checkout is dropped.
    pub(super) fn snapshot(&self) -> Result<Checkout<'_>, StoreError> {
        let mut checkout = self.checkout()?;
        checkout.raw().execute_batch("BEGIN")?;
        checkout.snapshot = true;
        Ok(checkout)
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

/// A read-only connection lent by [`Readers::checkout`] or [`Readers::snapshot`], returned
/// when dropped.
pub(super) struct Checkout<'a> {
    readers: &'a Readers,
    conn: Option<Conn>,
    /// A read transaction is open on it.
    snapshot: bool,
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
        let Some(conn) = self.conn.take() else { return };
        // The read transaction changed nothing; a connection it cannot end is not reused.
        if self.snapshot && conn.raw().execute_batch("ROLLBACK").is_err() {
            return;
        }
        self.readers.give_back(conn.into_raw());
    }
}
