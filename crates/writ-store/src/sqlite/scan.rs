//! Bulk reads of the audit log for verification, on a plain blocking SQLite connection.
//!
//! sqlx hands each row from its worker thread to the async side, which costs about 5 µs a row
//! (1M events: 4.8 s, against 0.6 s for SQLite's own scan). A verification reads every event,
//! so it borrows column values in place through rusqlite instead (the same bundled SQLite
//! library), on a blocking thread, read-only.

use std::path::Path;

use writ_domain::audit::AuditEvent;

use crate::error::StoreError;
use crate::rows;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(err))
    }
}

/// The events with `after < seq <= through`, in seq order.
pub(super) async fn audit_range(
    path: &Path,
    after: u64,
    through: u64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || read_range(&path, after, through))
        .await
        .map_err(|e| StoreError::Database(Box::new(e)))?
}

fn read_range(path: &Path, after: u64, through: u64) -> Result<Vec<AuditEvent>, StoreError> {
    let conn = super::open_read_only(path)?;
    let mut statement = conn.prepare(
        "SELECT seq, at, actor, action, subjects, data, prev_hash, hash \
         FROM audit_events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let mut rows = statement.query((after as i64, through as i64))?;
    let mut events =
        Vec::with_capacity(usize::try_from(through.saturating_sub(after)).unwrap_or(0));
    while let Some(row) = rows.next()? {
        events.push(rows::audit_event((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
        ))?);
    }
    Ok(events)
}
