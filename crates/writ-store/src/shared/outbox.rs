//! The outbox, compiled once per backend (see the crate docs). Ticket notes are owed by the
//! audit append itself: every audited change of a ticket-born request owes its ticket a note,
//! in the transaction that makes the change, so no store method can change such a request
//! without it. Claims are exclusive as job claims are (`claim_lock!()`), and an entry waits
//! until every earlier pending entry of the same request and destination is settled, so a
//! ticket reads its notes in the order the changes happened.

use writ_domain::audit::{Actor, AuditEvent, NewAuditEvent, SubjectRef};
use writ_domain::outbox::TICKET_DESTINATION;
use writ_domain::{ExternalRef, OutboxEntry, OutboxId, OutboxState, RequestId, Timestamp};

use crate::error::StoreError;
use crate::rows::{self, Arg};

use super::statements::Statements;
use super::{Connection, Pool, sql};

/// The audited actions that change a request as its ticket sees it.
const TICKET_ACTIONS: &[&str] = &[
    "request.submitted",
    "request.rejected",
    "request.approved",
    "request.denied",
    "request.cancelled",
    "request.expired",
    "request.executing",
    "request.fulfilled",
    "request.failed",
    "request.plan_changed",
    "approval.recorded",
];

/// `id, destination, ticket, request_id, request_status, audit_seq, state, attempts,
/// last_error, created_at, next_attempt_at, delivered_at`
type OutboxRow = (
    uuid::Uuid,
    String,
    Option<String>,
    Option<uuid::Uuid>,
    Option<String>,
    i64,
    String,
    i64,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

macro_rules! outbox_columns {
    () => {
        "id, destination, ticket, request_id, request_status, audit_seq, state, attempts, \
         last_error, created_at, next_attempt_at, delivered_at"
    };
}

/// Owes a note to the ticket of every ticket-born request that `events` change. One statement
/// per such event; requests without a ticket insert nothing.
pub(super) fn owe_ticket_notes(inserts: &mut Statements, events: &[AuditEvent]) {
    for event in events {
        if !TICKET_ACTIONS.contains(&event.action.as_str()) {
            continue;
        }
        let Some(request) = event
            .subjects
            .iter()
            .find_map(|s| s.strip_prefix("request:"))
            .and_then(|id| id.parse::<RequestId>().ok())
        else {
            continue;
        };
        inserts.push(
            "INSERT INTO outbox (id, destination, ticket, request_id, request_status, audit_seq, \
             state, attempts, created_at, next_attempt_at) \
             SELECT $1, $2, external_ref, id, status, $3, 'pending', 0, $4, $4 \
             FROM requests WHERE id = $5 AND external_ref IS NOT NULL",
            vec![
                Arg::Uuid(OutboxId::new().as_uuid()),
                Arg::Text(TICKET_DESTINATION.to_string()),
                Arg::Int(event.seq as i64),
                Arg::Int(event.at.as_micros()),
                Arg::Uuid(request.as_uuid()),
            ],
        );
    }
}

/// Owes `destination` a delivery of the audit event `seq`, about `request` when it names one.
pub(super) async fn owe(
    tx: &mut Connection,
    destination: &str,
    ticket: Option<&ExternalRef>,
    request: Option<RequestId>,
    seq: u64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let ticket = ticket.map(|t| rows::to_json("ticket", t)).transpose()?;
    sql::query(
        "INSERT INTO outbox (id, destination, ticket, request_id, request_status, audit_seq, \
         state, attempts, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, (SELECT id FROM requests WHERE id = $4), \
         (SELECT status FROM requests WHERE id = $4), $5, 'pending', 0, $6, $6)",
    )
    .bind(OutboxId::new().as_uuid())
    .bind(destination)
    .bind(ticket)
    .bind(request.map(|r| r.as_uuid()))
    .bind(seq as i64)
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Owes `destination` (an outbound webhook endpoint) a delivery of each audit event after
/// its cursor, up to `limit` of them, and moves the cursor past them. An endpoint seen for the
/// first time starts at the log's head: it hears of changes from when it was configured on.
/// The outbox's own events are not sent, so a dead letter never feeds itself. Returns how
/// many were owed.
pub(super) async fn fan_out(
    tx: &mut Connection,
    destination: &str,
    limit: u32,
    now: Timestamp,
) -> Result<usize, StoreError> {
    // Locked, so two replicas fanning out at once owe each event once.
    let cursor: Option<i64> = sql::query_scalar(concat!(
        "SELECT seq FROM webhook_cursors WHERE endpoint = $1",
        super::lock_owner!()
    ))
    .bind(destination)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(cursor) = cursor else {
        let head = super::audit::head(&mut *tx)
            .await?
            .map_or(0, |(seq, _)| seq);
        sql::query(
            "INSERT INTO webhook_cursors (endpoint, seq) VALUES ($1, $2) \
             ON CONFLICT (endpoint) DO NOTHING",
        )
        .bind(destination)
        .bind(head as i64)
        .execute(&mut *tx)
        .await?;
        return Ok(0);
    };
    let events: Vec<(i64, String, String)> = sql::query_as(
        "SELECT seq, action, subjects FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(cursor)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let Some((last, _, _)) = events.last() else {
        return Ok(0);
    };
    let last = *last;
    let mut owed = 0;
    for (seq, action, subjects) in events {
        if action.starts_with("outbox.") {
            continue;
        }
        let subjects: Vec<String> = serde_json::from_str(&subjects)
            .map_err(|e| StoreError::corrupt(format!("audit event {seq}"), e))?;
        let request = subjects
            .iter()
            .find_map(|s| s.strip_prefix("request:"))
            .and_then(|id| id.parse::<RequestId>().ok());
        owe(&mut *tx, destination, None, request, seq as u64, now).await?;
        owed += 1;
    }
    sql::query("UPDATE webhook_cursors SET seq = $1 WHERE endpoint = $2")
        .bind(last)
        .bind(destination)
        .execute(&mut *tx)
        .await?;
    Ok(owed)
}

/// Leases up to `limit` due entries until `lease_until`, counting the attempt: pending ones
/// whose time has come and that no earlier pending entry of their request and destination
/// waits ahead of, oldest first.
pub(super) async fn claim(
    tx: &mut Connection,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows: Vec<OutboxRow> = sql::query_as(concat!(
        "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1 WHERE id IN (\
         SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $2 \
         AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.state = 'pending' \
         AND e.destination = o.destination AND e.request_id = o.request_id AND e.id < o.id) \
         ORDER BY o.next_attempt_at, o.id LIMIT $3",
        claim_lock!(),
        ") RETURNING ",
        outbox_columns!()
    ))
    .bind(lease_until.as_micros())
    .bind(now.as_micros())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut entries = rows.into_iter().map(entry).collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.id);
    Ok(entries)
}

/// Marks a pending entry delivered; one no longer pending is a conflict.
pub(super) async fn delivered(
    tx: &mut Connection,
    id: OutboxId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done = sql::query(
        "UPDATE outbox SET state = 'delivered', delivered_at = $1, last_error = NULL \
         WHERE id = $2 AND state = 'pending'",
    )
    .bind(now.as_micros())
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("delivery of outbox entry `{id}`"),
        });
    }
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at`, or dead-lettered when `None`, with
/// the audit event to record then.
pub(super) async fn failed(
    tx: &mut Connection,
    id: OutboxId,
    error: &str,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<NewAuditEvent>, StoreError> {
    let (state, next) = match retry_at {
        Some(at) => (OutboxState::Pending, at),
        None => (OutboxState::Dead, now),
    };
    let failed: Option<(String, i64)> = sql::query_as(
        "UPDATE outbox SET state = $1, next_attempt_at = $2, last_error = $3 \
         WHERE id = $4 AND state = 'pending' RETURNING destination, attempts",
    )
    .bind(state.as_str())
    .bind(next.as_micros())
    .bind(error)
    .bind(id.as_uuid())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((destination, attempts)) = failed else {
        return Err(StoreError::Conflict {
            what: format!("failure of outbox entry `{id}`"),
        });
    };
    Ok((state == OutboxState::Dead).then(|| {
        NewAuditEvent::new(now, Actor::system("outbox"), "outbox.dead_lettered")
            .subject(SubjectRef::new("outbox", id))
            .data(serde_json::json!({
                "destination": destination,
                "attempts": attempts,
                "error": error,
            }))
    }))
}

/// Sends a dead entry again: pending, due at `now`, attempts counted afresh.
pub(super) async fn redeliver(
    tx: &mut Connection,
    id: OutboxId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done = sql::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1 \
         WHERE id = $2 AND state = 'dead'",
    )
    .bind(now.as_micros())
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("redelivery of outbox entry `{id}` (only a dead entry is sent again)"),
        });
    }
    Ok(())
}

/// Up to `limit` entries in `state` (any when `None`) with ids after `after`, oldest first.
pub(super) async fn page(
    pool: &Pool,
    state: Option<OutboxState>,
    after: Option<OutboxId>,
    limit: u32,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows: Vec<OutboxRow> = sql::query_as(concat!(
        "SELECT ",
        outbox_columns!(),
        " FROM outbox WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR id > $2) \
         ORDER BY id LIMIT $3"
    ))
    .bind(state.map(|s| s.as_str()))
    .bind(after.map(|a| a.as_uuid()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(entry).collect()
}

/// How many entries are pending and how many dead (delivered ones are not counted: they
/// only grow).
pub(super) async fn undelivered(pool: &Pool) -> Result<(u64, u64), StoreError> {
    let counts: Vec<(String, i64)> = sql::query_as(
        "SELECT state, COUNT(*) FROM outbox WHERE state IN ('pending', 'dead') GROUP BY state",
    )
    .fetch_all(pool)
    .await?;
    let of = |state: OutboxState| {
        counts
            .iter()
            .find(|(s, _)| s == state.as_str())
            .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
    };
    Ok((of(OutboxState::Pending), of(OutboxState::Dead)))
}

/// Records an inbound delivery from `source`; `false` when it was seen before (a replay).
pub(super) async fn record_inbound(
    tx: &mut Connection,
    source: &str,
    delivery: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = sql::query(
        "INSERT INTO inbound_deliveries (source, delivery_id, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (source, delivery_id) DO NOTHING",
    )
    .bind(source)
    .bind(delivery)
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Whether `source` delivered `delivery` before.
pub(super) async fn inbound_seen(
    pool: &Pool,
    source: &str,
    delivery: &str,
) -> Result<bool, StoreError> {
    let seen: Option<i64> = sql::query_scalar(
        "SELECT received_at FROM inbound_deliveries WHERE source = $1 AND delivery_id = $2",
    )
    .bind(source)
    .bind(delivery)
    .fetch_optional(pool)
    .await?;
    Ok(seen.is_some())
}

fn entry(row: OutboxRow) -> Result<OutboxEntry, StoreError> {
    let (
        id,
        destination,
        ticket,
        request,
        request_status,
        audit_seq,
        state,
        attempts,
        last_error,
        created_at,
        next_attempt_at,
        delivered_at,
    ) = row;
    let what = || format!("outbox entry {id}");
    Ok(OutboxEntry {
        id: OutboxId::from_uuid(id),
        destination,
        ticket: ticket
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        request: request.map(RequestId::from_uuid),
        request_status: request_status
            .map(|s| s.parse())
            .transpose()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        audit_seq: u64::try_from(audit_seq).map_err(|e| StoreError::corrupt(what(), e))?,
        state: state.parse().map_err(|e| StoreError::corrupt(what(), e))?,
        attempts: u32::try_from(attempts).map_err(|e| StoreError::corrupt(what(), e))?,
        last_error,
        created_at: Timestamp::from_micros(created_at),
        next_attempt_at: Timestamp::from_micros(next_attempt_at),
        delivered_at: delivered_at.map(Timestamp::from_micros),
    })
}
