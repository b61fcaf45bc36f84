//! Group commit: the write transactions of concurrent callers share one durable SQLite commit.
//!
//! One connection writes. A logical write takes it (a fair async mutex), opens the outer
//! `BEGIN IMMEDIATE` transaction if none is open, and runs inside a `SAVEPOINT` of its own.
//! Its [`Write::commit`] hands the connection on, then waits until a flush has committed the
//! outer transaction — one fsync (`synchronous=FULL`) for every logical write that joined it —
//! so a caller still hears `Ok` only once its data is durable.
//!
//! A write's statements run on the calling thread (rusqlite, see [`super::sql`]); only the
//! `COMMIT`, which waits for the disk, goes to a blocking thread, once per batch. A committed
//! write leaves its savepoint open rather than `RELEASE` it: the savepoints of a batch nest,
//! `ROLLBACK TO` finds the innermost (the failing write's own), and `COMMIT` ends them all.
//!
//! A logical write that fails or is dropped rolls back to its savepoint, leaving the others of
//! its batch alone, and closes the batch: later writes wait for its commit rather than join
//! it, so a caller that retries after a conflict reads what it conflicted with. A failed `COMMIT` fails every caller of that batch, and none of their
//! writes remain. The flush queues for the connection behind the writers already waiting, so
//! a batch grows while the previous one is being made durable and ends as soon as nobody else
//! is waiting: the write lock is never held while idle, and other processes (`writ apply`
//! beside `writ serve`) get in between batches.
//!
//! Logical writes run one after the other on the connection, each seeing the ones before it,
//! so they are as serialised as separate `BEGIN IMMEDIATE` transactions were; readers (other
//! connections) see a batch only once it is committed, as a whole.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::ErrorCode;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use super::sql::Conn;
use crate::StoreResult;
use crate::error::StoreError;

/// What a batch's callers learn once its `COMMIT` is done: `Err` carries why it failed.
type Outcome = Option<Result<(), String>>;

/// The single writer connection, shared by every logical write of one store.
pub(super) struct GroupCommit {
    writer: Arc<Mutex<Writer>>,
    /// How long `BEGIN IMMEDIATE` waits for another process's write lock.
    busy_timeout: Duration,
}

struct Writer {
    conn: Conn,
    /// The outer transaction, while one is open (the write lock is held).
    batch: Option<Batch>,
    /// A logical write ended inside its savepoint: it is rolled back before anything else.
    abandoned: bool,
}

/// One outer transaction and the logical writes that joined it.
struct Batch {
    outcome: watch::Sender<Outcome>,
    /// Logical writes released into it, waiting for its `COMMIT`.
    released: usize,
    /// A flush is on its way (queued for the connection).
    flush_scheduled: bool,
    /// A logical write of it failed: later writes wait for its commit instead of joining it.
    closing: bool,
}

const SAVEPOINT: &str = "SAVEPOINT writ_write";
const BEGIN_WITH_SAVEPOINT: &str = "BEGIN IMMEDIATE; SAVEPOINT writ_write";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT writ_write; RELEASE SAVEPOINT writ_write";

impl GroupCommit {
    /// Writes through `conn`, which must not be in a transaction; `BEGIN` waits up to
    /// `busy_timeout` for another process's write lock.
    pub(super) fn new(conn: Conn, busy_timeout: Duration) -> Self {
        Self {
            writer: Arc::new(Mutex::new(Writer {
                conn,
                batch: None,
                abandoned: false,
            })),
            busy_timeout,
        }
    }

    /// Starts a logical write: waits for the connection, joins the open batch or opens one.
    pub(super) async fn begin(&self) -> StoreResult<Write> {
        let mut writer = Arc::clone(&self.writer).lock_owned().await;
        writer.settle();
        while let Some(batch) = writer.batch.as_ref().filter(|batch| batch.closing) {
            if !batch.flush_scheduled {
                // Abandoned outside a runtime, so nobody is coming to flush it: end it here.
                writer.flush();
                break;
            }
            let mut outcome = batch.outcome.subscribe();
            drop(writer);
            // Whatever its outcome, the next write starts a batch of its own.
            let _ = outcome.wait_for(Option::is_some).await;
            writer = Arc::clone(&self.writer).lock_owned().await;
            writer.settle();
        }
        if writer.batch.is_none() {
            writer = self.open_batch(writer).await?;
        } else if let Err(err) = writer.conn.raw().execute_batch(SAVEPOINT) {
            // No savepoint to undo; the batch must still end (committed or rolled back).
            schedule_flush(&mut writer);
            return Err(err.into());
        }
        Ok(Write {
            writer,
            released: false,
        })
    }

    /// `BEGIN IMMEDIATE` and the first savepoint. Taken at once when no other process holds
    /// the write lock; otherwise waited for on a blocking thread, not on the caller's.
    async fn open_batch(
        &self,
        mut writer: OwnedMutexGuard<Writer>,
    ) -> StoreResult<OwnedMutexGuard<Writer>> {
        let mut begun = writer.begin_batch(Duration::ZERO);
        if matches!(&begun, Err(err) if err.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)) {
            let busy_timeout = self.busy_timeout;
            let (waited, result) = tokio::task::spawn_blocking(move || {
                let result = writer.begin_batch(busy_timeout);
                (writer, result)
            })
            .await
            .map_err(|err| lost(&format!("BEGIN did not finish: {err}")))?;
            writer = waited;
            begun = result;
        }
        if let Err(err) = begun {
            // The `BEGIN` may have taken before the savepoint failed: end what is open.
            rollback(&writer.conn);
            return Err(err.into());
        }
        writer.batch = Some(Batch {
            outcome: watch::Sender::new(None),
            released: 0,
            flush_scheduled: false,
            closing: false,
        });
        Ok(writer)
    }
}

