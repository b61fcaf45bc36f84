//! Counts behind writ's governance metrics, compiled once per backend (see the crate docs).
//! Each reads an index range, never the whole table.

use writ_domain::{RequestKind, RequestStatus, Timestamp};

use crate::RequestCount;
use crate::error::StoreError;
use crate::rows::parsed;

use super::{Pool, sql};

/// Requests of `kinds` submitted at or after `since`, counted by kind and status.
pub(super) async fn request_counts(
    pool: &Pool,
    kinds: &[RequestKind],
    since: Timestamp,
) -> Result<Vec<RequestCount>, StoreError> {
    let mut counts = Vec::new();
    // One indexed range per kind (`requests_kind`), rather than an `IN` list the planner may
    // turn into a scan.
    for kind in kinds {
        let rows: Vec<(String, i64)> = sql::query_as(
            "SELECT status, COUNT(*) FROM requests WHERE kind = $1 AND created_at >= $2 \
             GROUP BY status",
        )
        .bind(kind.as_str())
        .bind(since.as_micros())
        .fetch_all(pool)
        .await?;
        for (status, count) in rows {
            counts.push(RequestCount {
                kind: *kind,
                status: parsed::<RequestStatus>("request", &status)?,
                count: u64::try_from(count).map_err(|e| StoreError::corrupt("request count", e))?,
            });
        }
    }
    Ok(counts)
}

/// Grants past their end and not yet read back as removed (active, or being revoked).
pub(super) async fn overdue_expiries(pool: &Pool, now: Timestamp) -> Result<u64, StoreError> {
    let count: i64 = sql::query_scalar(
        "SELECT COUNT(*) FROM grants WHERE status IN ('active', 'revoking') AND expires_at < $1",
    )
    .bind(now.as_micros())
    .fetch_one(pool)
    .await?;
    u64::try_from(count).map_err(|e| StoreError::corrupt("grant count", e))
}
