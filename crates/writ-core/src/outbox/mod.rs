//! The outbox worker: delivers what the store owes the outside world (notes on service-desk
//! tickets, written in the same transaction as the change they report; every audited change
//! to outbound webhook endpoints, owed as the worker reads the audit log past each endpoint's
//! cursor), with retries, backoff and a dead letter. `run_once` is what tests call until idle; `run_until` keeps delivering.
//! Deliveries are at least once; an adapter makes a repeat harmless where its desk allows.

pub mod desk;
pub mod events;
pub mod note;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use writ_domain::audit::AuditEvent;
use writ_domain::outbox::TICKET_DESTINATION;
use writ_domain::{ExternalRef, OutboxEntry, Request};
use writ_store::{ClaimRequest, Store};

use crate::Clock;
use crate::error::CoreError;
use crate::retry::Backoff;

pub use desk::{DeskError, TicketDesk};
pub use events::{EventSink, OutboundEvent};
pub use note::TicketNote;

/// The destination prefix of outbound webhook endpoints.
pub const WEBHOOK_PREFIX: &str = "webhook:";

/// How many attempts a delivery gets before it is dead-lettered.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 12;

/// Delivers outbox entries to the desks they name.
#[derive(Clone)]
pub struct OutboxWorker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    desks: HashMap<String, Arc<dyn TicketDesk>>,
    /// Outbound webhook endpoints by destination (`webhook:<name>`).
    endpoints: HashMap<String, Arc<dyn EventSink>>,
    backoff: Backoff,
    max_attempts: u32,
    lease: Duration,
    batch: u32,
}

