//! The [`Store`] implementation, compiled once per backend (see the crate docs): each method
//! opens the backend's write transaction, runs the shared queries and commits.

use async_trait::async_trait;
use writ_domain::audit::{AuditEvent, AuditHash, NewAuditEvent};
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::{
    Account, Approval, Catalog, EntitlementId, GrantId, Identity, IdentityId, JobId, PlanHash,
    PostUseReview, Principal, PrincipalId, Request, RequestId, RequestNumber, RequestStatus,
    ReviewClosure, ReviewId, Timestamp,
};

use crate::{
    AccountTarget, ApprovalContext, ClaimRequest, Enqueued, Evidence, ExecutionEnd, ExecutionStart,
    JobFailure, PlanChange, RemovalStart, RequestDecision, RevocationEnd, RevocationTarget, Route,
    Seen, Store, StoreResult, Submission, SubmitContext, Transferred,
};

use super::{
    Adapter, approvals, audit, catalog, credentials, execution, jobs, removal, requests, reviews,
    revocation, routing, transfer,
};

#[async_trait]
impl Store for Adapter {
    fn backend(&self) -> &'static str {
        Adapter::BACKEND
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.reads()).await?;
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
        audit::head(self.reads()).await
    }

    async fn catalog(&self) -> StoreResult<Catalog> {
        catalog::load(self.reads()).await
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
        requests::context(self.reads(), requester, identity, entitlement).await
    }

    async fn request_subjects(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext> {
        requests::subjects(self.reads(), requester, identity, entitlement).await
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
        } = submission;
        let mut tx = self.write().await?;
        if let Some(decided_on) = decided_on {
            requests::check_holdings(&mut tx, &decided_on).await?;
        }
        request.number = requests::next_number(&mut tx).await?;
        requests::insert(&mut tx, &request, &decision).await?;
        if let Some(route) = route {
            request.assignee = routing::assign(&mut tx, request.id, &route, event.at).await?;
            request.sla_due = Some(route.sla_due);
            request.escalation = route.escalation;
            event = with_route(event, &request);
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
        if let Some(job) = execute {
            jobs::enqueue(&mut tx, &job, event.at).await?;
        }
        let event = event.data_field("number", request.number.to_string());
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(request)
    }

    async fn request(&self, id: RequestId) -> StoreResult<Option<(Request, RequestDecision)>> {
        requests::get(self.reads(), id).await
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
        let Some((stored, decision)) = requests::get(self.reads(), request).await? else {
            return Ok(ApprovalContext {
                request: None,
                approvals: Vec::new(),
                approver: None,
                facts: None,
            });
        };
        let facts = requests::subjects(
            self.reads(),
            stored.requester,
            stored.identity,
            stored.entitlement,
        )
        .await?;
        // One pooled connection at a time: holding one while asking the pool for another
        // deadlocks once every connection is held by a caller doing the same.
        let approvals = approvals::for_request(self.reads(), request).await?;
        let approver = {
            let mut conn = self.reads().acquire().await?;
            catalog::principal(&mut conn, approver).await?
        };
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
        audit::append(&mut tx, vec![event]).await?;
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
        revocation::target(self.reads(), grant).await
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
        audit::append(&mut tx, vec![event]).await?;
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
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn principal(&self, id: PrincipalId) -> StoreResult<Option<Principal>> {
        let mut conn = self.reads().acquire().await?;
        catalog::principal(&mut conn, id).await
    }

    async fn orphaned_identities(&self) -> StoreResult<Vec<(Identity, Principal)>> {
        transfer::orphaned(self.reads()).await
    }

    async fn system_owners_of(&self, identity: IdentityId) -> StoreResult<Vec<Principal>> {
        transfer::system_owners_of(self.reads(), identity).await
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
        transfer::accounts_of(self.reads(), identity).await
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
        event: NewAuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        reviews::escalate(&mut tx, id, seen_due, assignee, due_at).await?;
        audit::append(&mut tx, vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn expiry_lags(&self, since: Timestamp) -> StoreResult<Vec<std::time::Duration>> {
        revocation::expiry_lags(self.reads(), since).await
    }
    async fn rotation_context(
        &self,
        identity: IdentityId,
        system: writ_domain::SystemId,
    ) -> StoreResult<crate::RotationContext> {
        credentials::context(self.reads(), identity, system).await
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
        audit::append(&mut tx, vec![event]).await?;
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
}

/// The assignment of a request's first stage, recorded with its submission.
fn with_route(event: NewAuditEvent, request: &Request) -> NewAuditEvent {
    event
        .data_field("assignee", request.assignee.map(|p| p.to_string()))
        .data_field("sla_due", request.sla_due.map(|t| t.to_string()))
}
