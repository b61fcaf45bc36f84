//! The audit log, compiled once per backend (see the crate docs).

use writ_domain::audit::{AuditEvent, AuditHash, NewAuditEvent};

use crate::error::StoreError;
use crate::rows::{self, Arg, AuditRow, audit_columns};

use super::statements::Statements;
use super::{Connection, Pool, sql};

/// Appends `events` after the current head. The backend's `lock_audit` serialises appenders
/// (SQLite: the `BEGIN IMMEDIATE` write lock already held; PostgreSQL: an advisory lock), so
/// reading the head and appending after it cannot interleave and the chain stays linear.
/// Callers append last in their transaction, to hold the lock only until commit.
pub(super) async fn append(
    tx: &mut Connection,
    events: Vec<NewAuditEvent>,
) -> Result<Vec<AuditEvent>, StoreError> {
    super::lock_audit(&mut *tx).await?;
    let (mut seq, mut prev) = head(&mut *tx).await?.unwrap_or((0, AuditHash::GENESIS));
    let mut sealed = Vec::with_capacity(events.len());
    let mut inserts = Statements::default();
    for event in events {
        seq += 1;
        let event = event.seal(seq, prev);
        prev = event.hash;
        inserts.push(
            "INSERT INTO audit_events (seq, at, actor, action, subjects, data, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                Arg::Int(seq as i64),
                Arg::Int(event.at.as_micros()),
                Arg::Text(event.actor.clone()),
                Arg::Text(event.action.clone()),
                Arg::Text(rows::subjects_text(&event)),
                Arg::Text(event.data.clone()),
                Arg::Bytes(event.prev_hash.0.to_vec()),
                Arg::Bytes(event.hash.0.to_vec()),
            ],
        );
        sealed.push(event);
    }
    index_subjects(&mut inserts, &sealed);
    super::outbox::owe_ticket_notes(&mut inserts, &sealed);
    inserts.run(tx).await?;
    Ok(sealed)
}

/// Records which things each event touches, in one statement for the whole batch.
fn index_subjects(inserts: &mut Statements, events: &[AuditEvent]) {
    let mut pairs: Vec<(&str, i64)> = events
        .iter()
        .flat_map(|e| e.subjects.iter().map(move |s| (s.as_str(), e.seq as i64)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    // Chunks keep a statement's parameters well under either backend's limit.
    for chunk in pairs.chunks(1000) {
        // Placeholders only: the text depends on nothing but the number of pairs.
        let mut sql = String::from("INSERT INTO audit_subjects (subject, seq) VALUES ");
        let mut args = Vec::with_capacity(2 * chunk.len());
        for (i, (subject, seq)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
            args.extend([Arg::Text((*subject).to_string()), Arg::Int(*seq)]);
        }
        inserts.push(sql, args);
    }
}

pub(super) async fn page(
    pool: &Pool,
    after: u64,
    limit: u32,
) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<AuditRow> = sql::query_as(concat!(
        "SELECT ",
        audit_columns!(),
        " FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after as i64)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(rows::audit_event).collect()
}

/// The newest event's seq and hash.
pub(super) async fn head(conn: &mut Connection) -> Result<Option<(u64, AuditHash)>, StoreError> {
    let head: Option<(i64, Vec<u8>)> =
        sql::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    head.map(|(seq, hash)| rows::audit_head(seq, &hash))
        .transpose()
}
