//! Service-desk front doors: Jira, ServiceNow and a documented generic JSON form in (signature,
//! freshness, field mapping into a desk-neutral [`writ_core::intake::Ticket`]) and outcomes
//! written back to the ticket (the [`writ_core::outbox::TicketDesk`] adapters). A ticket is an input to writ's
//! authorization, never the authority. Depends on writ-core and writ-domain, never on the
//! web framework or the store.

pub mod error;
pub mod events;
pub mod fields;
pub mod generic;
pub mod http;
pub mod jira;
pub mod secret;
pub mod servicenow;
pub mod signature;

pub use error::InboundError;
pub use fields::FieldMap;
pub use secret::Secret;

use writ_core::intake::Ticket;

/// A verified delivery from a desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The sender's id of this delivery, unchanged across its retries.
    pub delivery_id: String,
    /// The ticket it carries; `None` for an event writ does not act on.
    pub ticket: Option<Ticket>,
}
