//! Service-desk tickets writ received, refused ones included.

use utoipa::ToSchema;

use crate::page::page;

/// A ticket as writ received it from a service desk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct TicketView {
    /// writ's id (orders tickets as received).
    pub id: String,
    /// The desk's name in writ (`jira`, `servicenow`, or a generic desk's name).
    pub desk: String,
    /// The ticket's key in the desk.
    pub key: String,
    /// A link to the ticket.
    pub url: Option<String>,
    /// The reporter as the desk named them (e-mail, else external id).
    pub reporter: String,
    /// The entitlement field as received (`system/key`).
    pub entitlement: Option<String>,
    /// The identity field as received.
    pub identity: Option<String>,
    /// The TTL field as received.
    pub ttl: Option<String>,
    /// The justification field as received.
    pub justification: Option<String>,
    /// The desk approvers taken as evidence, as the desk named them.
    pub approvers: Vec<String>,
    /// `submitted` (it became a request, which policy may still have rejected) or `rejected`
    /// (it could not become one).
    pub outcome: String,
    /// The request it became (`submitted` only).
    pub request: Option<String>,
    /// Why it could not become one (`rejected` only).
    pub reason: Option<String>,
    /// When writ first received it (RFC 3339).
    pub received_at: String,
    /// When writ last changed its record (RFC 3339).
    pub updated_at: String,
}

page! {
    /// A page of tickets, in the order received.
    TicketPage of TicketView
}
