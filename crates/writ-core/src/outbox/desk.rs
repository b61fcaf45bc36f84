//! The port a service desk is reached through: writ-core says what to tell a ticket, an
//! adapter (Jira, ServiceNow) says it in the desk's own API.

use crate::outbox::note::TicketNote;

/// Why a delivery to a desk failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    /// It may succeed later (the desk is down, answered 5xx or 429, timed out).
    #[error("{0}")]
    Transient(String),
    /// It never will (the ticket is gone, writ's credentials are refused).
    #[error("{0}")]
    Permanent(String),
}

/// A service desk writ writes outcomes back to.
#[async_trait::async_trait]
pub trait TicketDesk: Send + Sync + 'static {
    /// Posts `note` on its ticket, and moves the ticket along when the desk is configured to.
    /// Must be safe to call again after a failure part-way (the worker retries).
    async fn post(&self, note: &TicketNote) -> Result<(), DeskError>;
}
