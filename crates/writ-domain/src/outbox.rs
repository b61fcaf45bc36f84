//! The outbox: deliveries owed to the outside world (a note on a service-desk ticket, an
//! outbound webhook), written in the same transaction as the change they report and delivered
//! afterwards, with retries, by a worker. A change is never made without its delivery owed.

use crate::id::{OutboxId, RequestId};
use crate::kinds::string_enum;
use crate::request::{ExternalRef, RequestStatus};
use crate::time::Timestamp;

string_enum! {
    /// Where a delivery stands.
    OutboxState as "outbox state" {
        /// Waiting for its (next) attempt.
        Pending = "pending",
        /// Accepted by the receiver. Terminal.
        Delivered = "delivered",
        /// Out of attempts, or refused for good; an operator may send it again.
        Dead = "dead",
    }
}

/// The destination of every note written on a service-desk ticket.
pub const TICKET_DESTINATION: &str = "ticket";

/// One delivery, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    /// writ's id; ids grow with time, so they order deliveries.
    pub id: OutboxId,
    /// Where it goes: [`TICKET_DESTINATION`], or `webhook:<name>` for an outbound webhook.
    pub destination: String,
    /// The ticket a note goes to.
    pub ticket: Option<ExternalRef>,
    /// The request whose change it reports (none for a ticket refused before it became one).
    pub request: Option<RequestId>,
    /// The request's status right after the change.
    pub request_status: Option<RequestStatus>,
    /// The audit event that recorded the change.
    pub audit_seq: u64,
    /// Where the delivery stands.
    pub state: OutboxState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: Timestamp,
    /// When it is next tried (while pending).
    pub next_attempt_at: Timestamp,
    /// When the receiver accepted it.
    pub delivered_at: Option<Timestamp>,
}
