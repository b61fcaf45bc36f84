//! Tickets in: a service-desk ticket, parsed by its desk's adapter into a [`Ticket`], becomes
//! a governed request only if it names a catalog entitlement, a registered identity and a
//! known reporter. Anything else is refused, with the reason owed to the ticket as a note:
//! free text never becomes access. Every ticket is recorded (refused ones too) in the
//! transaction that submits or refuses it, and that record keys the ticket, so a ticket
//! delivered again (a desk's update, a retry after a crash, two deliveries at once) never
//! makes a second request: it is an update. An update takes in a refused ticket again (its
//! fields may be fixed), and takes the desk approvals newly present on a ticket whose request
//! waits for approval; anything else about it changes nothing.

use std::sync::Arc;

mod approvals;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    ExternalRef, Principal, Request, RequestKind, RequestStatus, TicketFields, TicketOutcome,
    TicketRecord, Ttl,
};
use writ_store::{Store, StoreError};

use crate::Clock;
use crate::error::CoreError;
use crate::requests::{NewRequest, Requests, Submitted};

/// A person as a desk names them: by e-mail, by the identity provider's subject, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonRef {
    /// Their e-mail.
    pub email: Option<String>,
    /// Their external id (the identity provider's subject).
    pub external_id: Option<String>,
}

impl std::fmt::Display for PersonRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self
            .email
            .as_deref()
            .or(self.external_id.as_deref())
            .unwrap_or("nobody");
        write!(f, "`{shown}`")
    }
}

impl PersonRef {
    /// How the desk named them, as recorded: the e-mail, else the external id.
    pub fn named(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.external_id.clone())
            .unwrap_or_default()
    }
}

/// A ticket as its desk's adapter read it, field mapping applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Which desk and ticket.
    pub reference: ExternalRef,
    /// Who filed it: the requester.
    pub reporter: PersonRef,
    /// The entitlement field, `system/key`.
    pub entitlement: Option<String>,
    /// The identity field: a registered identity's name.
    pub identity: Option<String>,
    /// The TTL field (`8h`, `7d`).
    pub ttl: Option<String>,
    /// The justification field.
    pub justification: Option<String>,
    /// Who approved it in the desk.
    pub approvers: Vec<PersonRef>,
}

/// What became of a ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// It became a request (which policy may still have rejected).
    Submitted(Box<Submitted>),
    /// It could not become one; the reason is owed to the ticket (and was written back,
    /// unless the ticket had been refused for that same reason before).
    Refused(String),
    /// A ticket that made a request before: the desk approvals newly present on it were
    /// taken. The request as it stands after them.
    Updated(Box<Request>),
    /// A ticket that made a request before, whose delivery changes nothing; why.
    Unchanged(String),
}

/// The ticket intake of one desk.
#[derive(Clone)]
pub struct Intake {
    store: Arc<dyn Store>,
    requests: Requests,
    clock: Arc<dyn Clock>,
    count_desk_approvals: bool,
}

