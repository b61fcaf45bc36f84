//! Governed state for reconciliation, streamed in byte order of the native keys from a plain
//! blocking SQLite connection (sqlx costs about 5 µs a row; a reconciliation reads every
//! grant of a system). A reading thread sends rows in batches through a bounded channel, so
//! memory stays flat however many grants there are.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use rusqlite::Row;
use tokio::sync::mpsc;
use writ_domain::{
    EntitlementId, GrantId, IdentityId, PrincipalId, RequestId, SystemId, Timestamp,
};

use crate::error::StoreError;
use crate::rows::parsed;
use crate::{GovernedAccount, GovernedGrant, StoreResult};

/// Rows per batch sent from the reading thread.
const BATCH: usize = 1024;
/// Batches that may wait for the reader: the stream's memory bound.
const QUEUED: usize = 4;

/// Every grant of `system` with its account and entitlement keys, ordered by account key then
/// entitlement key (SQLite's default `BINARY` collation is byte order).
pub(super) fn grants(
    path: &Path,
    system: SystemId,
) -> BoxStream<'static, StoreResult<GovernedGrant>> {
    stream_rows(
        path.to_path_buf(),
        "SELECT a.account_key, e.key, e.id, g.identity_id, g.id, g.request_id, g.status, \
         g.expires_at FROM accounts a JOIN grants g ON g.account_id = a.id \
         JOIN entitlements e ON e.id = g.entitlement_id \
         WHERE a.system_id = ?1 ORDER BY a.account_key, e.key",
        system,
        |row| {
            let status: String = row.get(6)?;
            Ok(GovernedGrant {
                account: row.get(0)?,
                entitlement_key: row.get(1)?,
                entitlement: EntitlementId::from_uuid(uuid(row, 2)?),
                identity: IdentityId::from_uuid(uuid(row, 3)?),
                grant: GrantId::from_uuid(uuid(row, 4)?),
                request: RequestId::from_uuid(uuid(row, 5)?),
                status: parsed("grant status", &status)?,
                expires_at: row.get::<_, Option<i64>>(7)?.map(Timestamp::from_micros),
            })
        },
    )
}

/// Every account of `system` with its identity and owner, ordered by account key.
pub(super) fn accounts(
    path: &Path,
    system: SystemId,
) -> BoxStream<'static, StoreResult<GovernedAccount>> {
    stream_rows(
        path.to_path_buf(),
        "SELECT a.account_key, a.identity_id, i.owner_id FROM accounts a \
         JOIN identities i ON i.id = a.identity_id WHERE a.system_id = ?1 ORDER BY a.account_key",
        system,
        |row| {
            Ok(GovernedAccount {
                account: row.get(0)?,
                identity: IdentityId::from_uuid(uuid(row, 1)?),
                owner: PrincipalId::from_uuid(uuid(row, 2)?),
            })
        },
    )
}

fn uuid(row: &Row<'_>, index: usize) -> Result<uuid::Uuid, StoreError> {
    let bytes: Vec<u8> = row.get(index)?;
    uuid::Uuid::from_slice(&bytes).map_err(|e| StoreError::corrupt("stored id", e))
}

/// Runs `sql` (bound to the system's id) on a reading thread, streaming mapped rows.
fn stream_rows<T: Send + 'static>(
    path: PathBuf,
    sql: &'static str,
    system: SystemId,
    map: fn(&Row<'_>) -> Result<T, StoreError>,
) -> BoxStream<'static, StoreResult<T>> {
    let (sender, receiver) = mpsc::channel::<Vec<StoreResult<T>>>(QUEUED);
    tokio::task::spawn_blocking(move || {
        if let Err(err) = read(&path, sql, system, map, &sender) {
            // The reader may have gone; the stream ends either way.
            let _ = sender.blocking_send(vec![Err(err)]);
        }
    });
    stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|batch| (batch, receiver))
    })
    .flat_map(stream::iter)
    .boxed()
}

fn read<T>(
    path: &Path,
    sql: &str,
    system: SystemId,
    map: fn(&Row<'_>) -> Result<T, StoreError>,
    sender: &mpsc::Sender<Vec<StoreResult<T>>>,
) -> Result<(), StoreError> {
    let conn = super::open_read_only(path)?;
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query([system.as_uuid().as_bytes().to_vec()])?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next()? {
        batch.push(map(row));
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if sender.blocking_send(full).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    Ok(())
}
