//! A service-desk ticket as writ received it: one record per desk and ticket key, refused
//! tickets included, so what a desk asked for stays queryable whether or not it became a
//! request, and a ticket never makes two requests.

use crate::id::{RequestId, TicketId};
use crate::kinds::string_enum;
use crate::request::ExternalRef;
use crate::time::Timestamp;

string_enum! {
    /// What became of a ticket.
    TicketOutcome as "ticket outcome" {
        /// It became a request (which policy may still have rejected, or which may be done).
        Submitted = "submitted",
        /// It could not become one (no catalog entitlement, registered identity or known
        /// reporter); the reason was written back. A later update may still submit it.
        Rejected = "rejected",
    }
}

/// What a desk's field mapping read from a ticket, as received (unparsed).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketFields {
    /// The entitlement field (`system/key`).
    pub entitlement: Option<String>,
    /// The identity field.
    pub identity: Option<String>,
    /// The TTL field.
    pub ttl: Option<String>,
    /// The justification field.
    pub justification: Option<String>,
    /// The desk's approvers already taken as evidence, as the desk named them.
    #[serde(default)]
    pub approvers: Vec<String>,
}

/// One ticket, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketRecord {
    /// writ's id; ids grow with time, so they order tickets as received.
    pub id: TicketId,
    /// Which desk (`system`) and ticket (`key`), with its link.
    pub reference: ExternalRef,
    /// The reporter as the desk named them (e-mail, else external id).
    pub reporter: String,
    /// The mapped fields.
    pub fields: TicketFields,
    /// What became of it.
    pub outcome: TicketOutcome,
    /// The request it became (`submitted` only).
    pub request: Option<RequestId>,
    /// Why it could not become one (`rejected` only).
    pub reason: Option<String>,
    /// When writ first received it.
    pub received_at: Timestamp,
    /// When writ last changed this record.
    pub updated_at: Timestamp,
}

impl TicketRecord {
    /// A ticket received at `now`, about to be written: the store records it `submitted`
    /// with its request, or `rejected` with the reason it is refused for.
    pub fn received(
        reference: ExternalRef,
        reporter: impl Into<String>,
        fields: TicketFields,
        now: Timestamp,
    ) -> Self {
        Self {
            id: TicketId::new(),
            reference,
            reporter: reporter.into(),
            fields,
            outcome: TicketOutcome::Rejected,
            request: None,
            reason: None,
            received_at: now,
            updated_at: now,
        }
    }

    /// This ticket, refused for `reason`.
    pub fn refused(self, reason: impl Into<String>) -> Self {
        Self {
            outcome: TicketOutcome::Rejected,
            request: None,
            reason: Some(reason.into()),
            ..self
        }
    }
}
