//! Desk approvals: who approved a ticket in its desk is kept as evidence on its request, and,
//! if the desk is configured to count them, offered to writ as that approver's decision while
//! the request waits for approval. Policy still decides who may decide a stage; an approver
//! who already decided in writ is not offered again.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{ApprovalDecision, Request, RequestStatus, TicketFields};

use super::{Intake, Ticket};
use crate::error::CoreError;
use crate::requests::Decide;

impl Intake {
    /// Takes the desk approvers on `ticket` that `fields` (the ticket as recorded) has not
    /// taken yet; returns how many. Decisions go first and the record of the approvers taken
    /// last, so a crash between them leaves the approvers to be taken again, not lost.
    pub(super) async fn take_approvals(
        &self,
        ticket: &Ticket,
        request: &Request,
        mut fields: TicketFields,
    ) -> Result<usize, CoreError> {
        let mut new = Vec::new();
        for person in &ticket.approvers {
            let named = person.named();
            if !named.is_empty() && !fields.approvers.contains(&named) {
                fields.approvers.push(named);
                new.push((person, self.principal(person).await?, false));
            }
        }
        if new.is_empty() {
            return Ok(0);
        }
        if self.count_desk_approvals && request.status == RequestStatus::PendingApproval {
            self.offer(ticket, request, &mut new).await?;
        }
        let event = NewAuditEvent::new(
            self.clock.now(),
            Actor::system(&ticket.reference.system),
            "ticket.approvals_received",
        )
        .subject(SubjectRef::new("request", request.id))
        .data(serde_json::json!({
            "ticket": ticket.reference.key,
            "approvers": new.iter().map(|(person, principal, counted)| serde_json::json!({
                "desk": person.to_string(),
                "principal": principal.as_ref().map(|p| p.id.to_string()),
                "counted": counted,
            })).collect::<Vec<_>>(),
            "counted": self.count_desk_approvals,
        }));
        self.store
            .save_ticket_fields(ticket.reference.clone(), fields, event)
            .await?;
        Ok(new.len())
    }

    /// Offers each resolved approver's desk approval to writ, marking those it counted.
    async fn offer(
        &self,
        ticket: &Ticket,
        request: &Request,
        approvers: &mut [(&super::PersonRef, Option<writ_domain::Principal>, bool)],
    ) -> Result<(), CoreError> {
        let Some(plan_hash) = request.plan_hash else {
            return Ok(());
        };
        let decided: Vec<_> = self
            .store
            .approvals_of(request.id)
            .await?
            .into_iter()
            .map(|a| a.approver)
            .collect();
        for (_, principal, counted) in approvers.iter_mut() {
            let Some(principal) = principal else { continue };
            if decided.contains(&principal.id) {
                tracing::info!(approver = %principal.email, "desk approval not counted: the approver already decided in writ");
                continue;
            }
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
                Ok(_) => *counted = true,
                // Refusals are audited by `decide`; the desk approval stays evidence only.
                Err(
                    CoreError::Refused(_)
                    | CoreError::Forbidden(_)
                    | CoreError::Invalid(_)
                    | CoreError::NotPending { .. },
                ) => {
                    tracing::info!(approver = %principal.email, "desk approval not counted: writ's policy does not let this approver decide now");
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}