impl Intake {
    /// An intake over these ports; desk approvals are evidence only.
    pub fn new(store: Arc<dyn Store>, requests: Requests, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            requests,
            clock,
            count_desk_approvals: false,
        }
    }

    /// Whether an approval recorded in the desk also counts as the approver's writ decision
    /// (still only where writ's policy lets that approver decide the stage).
    pub fn counting_desk_approvals(mut self, count: bool) -> Self {
        self.count_desk_approvals = count;
        self
    }

    /// Turns `ticket` into a request, refuses it with its reason owed to the ticket, or, for
    /// a ticket that made a request before, takes it as an update.
    #[tracing::instrument(skip_all, fields(desk = %ticket.reference.system, ticket = %ticket.reference.key))]
    pub async fn receive(&self, ticket: Ticket) -> Result<Received, CoreError> {
        let known = self.known(&ticket.reference).await?;
        if let Some(known) = known
            .as_ref()
            .filter(|k| k.outcome == TicketOutcome::Submitted)
        {
            return self.update(&ticket, known).await;
        }
        match self.take_in(&ticket, known).await {
            Err(CoreError::Store(taken @ StoreError::TicketTaken { .. })) => {
                tracing::info!("another delivery of this ticket made its request first");
                // Not yet visible when that delivery's write still waits for its commit: the
                // desk is answered 409 and its retry is an update.
                match self.known(&ticket.reference).await? {
                    Some(known) => self.update(&ticket, &known).await,
                    None => Err(taken.into()),
                }
            }
            received => received,
        }
    }

    async fn known(&self, reference: &ExternalRef) -> Result<Option<TicketRecord>, CoreError> {
        Ok(self.store.ticket(&reference.system, &reference.key).await?)
    }

    /// A new ticket, or one refused before: submitted as a request if it maps to one, else
    /// refused.
    async fn take_in(
        &self,
        ticket: &Ticket,
        known: Option<TicketRecord>,
    ) -> Result<Received, CoreError> {
        // A row received before keeps its id and time of arrival.
        let record = TicketRecord::received(
            ticket.reference.clone(),
            ticket.reporter.named(),
            TicketFields {
                entitlement: ticket.entitlement.clone(),
                identity: ticket.identity.clone(),
                ttl: ticket.ttl.clone(),
                justification: ticket.justification.clone(),
                approvers: Vec::new(),
            },
            self.clock.now(),
        );
        let new = match self.map(ticket).await? {
            Ok(new) => new,
            Err(reason) => return self.refuse(ticket, record, known, reason).await,
        };
        let submitted = match self.requests.submit_ticket(new, record.clone()).await {
            Ok(submitted) => submitted,
            Err(CoreError::Invalid(reason) | CoreError::NotFound { what: reason }) => {
                return self.refuse(ticket, record, known, reason).await;
            }
            Err(err) => return Err(err),
        };
        self.take_approvals(ticket, &submitted.request, record.fields)
            .await?;
        Ok(Received::Submitted(Box::new(submitted)))
    }

    /// A ticket that made a request: desk approvals newly present are taken while the request
    /// waits for approval; nothing else on the ticket changes the request.
    async fn update(&self, ticket: &Ticket, known: &TicketRecord) -> Result<Received, CoreError> {
        let request = known.request.ok_or_else(|| {
            CoreError::Internal(format!("ticket `{}` has no request", known.reference.key))
        })?;
        let current = |request| async move {
            self.store
                .request(request)
                .await?
                .map(|(request, _)| request)
                .ok_or_else(|| CoreError::not_found(format!("request `{request}`")))
        };
        let before = current(request).await?;
        if before.status != RequestStatus::PendingApproval {
            tracing::info!(request = %before.number, status = %before.status, "ticket update ignored: its request is past approval");
            return Ok(Received::Unchanged(format!(
                "{} is {}: a ticket update changes it only while it waits for approval",
                before.number, before.status
            )));
        }
        if self
            .take_approvals(ticket, &before, known.fields.clone())
            .await?
            == 0
        {
            tracing::info!(request = %before.number, "ticket update ignored: no new desk approval");
            return Ok(Received::Unchanged(format!(
                "{} waits for approval; the update carries no new desk approval",
                before.number
            )));
        }
        Ok(Received::Updated(Box::new(current(request).await?)))
    }

    /// The request a ticket maps to, or why it maps to none.
    async fn map(&self, ticket: &Ticket) -> Result<Result<NewRequest, String>, CoreError> {
        let Some(reporter) = self.principal(&ticket.reporter).await? else {
            return Ok(Err(format!(
                "the reporter {} is not an active writ principal",
                ticket.reporter
            )));
        };
        let Some(identity_name) = ticket.identity.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(Err("the ticket names no identity".into()));
        };
        let Some(identity) = self.store.identity_named(identity_name).await? else {
            return Ok(Err(format!(
                "`{identity_name}` is not a registered identity"
            )));
        };
        let Some(wanted) = ticket.entitlement.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(Err("the ticket names no entitlement".into()));
        };
        let Some(entitlement) = self.entitlement(wanted).await? else {
            return Ok(Err(format!(
                "`{wanted}` is not a catalog entitlement (expected `system/key`)"
            )));
        };
        let ttl = match ticket.ttl.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match text.parse::<Ttl>() {
                Ok(ttl) => Some(ttl),
                Err(err) => return Ok(Err(format!("the TTL `{text}` is not valid: {err}"))),
            },
        };
        let justification = ticket
            .justification
            .clone()
            .filter(|j| !j.trim().is_empty())
            .unwrap_or_else(|| format!("requested in ticket {}", ticket.reference.key));
        Ok(Ok(NewRequest {
            requester: reporter.id,
            kind: RequestKind::Grant,
            identity: identity.id,
            entitlement: Some(entitlement),
            justification,
            ttl,
            end: None,
            external_ref: Some(ticket.reference.clone()),
            new_owner: None,
        }))
    }

    async fn entitlement(
        &self,
        wanted: &str,
    ) -> Result<Option<writ_domain::EntitlementId>, CoreError> {
        let Some((system, key)) = wanted.trim().split_once('/') else {
            return Ok(None);
        };
        let Some(system) = self.store.system_named(system).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .entitlement_keyed(system.id, key)
            .await?
            .filter(|e| e.requestable)
            .map(|e| e.id))
    }

    /// The active principal a desk's person maps to: by e-mail, else by external id.
    async fn principal(&self, person: &PersonRef) -> Result<Option<Principal>, CoreError> {
        let mut found = None;
        if let Some(email) = &person.email {
            found = self.store.principal_by_email(email).await?;
        }
        if found.is_none()
            && let Some(external_id) = &person.external_id
        {
            found = self.store.principal_by_external_id(external_id).await?;
        }
        Ok(found.filter(|p| p.active))
    }

    /// Refuses a ticket, recording it as `rejected` and owing it a note with the reason;
    /// refused before for that same reason, it was told already and nothing is written.
    async fn refuse(
        &self,
        ticket: &Ticket,
        record: TicketRecord,
        known: Option<TicketRecord>,
        reason: String,
    ) -> Result<Received, CoreError> {
        if known.and_then(|k| k.reason).as_deref() == Some(reason.as_str()) {
            // A desk may send an update for writ's own note: telling it again would loop.
            tracing::info!(%reason, "ticket still refused for the same reason; not told again");
            return Ok(Received::Refused(reason));
        }
        tracing::info!(%reason, "ticket refused");
        let event = NewAuditEvent::new(
            self.clock.now(),
            Actor::system(&ticket.reference.system),
            "ticket.refused",
        )
        .subject(SubjectRef::new(
            "ticket",
            format!("{}:{}", ticket.reference.system, ticket.reference.key),
        ))
        .data(serde_json::json!({
            "ticket": ticket.reference.key,
            "reporter": ticket.reporter.to_string(),
            "reason": reason,
        }));
        self.store
            .refuse_ticket(record.refused(reason.clone()), event)
            .await?;
        Ok(Received::Refused(reason))
    }
}