/// One logical write transaction. Use it as a connection (`&mut *tx`); [`Write::commit`]
/// returns once it is durable. Dropped without a commit, it is rolled back.
pub(super) struct Write {
    writer: OwnedMutexGuard<Writer>,
    released: bool,
}

impl Write {
    /// Makes the write part of the current batch and waits until the batch is committed. Its
    /// savepoint stays open under the next write's: `COMMIT` ends them all.
    pub(super) async fn commit(mut self) -> StoreResult<()> {
        self.released = true;
        let Some(batch) = self.writer.batch.as_mut() else {
            return Err(lost("no transaction was open"));
        };
        batch.released += 1;
        let mut outcome = batch.outcome.subscribe();
        schedule_flush(&mut self.writer);
        // Hands the connection on before waiting, so others can join this batch.
        drop(self);
        let committed = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| lost("the store closed before its commit"))?;
        match &*committed {
            Some(Ok(())) => Ok(()),
            Some(Err(why)) => Err(lost(why)),
            None => Err(lost("no outcome")),
        }
    }
}

impl Deref for Write {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.writer.conn
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.writer.conn
    }
}

impl Drop for Write {
    fn drop(&mut self) {
        if !self.released {
            // Rolled back by whoever takes the connection next. A write fails mostly on a
            // conflict with what the batch holds, which readers do not see until it commits:
            // a retry that re-read and joined the same batch would fail the same way, so
            // later writes wait for the batch's commit instead.
            self.writer.abandoned = true;
            if let Some(batch) = self.writer.batch.as_mut() {
                batch.closing = true;
            }
            schedule_flush(&mut self.writer);
        }
    }
}

impl Writer {
    /// Opens the outer transaction and the first savepoint, waiting up to `busy_timeout` for
    /// the write lock.
    fn begin_batch(&mut self, busy_timeout: Duration) -> rusqlite::Result<()> {
        if !self.conn.raw().is_autocommit() {
            // A `BEGIN` that waited on a blocking thread for a caller who then went away:
            // nothing joined it, so it is rolled back.
            rollback(&self.conn);
        }
        self.conn.raw().busy_timeout(busy_timeout)?;
        self.conn.raw().execute_batch(BEGIN_WITH_SAVEPOINT)
    }

    /// Rolls back a savepoint left by an abandoned logical write.
    fn settle(&mut self) {
        if !self.abandoned {
            return;
        }
        self.abandoned = false;
        if self.batch.is_none() {
            return;
        }
        if let Err(err) = self.conn.raw().execute_batch(ROLLBACK_TO) {
            // The savepoint is gone: SQLite rolled the whole transaction back (it does on a
            // full disk or an I/O error), and the batch's released writes with it.
            self.fail_batch(&format!("the transaction was rolled back ({err})"));
        }
    }

    /// Ends the open batch: commits what was released into it (or rolls back an empty one)
    /// and tells its callers. The `COMMIT` waits for the disk, so this runs on a blocking
    /// thread.
    fn flush(&mut self) {
        self.settle();
        let Some(batch) = self.batch.take() else {
            return;
        };
        let outcome = if batch.released == 0 {
            rollback(&self.conn);
            Ok(())
        } else {
            match self.conn.raw().execute_batch("COMMIT") {
                Ok(()) => Ok(()),
                Err(err) => {
                    // A failed COMMIT may leave the transaction open; end it.
                    rollback(&self.conn);
                    Err(format!("commit failed: {err}"))
                }
            }
        };
        batch.outcome.send_replace(Some(outcome));
    }

    fn fail_batch(&mut self, why: &str) {
        rollback(&self.conn);
        if let Some(batch) = self.batch.take() {
            batch.outcome.send_replace(Some(Err(why.to_string())));
        }
    }
}

/// Makes sure the open batch will be flushed, by a blocking task of its own (the `COMMIT`
/// waits for the disk) so that no caller's cancellation can leave it open. The task queues
/// for the connection behind the writers already waiting, so they join the batch first.
fn schedule_flush(writer: &mut OwnedMutexGuard<Writer>) {
    let Some(batch) = writer.batch.as_mut() else {
        return;
    };
    if batch.flush_scheduled {
        return;
    }
    // Without a runtime (a drop outside one), the next logical write ends the batch instead.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    batch.flush_scheduled = true;
    let shared = Arc::clone(OwnedMutexGuard::mutex(writer));
    runtime.spawn_blocking(move || shared.blocking_lock_owned().flush());
}

fn rollback(conn: &Conn) {
    // Fails only when no transaction is open, which is what it is for.
    if let Err(err) = conn.raw().execute_batch("ROLLBACK") {
        tracing::debug!(error = %err, "rollback of the write batch");
    }
}

fn lost(why: &str) -> StoreError {
    StoreError::Database(format!("the write was not committed: {why}").into())
}

#[cfg(test)]
mod tests;
