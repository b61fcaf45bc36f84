//! The [`Store`] implementation, compiled once per backend (see the crate docs): each method
//! opens the backend's write transaction, runs the shared queries and commits.

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use writ_domain::audit::{Actor, AuditEvent, AuditHash, NewAuditEvent, SubjectRef};
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::{
    Account, ApiToken, ApiTokenId, Approval, Catalog, Entitlement, EntitlementId, ExternalRef,
    Finding, FindingId, Grant, GrantId, Identity, IdentityId, JobId, NewNotification, Notification,
    NotificationId, OutboxEntry, OutboxId, OutboxState, PlanHash, PostUseReview, Principal,
    PrincipalId, Request, RequestId, RequestKind, RequestNumber, RequestStatus, ReviewClosure,
    ReviewId, SodRule, System, SystemId, TicketFields, TicketId, TicketOutcome, TicketRecord,
    Timestamp, TokenHash,
};

use crate::{
    AccountTarget, ApprovalContext, ClaimRequest, DisplayNames, Enqueued, EntitlementFilter,
    Evidence, ExecutionEnd, ExecutionStart, GrantFilter, IdentityFilter, JobFailure, PlanChange,
    ReconciliationRun, RemovalStart, RequestDecision, RequestFilter, RevocationEnd,
    RevocationTarget, Route, Seen, SeenFinding, Store, StoreResult, Submission, SubmitContext,
    Transferred,
};

use super::{
    Adapter, approvals, audit, catalog, credentials, evidence, execution, figures, findings, jobs,
    listing, lookups, names, notifications, outbox, removal, requests, reviews, revocation,
    routing, sql, tickets, tokens, transfer,
};

