//! The port outbound webhooks are sent through: every audited change, as an event an
//! adapter formats (CloudEvents) and signs (Standard Webhooks).

use writ_domain::audit::AuditEvent;
use writ_domain::{OutboxId, RequestStatus, Timestamp};

use crate::outbox::desk::DeskError;

/// One change to tell an endpoint about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEvent {
    /// The delivery's id: the same on every retry, so the receiver can drop repeats.
    pub delivery: OutboxId,
    /// The audit event that recorded the change.
    pub event: AuditEvent,
    /// The request it is about, `REQ-…`, when it is about one.
    pub request_number: Option<String>,
    /// That request's status right after the change.
    pub request_status: Option<RequestStatus>,
    /// When this attempt is sent (from the injected clock).
    pub sent_at: Timestamp,
}

/// An endpoint that hears of every change.
#[async_trait::async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Sends `event`; a retry sends the same delivery id again.
    async fn send(&self, event: &OutboundEvent) -> Result<(), DeskError>;
}