impl OutboxWorker {
    /// A worker with no desks yet (a ticket note for an unknown desk is dead-lettered).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            desks: HashMap::new(),
            endpoints: HashMap::new(),
            backoff: Backoff {
                base: Duration::from_secs(5),
                cap: Duration::from_secs(30 * 60),
            },
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            lease: Duration::from_secs(60),
            batch: 16,
        }
    }

    /// Delivers notes for tickets of the desk named `name` (a ticket's `system`) to `desk`.
    pub fn with_desk(mut self, name: impl Into<String>, desk: Arc<dyn TicketDesk>) -> Self {
        self.desks.insert(name.into(), desk);
        self
    }

    /// Sends every audited change from now on to the webhook endpoint `name` through `sink`.
    pub fn with_endpoint(mut self, name: &str, sink: Arc<dyn EventSink>) -> Self {
        self.endpoints
            .insert(format!("{WEBHOOK_PREFIX}{name}"), sink);
        self
    }

    /// Uses another backoff schedule and attempt limit.
    pub fn with_retries(mut self, backoff: Backoff, max_attempts: u32) -> Self {
        self.backoff = backoff;
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Claims the entries due now and delivers them one after the other (a ticket's notes
    /// stay in order); returns how many it tried (0: idle).
    pub async fn run_once(&self) -> Result<usize, CoreError> {
        for destination in self.endpoints.keys() {
            self.store
                .fan_out_events(destination, self.batch * 8, self.clock.now())
                .await?;
        }
        let claimed = self
            .store
            .claim_outbox(ClaimRequest {
                worker: "outbox",
                now: self.clock.now(),
                lease_for: self.lease,
                limit: self.batch,
            })
            .await?;
        for entry in &claimed {
            self.deliver(entry).await?;
        }
        Ok(claimed.len())
    }

    /// Delivers until `shutdown` resolves, looking again every `idle` when nothing was due.
    pub async fn run_until(&self, idle: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.run_once().await {
                Ok(0) => idle,
                Ok(_) => Duration::ZERO,
                Err(err) => {
                    tracing::error!(error = %err, "outbox delivery failed; retrying");
                    idle
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    #[tracing::instrument(skip_all, fields(outbox = %entry.id, destination = %entry.destination))]
    async fn deliver(&self, entry: &OutboxEntry) -> Result<(), CoreError> {
        let outcome = match entry.destination.as_str() {
            TICKET_DESTINATION => self.post_note(entry).await,
            other if self.endpoints.contains_key(other) => self.send_event(entry).await,
            other => Err(DeskError::Permanent(format!(
                "no destination `{other}` is configured"
            ))),
        };
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                self.store.outbox_delivered(entry.id, now).await?;
                tracing::info!("delivered");
            }
            Err(err) => {
                let retry_at = match &err {
                    DeskError::Transient(_) if entry.attempts < self.max_attempts => {
                        Some(now.plus(self.backoff.jittered(entry.attempts)))
                    }
                    _ => None,
                };
                let failure = self
                    .store
                    .outbox_failed(entry.id, &err.to_string(), retry_at, now)
                    .await?;
                tracing::warn!(error = %err, attempts = entry.attempts, ?failure, "delivery failed");
            }
        }
        Ok(())
    }

    async fn send_event(&self, entry: &OutboxEntry) -> Result<(), DeskError> {
        let unreadable =
            |e: CoreError| DeskError::Transient(format!("reading the event failed: {e}"));
        let event = self.event(entry.audit_seq).await.map_err(unreadable)?;
        let request_number = match entry.request {
            Some(id) => self
                .store
                .request(id)
                .await
                .map_err(|e| unreadable(e.into()))?
                .map(|(r, _)| r.number.to_string()),
            None => None,
        };
        let outbound = OutboundEvent {
            delivery: entry.id,
            event,
            request_number,
            request_status: entry.request_status,
            sent_at: self.clock.now(),
        };
        match self.endpoints.get(&entry.destination) {
            Some(sink) => sink.send(&outbound).await,
            None => Err(DeskError::Permanent("the endpoint is gone".into())),
        }
    }

    async fn post_note(&self, entry: &OutboxEntry) -> Result<(), DeskError> {
        let ticket = entry
            .ticket
            .clone()
            .ok_or_else(|| DeskError::Permanent("the entry names no ticket".into()))?;
        let desk = self.desks.get(&ticket.system).ok_or_else(|| {
            DeskError::Permanent(format!("no service desk `{}` is configured", ticket.system))
        })?;
        let note = self
            .note(entry, ticket)
            .await
            .map_err(|e| DeskError::Transient(format!("reading what to write failed: {e}")))?;
        desk.post(&note).await
    }

    /// The note for `entry`, from its audit event and its request as they stand.
    async fn note(
        &self,
        entry: &OutboxEntry,
        ticket: ExternalRef,
    ) -> Result<TicketNote, CoreError> {
        let event = self.event(entry.audit_seq).await?;
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
        let mut note = TicketNote {
            ticket,
            action: event.action.clone(),
            request_number: None,
            kind: None,
            status: entry.request_status,
            entitlement: None,
            identity: None,
            requester: None,
            approvers: Vec::new(),
            ttl: None,
            verification: note::verification(entry.request_status, &data),
            reasons: note::reasons(&event, &data),
        };
        if let Some(id) = entry.request
            && let Some((request, _)) = self.store.request(id).await?
        {
            self.describe(&mut note, &request).await?;
        }
        Ok(note)
    }

    async fn describe(&self, note: &mut TicketNote, request: &Request) -> Result<(), CoreError> {
        note.request_number = Some(request.number.to_string());
        note.kind = Some(request.kind);
        note.ttl = request.requested_ttl.map(|t| t.to_string());
        note.identity = self
            .store
            .identity(request.identity)
            .await?
            .map(|i| i.name.to_string());
        if let Some(id) = request.entitlement
            && let Some(entitlement) = self.store.entitlement(id).await?
        {
            let system = self.store.system(entitlement.system).await?;
            note.entitlement = Some(match system {
                Some(system) => format!("{}/{}", system.name, entitlement.key),
                None => entitlement.key.to_string(),
            });
        }
        note.requester = self.email_of(request.requester).await?;
        for approval in self.store.approvals_of(request.id).await? {
            if approval.decision == writ_domain::ApprovalDecision::Approve
                && let Some(email) = self.email_of(approval.approver).await?
                && !note.approvers.contains(&email)
            {
                note.approvers.push(email);
            }
        }
        Ok(())
    }

    async fn email_of(&self, id: writ_domain::PrincipalId) -> Result<Option<String>, CoreError> {
        Ok(self.store.principal(id).await?.map(|p| p.email.to_string()))
    }

    async fn event(&self, seq: u64) -> Result<AuditEvent, CoreError> {
        self.store
            .audit_range(seq.saturating_sub(1), seq)
            .await?
            .pop()
            .ok_or_else(|| CoreError::Internal(format!("audit event {seq} is missing")))
    }
}