#[async_trait]
impl Store for Adapter {
    fn backend(&self) -> &'static str {
        Adapter::BACKEND
    }

    async fn ping(&self) -> StoreResult<()> {
        sql::query("SELECT 1").execute(self.reads()).await?;
        Ok(())
    }

    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> StoreResult<Vec<AuditEvent>> {
        let mut tx = self.write().await?;
        let sealed = audit::append(&mut tx, events).await?;
        tx.commit().await?;
        Ok(sealed)
    }

    async fn audit_page(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        audit::page(self.reads(), after, limit).await
    }

    async fn audit_range(&self, after: u64, through: u64) -> StoreResult<Vec<AuditEvent>> {
        self.scan_audit(after, through).await
    }

    async fn audit_head(&self) -> StoreResult<Option<(u64, AuditHash)>> {
        audit::head(&mut *self.read_conn().await?).await
    }

    async fn catalog(&self) -> StoreResult<Catalog> {
        catalog::load(self.reads()).await
    }

    async fn sod_rules(&self) -> StoreResult<Vec<SodRule>> {
        catalog::all_sod_rules(&mut *self.read_conn().await?).await
    }

    async fn apply_catalog(
        &self,
        changes: Catalog,
        events: Vec<NewAuditEvent>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        catalog::upsert(&mut tx, &changes, now).await?;
        audit::append(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn submit_context(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext> {
        lookups::context(
            &mut *self.read_conn().await?,
            requester,
            identity,
            entitlement,
        )
        .await
    }

    async fn request_subjects(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext> {
        lookups::subjects(
            &mut *self.read_conn().await?,
            requester,
            identity,
            entitlement,
        )
        .await
    }

    async fn submit_request(&self, submission: Submission) -> StoreResult<Request> {
        let Submission {
            mut request,
            decision,
            mut event,
            execute,
            decided_on,
            route,
            review,
            notify,
            ticket,
        } = submission;
        let mut tx = self.write().await?;
        if let Some(decided_on) = decided_on {
            requests::check_holdings(&mut tx, &decided_on).await?;
        }
        request.number = requests::next_number(&mut tx).await?;
        // Routed before it is stored, so the request row is written once.
        if let Some(route) = &route {
            request.assignee = routing::next_assignee(&mut tx, route).await?;
            request.sla_due = Some(route.sla_due);
            request.escalation = route.escalation;
            event = with_route(event, &request);
        }
        requests::insert(&mut tx, &request, &decision).await?;
        if let Some(ticket) = ticket {
            tickets::record(
                &mut tx,
                &TicketRecord {
                    outcome: TicketOutcome::Submitted,
                    request: Some(request.id),
                    reason: None,
                    ..ticket
                },
            )
            .await?;
        }
        if let (Some(review), Some(entitlement)) = (review, request.entitlement) {
            let id = reviews::open(
                &mut tx,
                request.id,
                request.identity,
                entitlement,
                &review,
                event.at,
            )
            .await?;
            event = event
                .data_field("review", id.to_string())
                .data_field("review_due", review.due_at.to_string());
        }
        notifications::insert(&mut tx, &notify, event.at).await?;
        if let Some(job) = execute {
            jobs::enqueue(&mut tx, &job, event.at).await?;
        }
        let event = event.data_field("number", request.number.to_string());
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(request)
    }

    async fn request(&self, id: RequestId) -> StoreResult<Option<(Request, RequestDecision)>> {
        lookups::request(&mut *self.read_conn().await?, id).await
    }

    async fn request_by_number(
        &self,
        number: RequestNumber,
    ) -> StoreResult<Option<(Request, RequestDecision)>> {
        requests::by_number(self.reads(), number).await
    }

    async fn approval_context(
        &self,
        request: RequestId,
        approver: PrincipalId,
    ) -> StoreResult<ApprovalContext> {
        // One connection, so one snapshot on SQLite.
        let mut conn = self.read_conn().await?;
        let Some((stored, decision)) = lookups::request(&mut conn, request).await? else {
            return Ok(ApprovalContext {
                request: None,
                approvals: Vec::new(),
                approver: None,
                facts: None,
            });
        };
        let facts = lookups::subjects(
            &mut conn,
            stored.requester,
            stored.identity,
            stored.entitlement,
        )
        .await?;
        let approvals = approvals::for_request(&mut conn, request).await?;
        let approver = catalog::principal(&mut conn, approver).await?;
        Ok(ApprovalContext {
            request: Some((stored, decision)),
            approvals,
            approver,
            facts: Some(facts),
        })
    }

    async fn record_approval(
        &self,
        approval: Approval,
        stage_index: u32,
        status: RequestStatus,
        event: NewAuditEvent,
        execute: Option<NewJob>,
        route: Option<Route>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        approvals::record(&mut tx, &approval, stage_index, status).await?;
        let mut event = event;
        if let Some(route) = route {
            let assignee = routing::assign(&mut tx, approval.request, &route, event.at).await?;
            event = event
                .data_field("assignee", assignee.map(|p| p.to_string()))
                .data_field("sla_due", route.sla_due.to_string());
        }
        if let Some(job) = execute {
            jobs::enqueue(&mut tx, &job, event.at).await?;
        }
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn begin_execution(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        account: Account,
        event: NewAuditEvent,
    ) -> StoreResult<ExecutionStart> {
        let mut tx = self.write().await?;
        let start = execution::begin(&mut tx, request, plan_hash, &account, event.at).await?;
        if let ExecutionStart::Started { .. } = start {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(start)
    }

    async fn finish_execution(
        &self,
        request: RequestId,
        end: ExecutionEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        execution::finish(&mut tx, request, &end, &evidence, event.at).await?;
        audit::append(&mut tx, vec![crate::with_evidence(event, &evidence)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enqueue_job(&self, job: NewJob, event: NewAuditEvent) -> StoreResult<Enqueued> {
        let mut tx = self.write().await?;
        let enqueued = jobs::enqueue(&mut tx, &job, event.at).await?;
        if let Enqueued::New(_) = enqueued {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(enqueued)
    }

    async fn claim_jobs(&self, claim: ClaimRequest<'_>) -> StoreResult<Vec<ClaimedJob>> {
        let mut tx = self.write().await?;
        let dead = jobs::dead_letter_expired(&mut tx, claim.now).await?;
        if !dead.is_empty() {
            audit::append(&mut tx, dead).await?;
        }
        let claimed = jobs::claim(&mut tx, &claim).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn complete_job(&self, lease: &Lease, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.write().await?;
        jobs::complete(&mut tx, lease, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fail_job(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Timestamp,
        permanent: bool,
        now: Timestamp,
    ) -> StoreResult<JobFailure> {
        let mut tx = self.write().await?;
        let (failure, event) = jobs::fail(&mut tx, lease, error, retry_at, permanent, now).await?;
        if let Some(event) = event {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(failure)
    }

    async fn job(&self, id: JobId) -> StoreResult<Option<Job>> {
        jobs::get(self.reads(), id).await
    }

    async fn principals_in_group(&self, group: &str) -> StoreResult<Vec<Principal>> {
        routing::in_group(self.reads(), group).await
    }

    async fn cancel_request(
        &self,
        request: RequestId,
        event: NewAuditEvent,
    ) -> StoreResult<RequestStatus> {
        let mut tx = self.write().await?;
        let from = routing::cancel(&mut tx, request, event.at).await?;
        audit::append(&mut tx, vec![event.data_field("from", from.as_str())]).await?;
        tx.commit().await?;
        Ok(from)
    }

    async fn change_plan(&self, change: PlanChange, event: NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        routing::change_plan(&mut tx, &change, event.at).await?;
        let assignee = routing::assign(&mut tx, change.request, &change.route, event.at).await?;
        let event = event.data_field("assignee", assignee.map(|p| p.to_string()));
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn overdue_requests(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<Request>> {
        routing::overdue(self.reads(), now, limit).await
    }

    async fn escalate_request(
        &self,
        seen: Seen,
        route: Route,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        routing::settle_overdue(&mut tx, &seen, RequestStatus::PendingApproval, event.at).await?;
        let assignee = routing::assign(&mut tx, seen.request, &route, event.at).await?;
        let event = event.data_field("assignee", assignee.map(|p| p.to_string()));
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn expire_request(&self, seen: Seen, event: NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        routing::settle_overdue(&mut tx, &seen, RequestStatus::Expired, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn start_expiries(&self, now: Timestamp, limit: u32) -> StoreResult<usize> {
        let mut tx = self.write().await?;
        let events = revocation::start_expiries(&mut tx, now, limit).await?;
        let started = events.len();
        if started > 0 {
            audit::append(&mut tx, events).await?;
        }
        tx.commit().await?;
        Ok(started)
    }

    async fn revocation_target(&self, grant: GrantId) -> StoreResult<Option<RevocationTarget>> {
        revocation::target(&mut *self.read_conn().await?, grant).await
    }

    async fn finish_revocation(
        &self,
        grant: GrantId,
        end: RevocationEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        revocation::finish(&mut tx, grant, &end, &evidence, event.at).await?;
        audit::append(&mut tx, vec![crate::with_evidence(event, &evidence)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn begin_removal(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        event: NewAuditEvent,
    ) -> StoreResult<RemovalStart> {
        let mut tx = self.write().await?;
        let start = removal::begin(&mut tx, request, plan_hash, event.at).await?;
        if let RemovalStart::Started(_) = start {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(start)
    }

    async fn finish_removal(
        &self,
        request: RequestId,
        end: RevocationEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        removal::finish(&mut tx, request, &end, &evidence, event.at).await?;
        audit::append(&mut tx, vec![crate::with_evidence(event, &evidence)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn principal(&self, id: PrincipalId) -> StoreResult<Option<Principal>> {
        catalog::principal(&mut *self.read_conn().await?, id).await
    }

    async fn orphaned_identities(&self) -> StoreResult<Vec<(Identity, Principal)>> {
        transfer::orphaned(&mut *self.read_conn().await?).await
    }

    async fn system_owners_of(&self, identity: IdentityId) -> StoreResult<Vec<Principal>> {
        transfer::system_owners_of(&mut *self.read_conn().await?, identity).await
    }

    async fn execute_transfer(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        event: NewAuditEvent,
    ) -> StoreResult<Transferred> {
        let mut tx = self.write().await?;
        let outcome = transfer::execute(&mut tx, request, plan_hash, event.at).await?;
        if let Transferred::Done { from, to } = outcome {
            let event = event
                .data_field("from", from.to_string())
                .data_field("to", to.to_string());
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn due_suspensions(&self, cutoff: Timestamp) -> StoreResult<Vec<IdentityId>> {
        transfer::due_suspensions(self.reads(), cutoff).await
    }

    async fn accounts_of(&self, identity: IdentityId) -> StoreResult<Vec<AccountTarget>> {
        transfer::accounts_of(&mut *self.read_conn().await?, identity).await
    }

    async fn suspend_identity(
        &self,
        identity: IdentityId,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        transfer::suspend(&mut tx, identity, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn review(&self, id: ReviewId) -> StoreResult<Option<PostUseReview>> {
        reviews::get(self.reads(), id).await
    }

    async fn reviews_of_request(&self, request: RequestId) -> StoreResult<Vec<PostUseReview>> {
        reviews::of_request(self.reads(), request).await
    }

    async fn close_review(
        &self,
        id: ReviewId,
        closure: ReviewClosure,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        reviews::close(&mut tx, id, &closure).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn overdue_reviews(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PostUseReview>> {
        reviews::overdue(self.reads(), now, limit).await
    }

    async fn escalate_review(
        &self,
        id: ReviewId,
        seen_due: Timestamp,
        assignee: Option<PrincipalId>,
        due_at: Timestamp,
        notify: Vec<NewNotification>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        reviews::escalate(&mut tx, id, seen_due, assignee, due_at).await?;
        notifications::insert(&mut tx, &notify, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notifications(
        &self,
        recipient: PrincipalId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        notifications::inbox(self.reads(), recipient, before, limit).await
    }

    async fn audit_events_about(&self, subjects: &[String]) -> StoreResult<Vec<AuditEvent>> {
        evidence::events_about(self.reads(), subjects).await
    }

    async fn audit_leaf_hashes(&self, after: u64, through: u64) -> StoreResult<Vec<AuditHash>> {
        evidence::leaf_hashes(self.reads(), after, through).await
    }

    async fn audit_tiles(&self, from: u64) -> StoreResult<Vec<writ_domain::merkle::TreeHash>> {
        evidence::tiles(self.reads(), from).await
    }

    async fn add_audit_tiles(
        &self,
        first: u64,
        hashes: Vec<writ_domain::merkle::TreeHash>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        evidence::add_tiles(&mut tx, first, &hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_checkpoint(&self, checkpoint: crate::StoredCheckpoint) -> StoreResult<()> {
        let mut tx = self.write().await?;
        evidence::add_checkpoint(&mut tx, &checkpoint).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn checkpoints(&self) -> StoreResult<Vec<crate::StoredCheckpoint>> {
        evidence::checkpoints(self.reads(), None).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<crate::StoredCheckpoint>> {
        Ok(evidence::checkpoints(self.reads(), Some(1)).await?.pop())
    }

    async fn request_counts(
        &self,
        kinds: &[writ_domain::RequestKind],
        since: Timestamp,
    ) -> StoreResult<Vec<crate::RequestCount>> {
        figures::request_counts(self.reads(), kinds, since).await
    }

    async fn overdue_expiries(&self, now: Timestamp) -> StoreResult<u64> {
        figures::overdue_expiries(self.reads(), now).await
    }

    async fn expiry_lags(&self, since: Timestamp) -> StoreResult<Vec<std::time::Duration>> {
        revocation::expiry_lags(self.reads(), since).await
    }
    async fn rotation_context(
        &self,
        identity: IdentityId,
        system: writ_domain::SystemId,
    ) -> StoreResult<crate::RotationContext> {
        credentials::context(&mut *self.read_conn().await?, identity, system).await
    }

    async fn submit_rotation(
        &self,
        mut request: Request,
        decision: RequestDecision,
        plan: crate::RotationPlan,
        event: NewAuditEvent,
        execute: Option<NewJob>,
    ) -> StoreResult<Request> {
        let mut tx = self.write().await?;
        request.number = requests::next_number(&mut tx).await?;
        requests::insert(&mut tx, &request, &decision).await?;
        credentials::insert_plan(&mut tx, request.id, &plan, event.at).await?;
        if let Some(job) = execute {
            jobs::enqueue(&mut tx, &job, event.at).await?;
        }
        let event = event.data_field("number", request.number.to_string());
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(request)
    }

    async fn begin_rotation(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        event: NewAuditEvent,
    ) -> StoreResult<crate::RotationStart> {
        let mut tx = self.write().await?;
        let start = credentials::begin(&mut tx, request, plan_hash, event.at).await?;
        if let crate::RotationStart::Started(_) = start {
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(start)
    }

    async fn stage_rotation_secret(
        &self,
        request: RequestId,
        new: crate::SealedSecret,
        now: Timestamp,
    ) -> StoreResult<crate::SealedSecret> {
        let mut tx = self.write().await?;
        let kept = credentials::stage(&mut tx, request, &new, now).await?;
        tx.commit().await?;
        Ok(kept)
    }

    async fn finish_rotation(
        &self,
        request: RequestId,
        end: crate::RotationEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        credentials::finish(&mut tx, request, &end, &evidence, event.at).await?;
        audit::append(&mut tx, vec![crate::with_evidence(event, &evidence)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn credential_delivery(
        &self,
        request: RequestId,
    ) -> StoreResult<Option<crate::Delivery>> {
        credentials::delivery(self.reads(), request).await
    }

    async fn take_delivery(
        &self,
        request: RequestId,
        sealed: uuid::Uuid,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        credentials::take(&mut tx, request, sealed, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    fn governed_grants(
        &self,
        system: SystemId,
    ) -> BoxStream<'_, StoreResult<crate::GovernedGrant>> {
        self.scan_grants(system)
    }

    fn governed_accounts(
        &self,
        system: SystemId,
    ) -> BoxStream<'_, StoreResult<crate::GovernedAccount>> {
        self.scan_accounts(system)
    }

    async fn record_findings(
        &self,
        system: SystemId,
        seen: Vec<SeenFinding>,
        now: Timestamp,
    ) -> StoreResult<Vec<Finding>> {
        let mut tx = self.write().await?;
        let recorded = findings::record(&mut tx, system, &seen, now).await?;
        let opened: Vec<&Finding> = recorded.iter().filter(|f| f.count == 1).collect();
        if !opened.is_empty() {
            let event = NewAuditEvent::new(now, Actor::system("reconciler"), "finding.opened")
                .subject(SubjectRef::new("system", system))
                .data(serde_json::json!({
                    "findings": opened
                        .iter()
                        .map(|f| serde_json::json!({
                            "id": f.id.to_string(),
                            "kind": f.kind.as_str(),
                            "subject": f.subject,
                        }))
                        .collect::<Vec<_>>(),
                }));
            audit::append(&mut tx, vec![event]).await?;
        }
        tx.commit().await?;
        Ok(recorded)
    }

    async fn finish_reconciliation(
        &self,
        mut run: ReconciliationRun,
        event: NewAuditEvent,
    ) -> StoreResult<Vec<FindingId>> {
        let mut tx = self.write().await?;
        let resolved =
            findings::resolve_unseen(&mut tx, run.system, run.started_at, run.finished_at).await?;
        run.resolved = resolved.len() as u64;
        findings::insert_run(&mut tx, &run).await?;
        // The first ids name what was resolved; the count says how much (a run that resolves
        // a million findings must not write a million ids into one event).
        let event = event.data_field("resolved", run.resolved).data_field(
            "resolved_findings",
            resolved
                .iter()
                .take(RESOLVED_IDS_IN_EVENT)
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        );
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(resolved)
    }

    async fn reopen_accepted(&self, now: Timestamp) -> StoreResult<Vec<Finding>> {
        let mut tx = self.write().await?;
        let reopened = findings::reopen_expired(&mut tx, now).await?;
        let events = reopened
            .iter()
            .map(|f| {
                NewAuditEvent::new(now, Actor::system("reconciler"), "finding.reopened")
                    .subject(SubjectRef::new("finding", f.id))
                    .subject(SubjectRef::new("system", f.system))
                    .data(serde_json::json!({
                        "kind": f.kind.as_str(),
                        "subject": f.subject,
                        "reason": "its acceptance ended",
                    }))
            })
            .collect::<Vec<_>>();
        if !events.is_empty() {
            audit::append(&mut tx, events).await?;
        }
        tx.commit().await?;
        Ok(reopened)
    }

    async fn accept_finding(
        &self,
        id: FindingId,
        acceptance: crate::Acceptance,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        findings::accept(&mut tx, id, &acceptance, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remediate_finding(
        &self,
        id: FindingId,
        request: RequestId,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        findings::remediate(&mut tx, id, request, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reopen_finding(
        &self,
        id: FindingId,
        note: &str,
        event: NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !findings::reopen(&mut tx, id, note, event.at).await? {
            return Ok(false);
        }
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn finding(&self, id: FindingId) -> StoreResult<Option<Finding>> {
        findings::get(self.reads(), id).await
    }

    async fn findings(&self, query: crate::FindingQuery) -> StoreResult<Vec<Finding>> {
        findings::page(self.reads(), &query).await
    }

    async fn remediating_findings(
        &self,
        system: SystemId,
    ) -> StoreResult<Vec<(Finding, RequestKind, RequestStatus)>> {
        findings::remediating(self.reads(), system).await
    }

    async fn latest_reconciliations(&self) -> StoreResult<Vec<ReconciliationRun>> {
        findings::latest_runs(self.reads()).await
    }

    async fn requests_page(&self, filter: RequestFilter, limit: u32) -> StoreResult<Vec<Request>> {
        listing::requests_page(self.reads(), &filter, limit).await
    }

    async fn grants_page(&self, filter: GrantFilter, limit: u32) -> StoreResult<Vec<Grant>> {
        listing::grants_page(self.reads(), &filter, limit).await
    }

    async fn identities_page(
        &self,
        filter: IdentityFilter,
        limit: u32,
    ) -> StoreResult<Vec<Identity>> {
        listing::identities_page(self.reads(), &filter, limit).await
    }

    async fn systems_page(&self, after: Option<String>, limit: u32) -> StoreResult<Vec<System>> {
        listing::systems_page(self.reads(), after.as_deref(), limit).await
    }

    async fn entitlements_page(
        &self,
        filter: EntitlementFilter,
        limit: u32,
    ) -> StoreResult<Vec<Entitlement>> {
        listing::entitlements_page(self.reads(), &filter, limit).await
    }

    async fn identity(&self, id: IdentityId) -> StoreResult<Option<Identity>> {
        listing::identity(self.reads(), id).await
    }

    async fn display_names(
        &self,
        principals: &[PrincipalId],
        identities: &[IdentityId],
        entitlements: &[EntitlementId],
    ) -> StoreResult<DisplayNames> {
        names::display_names(self.reads(), principals, identities, entitlements).await
    }

    async fn identity_named(&self, name: &str) -> StoreResult<Option<Identity>> {
        listing::identity_named(self.reads(), name).await
    }

    async fn system(&self, id: SystemId) -> StoreResult<Option<System>> {
        listing::system(self.reads(), id).await
    }

    async fn system_named(&self, name: &str) -> StoreResult<Option<System>> {
        listing::system_named(self.reads(), name).await
    }

    async fn entitlement(&self, id: EntitlementId) -> StoreResult<Option<Entitlement>> {
        listing::entitlement(self.reads(), id).await
    }

    async fn entitlement_keyed(
        &self,
        system: SystemId,
        key: &str,
    ) -> StoreResult<Option<Entitlement>> {
        listing::entitlement_keyed(self.reads(), system, key).await
    }

    async fn principal_by_email(&self, email: &str) -> StoreResult<Option<Principal>> {
        listing::principal_by_email(self.reads(), email).await
    }

    async fn principal_by_external_id(&self, external_id: &str) -> StoreResult<Option<Principal>> {
        listing::principal_by_external_id(self.reads(), external_id).await
    }

    async fn approvals_of(&self, request: RequestId) -> StoreResult<Vec<Approval>> {
        approvals::for_request(&mut *self.read_conn().await?, request).await
    }

    async fn create_api_token(&self, token: ApiToken, event: NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        tokens::insert(&mut tx, &token).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_token(&self, hash: TokenHash) -> StoreResult<Option<ApiToken>> {
        tokens::by_hash(self.reads(), &hash).await
    }

    async fn api_tokens(
        &self,
        valid_at: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>> {
        tokens::newest(self.reads(), valid_at, limit).await
    }

    async fn revoke_api_token(
        &self,
        id: ApiTokenId,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.write().await?;
        let Some(mut token) = tokens::by_id(&mut tx, id).await? else {
            return Err(crate::StoreError::NotFound {
                what: format!("token `{id}`"),
            });
        };
        tokens::revoke(&mut tx, id, now).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        token.revoked_at = Some(now);
        Ok(token)
    }

    async fn claim_outbox(&self, claim: ClaimRequest<'_>) -> StoreResult<Vec<OutboxEntry>> {
        let mut tx = self.write().await?;
        let claimed = outbox::claim(
            &mut tx,
            claim.now,
            claim.now.plus(claim.lease_for),
            claim.limit,
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn fan_out_events(
        &self,
        destination: &str,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<usize> {
        let mut tx = self.write().await?;
        let owed = outbox::fan_out(&mut tx, destination, limit, now).await?;
        tx.commit().await?;
        Ok(owed)
    }

    async fn outbox_delivered(&self, id: OutboxId, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.write().await?;
        outbox::delivered(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_failed(
        &self,
        id: OutboxId,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<JobFailure> {
        let mut tx = self.write().await?;
        let dead = outbox::failed(&mut tx, id, error, retry_at, now).await?;
        let failure = match (dead, retry_at) {
            (Some(event), _) => {
                audit::append(&mut tx, vec![event]).await?;
                JobFailure::DeadLettered
            }
            (None, Some(at)) => JobFailure::Retried(at),
            (None, None) => JobFailure::DeadLettered,
        };
        tx.commit().await?;
        Ok(failure)
    }

    async fn redeliver_outbox(&self, id: OutboxId, event: NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        outbox::redeliver(&mut tx, id, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_page(
        &self,
        state: Option<OutboxState>,
        after: Option<OutboxId>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEntry>> {
        outbox::page(self.reads(), state, after, limit).await
    }

    async fn undelivered_outbox(&self) -> StoreResult<(u64, u64)> {
        outbox::undelivered(self.reads()).await
    }

    async fn inbound_seen(&self, source: &str, delivery: &str) -> StoreResult<bool> {
        outbox::inbound_seen(self.reads(), source, delivery).await
    }

    async fn record_inbound(
        &self,
        source: &str,
        delivery: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let new = outbox::record_inbound(&mut tx, source, delivery, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    async fn refuse_ticket(&self, ticket: TicketRecord, event: NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let at = event.at;
        let ticket = TicketRecord {
            outcome: TicketOutcome::Rejected,
            request: None,
            ..ticket
        };
        tickets::record(&mut tx, &ticket).await?;
        let sealed = audit::append(&mut tx, vec![event]).await?;
        for event in &sealed {
            outbox::owe(
                &mut tx,
                writ_domain::outbox::TICKET_DESTINATION,
                Some(&ticket.reference),
                None,
                event.seq,
                at,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn ticket(&self, source: &str, key: &str) -> StoreResult<Option<TicketRecord>> {
        tickets::get(self.reads(), source, key).await
    }

    async fn save_ticket_fields(
        &self,
        ticket: ExternalRef,
        fields: TicketFields,
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        tickets::save_fields(&mut tx, &ticket, &fields, event.at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tickets_page(
        &self,
        outcome: Option<TicketOutcome>,
        after: Option<TicketId>,
        limit: u32,
    ) -> StoreResult<Vec<TicketRecord>> {
        tickets::page(self.reads(), outcome, after, limit).await
    }
}

/// Resolved findings named in a `reconciliation.finished` event (the rest are counted).
const RESOLVED_IDS_IN_EVENT: usize = 1_000;

/// The assignment of a request's first stage, recorded with its submission.
fn with_route(event: NewAuditEvent, request: &Request) -> NewAuditEvent {
    event
        .data_field("assignee", request.assignee.map(|p| p.to_string()))
        .data_field("sla_due", request.sla_due.map(|t| t.to_string()))
}
