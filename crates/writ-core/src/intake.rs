//! Tickets in: a service-desk ticket, parsed by its desk's adapter into a [`Ticket`], becomes
//! a governed request only if it names a catalog entitlement, a registered identity and a
//! known reporter. Anything else is refused, with the reason owed to the ticket as a note:
//! free text never becomes access. Approvals recorded in the desk are kept as evidence, and
//! count as writ approvals only if configured and only as far as writ's policy lets each
//! approver decide.

use std::sync::Arc;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{ApprovalDecision, ExternalRef, Principal, RequestKind, RequestStatus, Ttl};
use writ_store::Store;

use crate::Clock;
use crate::error::CoreError;
use crate::requests::{Decide, NewRequest, Requests, Submitted};

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
    /// It could not become one; the reason is owed to the ticket.
    Refused(String),
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

    /// Turns `ticket` into a request, or refuses it with its reason owed to the ticket.
    #[tracing::instrument(skip_all, fields(desk = %ticket.reference.system, ticket = %ticket.reference.key))]
    pub async fn receive(&self, ticket: Ticket) -> Result<Received, CoreError> {
        let new = match self.map(&ticket).await? {
            Ok(new) => new,
            Err(reason) => return self.refuse(&ticket, reason).await,
        };
        let submitted = match self.requests.submit(new).await {
            Ok(submitted) => submitted,
            Err(CoreError::Invalid(reason) | CoreError::NotFound { what: reason }) => {
                return self.refuse(&ticket, reason).await;
            }
            Err(err) => return Err(err),
        };
        self.keep_desk_approvals(&ticket, &submitted).await?;
        Ok(Received::Submitted(Box::new(submitted)))
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

    async fn refuse(&self, ticket: &Ticket, reason: String) -> Result<Received, CoreError> {
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
            .refuse_ticket(ticket.reference.clone(), event)
            .await?;
        Ok(Received::Refused(reason))
    }

    /// Keeps the desk's approvals as evidence on the request and, if configured, offers each
    /// to writ as that approver's decision; policy refuses those not eligible.
    async fn keep_desk_approvals(
        &self,
        ticket: &Ticket,
        submitted: &Submitted,
    ) -> Result<(), CoreError> {
        if ticket.approvers.is_empty() {
            return Ok(());
        }
        let request = &submitted.request;
        let mut resolved = Vec::new();
        for person in &ticket.approvers {
            resolved.push((person, self.principal(person).await?));
        }
        let event = NewAuditEvent::new(
            self.clock.now(),
            Actor::system(&ticket.reference.system),
            "ticket.approvals_received",
        )
        .subject(SubjectRef::new("request", request.id))
        .data(serde_json::json!({
            "ticket": ticket.reference.key,
            "approvers": resolved.iter().map(|(person, principal)| serde_json::json!({
                "desk": person.to_string(),
                "principal": principal.as_ref().map(|p| p.id.to_string()),
            })).collect::<Vec<_>>(),
            "counted": self.count_desk_approvals,
        }));
        self.store.append_audit(vec![event]).await?;
        if !self.count_desk_approvals || request.status != RequestStatus::PendingApproval {
            return Ok(());
        }
        let Some(plan_hash) = request.plan_hash else {
            return Ok(());
        };
        for principal in resolved.into_iter().filter_map(|(_, p)| p) {
            let decided = self
                .requests
                .decide(Decide {
                    approver: principal.id,
                    request: request.id,
                    decision: ApprovalDecision::Approve,
                    reason: Some(format!(
                        "approved in {} ticket {}",
                        ticket.reference.system, ticket.reference.key
                    )),
                    plan_hash,
                })
                .await;
            match decided {
                Ok(_) => {}
                // Refusals are audited by `decide`; the desk approval stays evidence only.
                Err(CoreError::Refused(_) | CoreError::Forbidden(_) | CoreError::Invalid(_)) => {
                    tracing::info!(approver = %principal.email, "desk approval not counted: writ's policy does not let this approver decide");
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}
