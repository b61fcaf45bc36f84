//! What evidence is built from, compiled once per backend (see the crate docs): the events
//! that touch a thing, the log's leaf hashes, the Merkle tree's tiles and signed checkpoints.

use writ_domain::Timestamp;
use writ_domain::audit::{AuditEvent, AuditHash};
use writ_domain::merkle::TreeHash;

use crate::StoredCheckpoint;
use crate::error::StoreError;
use crate::rows::{self, AuditRow, audit_columns};

use super::{Connection, Pool, sql};

/// The events that name any of `subjects`, in seq order.
pub(super) async fn events_about(
    pool: &Pool,
    subjects: &[String],
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut events = Vec::new();
    for subject in subjects {
        let rows: Vec<AuditRow> = sql::query_as(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_events WHERE seq IN (SELECT seq FROM audit_subjects WHERE subject = $1)"
        ))
        .bind(subject)
        .fetch_all(pool)
        .await?;
        for row in rows {
            events.push(rows::audit_event(row)?);
        }
    }
    events.sort_unstable_by_key(|e: &AuditEvent| e.seq);
    events.dedup_by_key(|e| e.seq);
    Ok(events)
}

/// The hashes of the events with `after < seq <= through`, in seq order.
pub(super) async fn leaf_hashes(
    pool: &Pool,
    after: u64,
    through: u64,
) -> Result<Vec<AuditHash>, StoreError> {
    let rows: Vec<Vec<u8>> = sql::query_scalar(
        "SELECT hash FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
    )
    .bind(after as i64)
    .bind(through as i64)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|h| AuditHash::from_slice(h).map_err(|e| StoreError::corrupt("audit hash", e)))
        .collect()
}

/// The tiles with `idx >= from`, in order.
pub(super) async fn tiles(pool: &Pool, from: u64) -> Result<Vec<TreeHash>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> =
        sql::query_as("SELECT idx, hash FROM audit_tree_tiles WHERE idx >= $1 ORDER BY idx")
            .bind(from as i64)
            .fetch_all(pool)
            .await?;
    let mut tiles = Vec::with_capacity(rows.len());
    for (i, (idx, hash)) in rows.into_iter().enumerate() {
        if idx != (from + i as u64) as i64 {
            return Err(StoreError::corrupt(
                "audit tree tiles",
                format!("tile {idx} out of order"),
            ));
        }
        tiles.push(
            TreeHash::try_from(hash.as_slice())
                .map_err(|e| StoreError::corrupt("audit tree tile", e))?,
        );
    }
    Ok(tiles)
}

/// Keeps tiles `first, first + 1, …`; a tile already kept is left as it is.
pub(super) async fn add_tiles(
    tx: &mut Connection,
    first: u64,
    hashes: &[TreeHash],
) -> Result<(), StoreError> {
    for (chunk_start, chunk) in (0..).step_by(500).zip(hashes.chunks(500)) {
        // Placeholders only: the text depends on nothing but the number of tiles.
        let mut sql = String::from("INSERT INTO audit_tree_tiles (idx, hash) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
        }
        sql.push_str(" ON CONFLICT (idx) DO NOTHING");
        let mut insert = sql::query(sqlx::AssertSqlSafe(sql));
        for (i, hash) in chunk.iter().enumerate() {
            insert = insert
                .bind((first + chunk_start + i as u64) as i64)
                .bind(&hash[..]);
        }
        insert.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Keeps a signed checkpoint; one of the same size already kept is left as it is.
pub(super) async fn add_checkpoint(
    tx: &mut Connection,
    checkpoint: &StoredCheckpoint,
) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (size) DO NOTHING",
    )
    .bind(checkpoint.size as i64)
    .bind(&checkpoint.root[..])
    .bind(&checkpoint.note)
    .bind(checkpoint.created_at.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Every checkpoint, smallest first; with `newest`, only that many of the largest, largest
/// first.
pub(super) async fn checkpoints(
    pool: &Pool,
    newest: Option<u32>,
) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let query = match newest {
        None => sql::query_as(
            "SELECT size, root, note, created_at FROM audit_checkpoints ORDER BY size",
        ),
        Some(n) => sql::query_as(
            "SELECT size, root, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT $1",
        )
        .bind(i64::from(n)),
    };
    let rows: Vec<(i64, Vec<u8>, String, i64)> = query.fetch_all(pool).await?;
    rows.into_iter()
        .map(|(size, root, note, created_at)| {
            Ok(StoredCheckpoint {
                size: u64::try_from(size).map_err(|e| StoreError::corrupt("checkpoint", e))?,
                root: TreeHash::try_from(root.as_slice())
                    .map_err(|e| StoreError::corrupt("checkpoint", e))?,
                note,
                created_at: Timestamp::from_micros(created_at),
            })
        })
        .collect()
}
