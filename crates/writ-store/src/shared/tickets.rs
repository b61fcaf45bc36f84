//! Received service-desk tickets, compiled once per backend (see the crate docs). A ticket's
//! row is written in the transaction that submits its request or refuses it; the row's key
//! (desk, ticket key) is what makes one request per ticket, also under concurrent deliveries.

use writ_domain::{
    ExternalRef, RequestId, TicketFields, TicketId, TicketOutcome, TicketRecord, Timestamp,
};

use crate::error::StoreError;
use crate::rows;

use super::{Connection, Pool, sql};

/// `id, source, ticket_key, url, reporter, fields, outcome, request_id, reason, received_at,
/// updated_at`
type TicketRow = (
    uuid::Uuid,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<uuid::Uuid>,
    Option<String>,
    i64,
    i64,
);

macro_rules! ticket_columns {
    () => {
        "id, source, ticket_key, url, reporter, fields, outcome, request_id, reason, \
         received_at, updated_at"
    };
}

/// Writes `ticket` as received now: a new row, or over a row whose ticket was rejected (an
/// update that fixed it, or one still refused). A ticket that already made a request is
/// [`StoreError::TicketTaken`], and nothing is written.
pub(super) async fn record(tx: &mut Connection, ticket: &TicketRecord) -> Result<(), StoreError> {
    let fields = rows::to_json("ticket fields", &ticket.fields)?;
    let written = sql::query(
        "INSERT INTO tickets (id, source, ticket_key, url, reporter, fields, outcome, \
         request_id, reason, received_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (source, ticket_key) DO UPDATE SET url = excluded.url, \
         reporter = excluded.reporter, fields = excluded.fields, outcome = excluded.outcome, \
         request_id = excluded.request_id, reason = excluded.reason, \
         updated_at = excluded.updated_at \
         WHERE tickets.outcome = 'rejected'",
    )
    .bind(ticket.id.as_uuid())
    .bind(&ticket.reference.system)
    .bind(&ticket.reference.key)
    .bind(ticket.reference.url.as_deref())
    .bind(&ticket.reporter)
    .bind(fields)
    .bind(ticket.outcome.as_str())
    .bind(ticket.request.map(|r| r.as_uuid()))
    .bind(ticket.reason.as_deref())
    .bind(ticket.received_at.as_micros())
    .bind(ticket.updated_at.as_micros())
    .execute(&mut *tx)
    .await?;
    if written.rows_affected() == 0 {
        return Err(StoreError::TicketTaken {
            desk: ticket.reference.system.clone(),
            key: ticket.reference.key.clone(),
        });
    }
    Ok(())
}

/// Saves a known ticket's fields (the approvers taken as evidence grow) as of `at`.
pub(super) async fn save_fields(
    tx: &mut Connection,
    ticket: &ExternalRef,
    fields: &TicketFields,
    at: Timestamp,
) -> Result<(), StoreError> {
    let saved = sql::query(
        "UPDATE tickets SET fields = $1, updated_at = $2 WHERE source = $3 AND ticket_key = $4",
    )
    .bind(rows::to_json("ticket fields", fields)?)
    .bind(at.as_micros())
    .bind(&ticket.system)
    .bind(&ticket.key)
    .execute(&mut *tx)
    .await?;
    if saved.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: format!("ticket `{}` of `{}`", ticket.key, ticket.system),
        });
    }
    Ok(())
}

/// The ticket `key` of desk `source`, if writ received it.
pub(super) async fn get(
    pool: &Pool,
    source: &str,
    key: &str,
) -> Result<Option<TicketRecord>, StoreError> {
    let row: Option<TicketRow> = sql::query_as(concat!(
        "SELECT ",
        ticket_columns!(),
        " FROM tickets WHERE source = $1 AND ticket_key = $2"
    ))
    .bind(source)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.map(ticket).transpose()
}

/// Up to `limit` tickets with `outcome` (any when `None`) received after `after`, oldest
/// first.
pub(super) async fn page(
    pool: &Pool,
    outcome: Option<TicketOutcome>,
    after: Option<TicketId>,
    limit: u32,
) -> Result<Vec<TicketRecord>, StoreError> {
    let rows: Vec<TicketRow> = sql::query_as(concat!(
        "SELECT ",
        ticket_columns!(),
        " FROM tickets WHERE ($1 IS NULL OR outcome = $1) AND ($2 IS NULL OR id > $2) \
         ORDER BY id LIMIT $3"
    ))
    .bind(outcome.map(|o| o.as_str()))
    .bind(after.map(|a| a.as_uuid()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(ticket).collect()
}

fn ticket(row: TicketRow) -> Result<TicketRecord, StoreError> {
    let (id, source, key, url, reporter, fields, outcome, request, reason, received, updated) = row;
    let what = || format!("ticket {source}:{key}");
    Ok(TicketRecord {
        id: TicketId::from_uuid(id),
        fields: serde_json::from_str(&fields).map_err(|e| StoreError::corrupt(what(), e))?,
        outcome: outcome
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        reference: ExternalRef {
            system: source,
            key,
            url,
        },
        reporter,
        request: request.map(RequestId::from_uuid),
        reason,
        received_at: Timestamp::from_micros(received),
        updated_at: Timestamp::from_micros(updated),
    })
}
