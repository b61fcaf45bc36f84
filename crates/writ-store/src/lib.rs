//! writ's storage port and its adapters.
//!
//! [`Store`] is the port: use-case-shaped methods, each one transaction, each mutating method
//! appending its audit event in that same transaction. SQLite (one file, WAL,
//! `synchronous=FULL`) is the embedded default; PostgreSQL is the path to several replicas.
//! This is the only crate that names sqlx or rusqlite; nothing here knows about HTTP or
//! policy.
//!
//! Queries are written once, in `src/shared/`: each adapter includes those files with
//! `#[path = "../shared/…"] mod …;`, so they compile once against SQLite and once against
//! PostgreSQL. They name the backend only through the adapter's aliases (`Db`, `Connection`,
//! `Pool`, `Adapter`, `SqlRow`, `FromTuple`), its query API `sql` (sqlx itself on PostgreSQL;
//! on SQLite the same calls run through rusqlite on the calling thread) and hooks
//! (`lock_audit`, `claim_lock!`, `write`, `reads`, `read_conn`), and their SQL is the subset
//! both accept (`$N` placeholders, `ON CONFLICT`, `RETURNING`). What only one backend can do
//! well (bulk scans, migrations, connection set-up) stays in its adapter.
#![allow(
    clippy::duplicate_mod,
    reason = "the files in src/shared compile once per backend, by design"
)]

mod campaigns;
mod credentials;
mod error;
mod findings;
mod listing;
mod location;
mod migrate;
mod open;
mod postgres;
mod revocation;
mod rows;
pub mod scratch;
pub mod seed;
mod sqlite;
mod transfer;

use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use writ_domain::audit::{AuditEvent, AuditHash, NewAuditEvent};
use writ_domain::job::{ClaimedJob, Job, Lease, NewJob};
use writ_domain::merkle::TreeHash;
use writ_domain::{
    Account, AccountKey, ApiToken, ApiTokenId, Approval, Catalog, Entitlement, EntitlementId,
    ExternalRef, Finding, FindingId, Grant, GrantId, Identity, IdentityId, JobId, NewNotification,
    Notification, NotificationId, OutboxEntry, OutboxId, OutboxState, PlanHash, PostUseReview,
    Principal, PrincipalId, Request, RequestId, RequestKind, RequestNumber, RequestStatus,
    ReviewClosure, ReviewId, SodRule, System, SystemId, TicketFields, TicketId, TicketOutcome,
    TicketRecord, Timestamp, TokenHash, Ttl,
};

pub use campaigns::{CampaignStore, Launch, Reassignment, Settlement};
pub use credentials::{
    Delivery, RotationContext, RotationEnd, RotationPlan, RotationStart, RotationTarget,
    SealedSecret,
};
pub use error::StoreError;
pub use findings::{
    Acceptance, FindingQuery, GovernedAccount, GovernedGrant, ReconciliationRun, SeenFinding,
};
pub use listing::{EntitlementFilter, GrantAfter, GrantFilter, IdentityFilter, RequestFilter};
pub use location::{DatabaseUrl, redact};
pub use migrate::{SchemaStatus, latest_schema_version};
pub use open::{OpenMode, open};
pub use revocation::{
    AccountTarget, LiveAccess, Removal, RemovalStart, RevocationEnd, RevocationTarget,
};
pub use transfer::Transferred;

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The outcome of enqueueing a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job was queued.
    New(JobId),
    /// A job with the same dedupe key already exists: this is a replay and nothing was queued.
    Replay(JobId),
}

impl Enqueued {
    /// The id of the job that carries the work.
    pub fn job_id(self) -> JobId {
        match self {
            Enqueued::New(id) | Enqueued::Replay(id) => id,
        }
    }
}

/// A worker's ask for due jobs.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    /// The worker's name, recorded as the lease owner.
    pub worker: &'a str,
    /// The current time (from the injected clock).
    pub now: Timestamp,
    /// How long the lease lasts before another worker may claim the job again.
    pub lease_for: Duration,
    /// At most this many jobs.
    pub limit: u32,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFailure {
    /// Queued again, to run after the given instant.
    Retried(Timestamp),
    /// Out of attempts (or permanently failed): dead-lettered, with an audit event.
    DeadLettered,
}

/// Everything a submission is decided on, read at one moment. `None` where the thing named
/// does not exist, so the caller can say which.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmitContext {
    /// Who asks.
    pub requester: Option<Principal>,
    /// For which identity.
    pub identity: Option<Identity>,
    /// The identity's owner.
    pub owner: Option<Principal>,
    /// What is asked for.
    pub entitlement: Option<Entitlement>,
    /// The entitlement's system.
    pub system: Option<System>,
    /// Entitlements the identity holds or may soon hold (live grants, requests in flight).
    pub held: Vec<EntitlementId>,
    /// The same across every identity of the identity's owner (for owner-scoped SoD).
    pub owner_held: Vec<EntitlementId>,
    /// Every SoD rule.
    pub sod_rules: Vec<SodRule>,
    /// Whether a break-glass post-use review of this entitlement is open on this identity.
    pub open_break_glass_review: bool,
}

/// What a submission's separation-of-duties check counted: which of the entitlements that
/// share an SoD rule with the requested one the identity's owner (across all their identities)
/// held when it was decided. The store re-reads them under a lock as it writes the request and
/// refuses the write if they changed, so two concurrent submissions cannot each pass a check
/// that, together, they break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedOn {
    /// The identity's owner.
    pub owner: PrincipalId,
    /// The entitlements that matter: every member of an SoD rule naming the requested one.
    pub relevant: Vec<EntitlementId>,
    /// Those of them the owner's identities held or were about to hold, as counted.
    pub held: Vec<EntitlementId>,
    /// The identity the request is for.
    pub identity: IdentityId,
    /// Those of them this identity held or was about to hold, as counted (read apart from the
    /// owner's, so both are checked).
    pub identity_held: Vec<EntitlementId>,
}

/// A decided request and what is written with it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The request, `rejected`, `pending_approval` or (pre-approved) `approved`.
    pub request: Request,
    /// The policy decision it was submitted under.
    pub decision: RequestDecision,
    /// Its audit event.
    pub event: NewAuditEvent,
    /// The job that executes it, when it needs no approval.
    pub execute: Option<NewJob>,
    /// The holdings its separation-of-duties check counted, re-checked as it is written.
    pub decided_on: Option<DecidedOn>,
    /// Where its first stage goes (assigned round-robin in its pool) and when it is due.
    pub route: Option<Route>,
    /// The post-use review a break-glass request opens.
    pub review: Option<NewReview>,
    /// Who must be told of it (a break-glass grant's owner and security group).
    pub notify: Vec<NewNotification>,
    /// The service-desk ticket it came from, recorded as `submitted` with it; a ticket that
    /// already made a request refuses the write with [`StoreError::TicketTaken`].
    pub ticket: Option<TicketRecord>,
}

/// A signed tree head of the audit log, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// How many events the tree holds.
    pub size: u64,
    /// Their tree hash.
    pub root: TreeHash,
    /// The C2SP signed note, exactly as signed.
    pub note: String,
    /// When it was signed.
    pub created_at: Timestamp,
}

/// How many requests of one kind are in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    /// The kind.
    pub kind: RequestKind,
    /// The status.
    pub status: RequestStatus,
    /// How many.
    pub count: u64,
}

/// A break-glass post-use review to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReview {
    /// Who is asked to review it.
    pub assignee: Option<PrincipalId>,
    /// When it is overdue.
    pub due_at: Timestamp,
}

/// Where the current stage of a pending request goes, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The pool whose turn is kept, round-robin (a group's name); `None` when one person alone
    /// may decide.
    pub pool: Option<String>,
    /// Who may decide, in a stable order; empty when nobody can, and the request waits
    /// unassigned until it escalates.
    pub candidates: Vec<PrincipalId>,
    /// When the stage becomes overdue.
    pub sla_due: Timestamp,
    /// How many times the stage has escalated.
    pub escalation: u32,
}

/// A pending request as the overdue sweep saw it: a change is written only if the request is
/// still pending at the same stage, escalation and due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The request.
    pub request: RequestId,
    /// Its due time when seen.
    pub sla_due: Timestamp,
    /// Its escalation when seen.
    pub escalation: u32,
}

/// A new plan for a pending request (a changed TTL or end): earlier approvals no longer count
/// and its stages start again.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanChange {
    /// The request.
    pub request: RequestId,
    /// The plan the change was decided against; a request whose plan moved meanwhile is a
    /// conflict.
    pub from_plan: PlanHash,
    /// The new requested TTL.
    pub ttl: Option<Ttl>,
    /// The new latest end.
    pub end: Option<Timestamp>,
    /// The new plan's hash.
    pub plan_hash: PlanHash,
    /// The policy decision on the new plan.
    pub decision: RequestDecision,
    /// Where its first stage goes.
    pub route: Route,
}

/// The names of the principals, identities and entitlements (`system/key`) a page shows; an id
/// that names nothing stored is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayNames {
    /// Principals by id.
    pub principals: std::collections::HashMap<PrincipalId, String>,
    /// Identities by id.
    pub identities: std::collections::HashMap<IdentityId, String>,
    /// Entitlements by id, as `system/key`.
    pub entitlements: std::collections::HashMap<EntitlementId, String>,
}

/// The policy decision a request was submitted under, as stored with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestDecision {
    /// The decision record (allowed, reasons, policy ids) as JSON.
    pub record: serde_json::Value,
    /// The hash of the policy set that decided.
    pub policy_set_hash: String,
}

/// Everything an approver's decision is made on, read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalContext {
    /// The request and the decision it was submitted under.
    pub request: Option<(Request, RequestDecision)>,
    /// Decisions already recorded on it, oldest first.
    pub approvals: Vec<Approval>,
    /// The principal deciding now.
    pub approver: Option<Principal>,
    /// Who and what the request names, current (without holdings or SoD rules, which only a
    /// submission's decision needs).
    pub facts: Option<SubmitContext>,
}

/// Where a request's execution stands when a job picks it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionStart {
    /// Just moved to `executing`, with this grant (provisioning) on this account.
    Started {
        /// The grant being provisioned.
        grant: GrantId,
        /// The identity's account on the system.
        account: AccountKey,
    },
    /// Already executing (an earlier attempt failed transiently): carry on.
    Resumed {
        /// The grant being provisioned.
        grant: GrantId,
        /// The identity's account on the system.
        account: AccountKey,
    },
    /// Past execution already: a replayed job, nothing to do.
    Finished(RequestStatus),
    /// The request's plan is not the one the job was queued for: nothing to do.
    PlanChanged,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionEnd {
    /// The read-back showed the access: the grant is active from `verified_at`.
    Fulfilled {
        /// When the target was read back (the TTL counts from here).
        verified_at: Timestamp,
        /// When the grant ends.
        expires_at: Option<Timestamp>,
    },
    /// It could not be done.
    Failed {
        /// Why, for the requester and the record.
        error: String,
    },
}

/// What kind of evidence an execution left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A connector's receipt of what it did.
    Receipt,
    /// What the target showed when read back.
    ReadBack,
    /// An error the target returned.
    Error,
}

impl EvidenceKind {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Receipt => "receipt",
            EvidenceKind::ReadBack => "read_back",
            EvidenceKind::Error => "error",
        }
    }
}

/// One piece of execution evidence, kept with the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Receipt, read-back or error.
    pub kind: EvidenceKind,
    /// Its content (never a secret).
    pub data: serde_json::Value,
    /// When.
    pub at: Timestamp,
}

/// The event that ends an execution carries its evidence, so the audit chain (and every
/// evidence bundle built from it) covers the receipts and read-backs, not only the evidence
/// table.
pub(crate) fn with_evidence(event: NewAuditEvent, evidence: &[Evidence]) -> NewAuditEvent {
    if evidence.is_empty() {
        return event;
    }
    let items: Vec<serde_json::Value> = evidence
        .iter()
        .map(|e| {
            serde_json::json!({
                "kind": e.kind.as_str(),
                "at": e.at.to_string(),
                "data": e.data,
            })
        })
        .collect();
    event.data_field("evidence", items)
}

/// The storage port. Every method is one transaction.
///
/// Methods that change governed state append their audit event in the same transaction, so a
/// change and its record commit or vanish together. Job-queue bookkeeping (claim, completion,
/// retry) is operational and not audited, except dead-lettering, which is.
#[async_trait]
pub trait Store: CampaignStore + Send + Sync + 'static {
    /// The backend's name, `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Appends events to the audit log in one transaction, in order, and returns them sealed.
    async fn append_audit(&self, events: Vec<NewAuditEvent>) -> StoreResult<Vec<AuditEvent>>;

    /// Up to `limit` audit events with `seq > after`, in seq order.
    async fn audit_page(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditEvent>>;

    /// The audit events with `after < seq <= through`, in seq order. Ranges, unlike pages,
    /// can be read concurrently.
    async fn audit_range(&self, after: u64, through: u64) -> StoreResult<Vec<AuditEvent>>;

    /// The audit events that name any of `subjects` (`kind:id`), in seq order.
    async fn audit_events_about(&self, subjects: &[String]) -> StoreResult<Vec<AuditEvent>>;

    /// The hashes of the audit events with `after < seq <= through`, in seq order: the
    /// leaves of the log's Merkle tree.
    async fn audit_leaf_hashes(&self, after: u64, through: u64) -> StoreResult<Vec<AuditHash>>;

    /// The Merkle tree's kept tiles from index `from` on (tile `i` is the tree hash of
    /// events `256·i + 1 ..= 256·i + 256`).
    async fn audit_tiles(&self, from: u64) -> StoreResult<Vec<TreeHash>>;

    /// Keeps tiles `first, first + 1, …`, leaving any already kept as they are.
    async fn add_audit_tiles(&self, first: u64, hashes: Vec<TreeHash>) -> StoreResult<()>;

    /// Keeps a signed checkpoint, leaving one of the same size as it is.
    async fn add_checkpoint(&self, checkpoint: StoredCheckpoint) -> StoreResult<()>;

    /// Every signed checkpoint, smallest first.
    async fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>>;

    /// The newest (largest) signed checkpoint, if any.
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;

    /// The newest audit event's seq and hash, or `None` for an empty log.
    async fn audit_head(&self) -> StoreResult<Option<(u64, AuditHash)>>;

    /// The whole catalog and inventory (for planning `writ apply`). Its identities grow with
    /// the inventory: what needs a part of the catalog reads that part.
    async fn catalog(&self) -> StoreResult<Catalog>;

    /// Every SoD rule (few by nature).
    async fn sod_rules(&self) -> StoreResult<Vec<SodRule>>;

    /// Writes `changes` (upserts by id, parents first) and their audit `events` in one
    /// transaction: all of it or nothing.
    async fn apply_catalog(
        &self,
        changes: Catalog,
        events: Vec<NewAuditEvent>,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The facts a submission by `requester` for `identity` (and `entitlement`) is decided on.
    async fn submit_context(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext>;

    /// Who and what a request names (requester, identity and its owner, entitlement, system),
    /// without the holdings and SoD rules of [`Store::submit_context`]: enough to execute.
    async fn request_subjects(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext>;

    /// Stores a decided request with everything that goes with it (see [`Submission`]) in one
    /// transaction; the request's number is allocated here, and the stored request returned.
    ///
    /// With `decided_on`, the write is refused with [`StoreError::Conflict`] when the owner's
    /// holdings changed since the decision: decide again and resubmit.
    async fn submit_request(&self, submission: Submission) -> StoreResult<Request>;

    /// One request with its decision.
    async fn request(&self, id: RequestId) -> StoreResult<Option<(Request, RequestDecision)>>;

    /// One request by its number, with its decision.
    async fn request_by_number(
        &self,
        number: RequestNumber,
    ) -> StoreResult<Option<(Request, RequestDecision)>>;

    /// The facts an approver's decision on `request` is made on.
    async fn approval_context(
        &self,
        request: RequestId,
        approver: PrincipalId,
    ) -> StoreResult<ApprovalContext>;

    /// Records an approver's decision on stage `stage_index` and moves the request to `status`,
    /// with its audit event and, after the last stage, the job that executes it, in one
    /// transaction; `route` assigns the next stage. Fails with [`StoreError::Conflict`] when the
    /// stage was decided meanwhile or the request is no longer pending.
    async fn record_approval(
        &self,
        approval: Approval,
        stage_index: u32,
        status: RequestStatus,
        event: NewAuditEvent,
        execute: Option<NewJob>,
        route: Option<Route>,
    ) -> StoreResult<()>;

    /// Moves an approved request to `executing` (account and `provisioning` grant created) and
    /// records `event` when it starts; resumes or reports a finished one without writing.
    async fn begin_execution(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        account: Account,
        event: NewAuditEvent,
    ) -> StoreResult<ExecutionStart>;

    /// Ends an executing request with its evidence and audit event, in one transaction.
    async fn finish_execution(
        &self,
        request: RequestId,
        end: ExecutionEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Queues a job and records `event`; a job whose dedupe key is already queued is a replay.
    async fn enqueue_job(&self, job: NewJob, event: NewAuditEvent) -> StoreResult<Enqueued>;

    /// Leases due jobs: queued ones whose `run_after` has come, and running ones whose lease
    /// has expired. Jobs out of attempts whose lease expired are dead-lettered instead.
    async fn claim_jobs(&self, claim: ClaimRequest<'_>) -> StoreResult<Vec<ClaimedJob>>;

    /// Marks a leased job done. Fails with [`StoreError::LeaseLost`] if the lease is not held.
    async fn complete_job(&self, lease: &Lease, now: Timestamp) -> StoreResult<()>;

    /// Records a failed attempt: queued again for `retry_at`, or dead-lettered when it is out
    /// of attempts or `permanent`.
    async fn fail_job(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Timestamp,
        permanent: bool,
        now: Timestamp,
    ) -> StoreResult<JobFailure>;

    /// One job by id.
    async fn job(&self, id: JobId) -> StoreResult<Option<Job>>;

    /// The active principals in IdP group `group`, by id.
    async fn principals_in_group(&self, group: &str) -> StoreResult<Vec<Principal>>;

    /// Cancels a request that is pending approval or approved but not yet executing, with
    /// its audit event; returns the status it left. Anything else is a
    /// [`StoreError::Conflict`]: once a job has started, the change runs to its end.
    async fn cancel_request(
        &self,
        request: RequestId,
        event: NewAuditEvent,
    ) -> StoreResult<RequestStatus>;

    /// Gives a pending request a new plan, decision and first-stage route, with its audit
    /// event; a request no longer pending, or whose plan moved, is a [`StoreError::Conflict`].
    async fn change_plan(&self, change: PlanChange, event: NewAuditEvent) -> StoreResult<()>;

    /// Up to `limit` requests pending approval whose stage was due at or before `now`, most
    /// overdue first.
    async fn overdue_requests(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<Request>>;

    /// Escalates an overdue stage to `route`, with its audit event; a request that moved since
    /// it was `seen` is a [`StoreError::Conflict`].
    async fn escalate_request(
        &self,
        seen: Seen,
        route: Route,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Expires an overdue request nobody is left to escalate to, with its audit event; a
    /// request that moved since it was `seen` is a [`StoreError::Conflict`].
    async fn expire_request(&self, seen: Seen, event: NewAuditEvent) -> StoreResult<()>;

    /// Starts the expiry of up to `limit` active grants whose end is at or before `now`: each
    /// becomes `revoking`, with an `expire_grant` job and a `grant.expiring` audit event, all
    /// in one transaction. Returns how many started.
    async fn start_expiries(&self, now: Timestamp, limit: u32) -> StoreResult<usize>;

    /// What revoking `grant` needs, or `None` if there is no such grant.
    async fn revocation_target(&self, grant: GrantId) -> StoreResult<Option<RevocationTarget>>;

    /// Ends a `revoking` grant's revocation with its evidence (kept with the request that
    /// granted it) and audit event; a grant not `revoking` is a [`StoreError::Conflict`].
    async fn finish_revocation(
        &self,
        grant: GrantId,
        end: RevocationEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Moves an approved `revoke` or `offboard` request to `executing`, marking the grants it
    /// ends `revoking`, with `event`; resumes one already executing without writing, and
    /// reports a finished one. Returns what to remove on the targets.
    async fn begin_removal(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        event: NewAuditEvent,
    ) -> StoreResult<RemovalStart>;

    /// Ends an executing `revoke` or `offboard` request with its evidence and audit event:
    /// fulfilled (grants `revoked`; for an offboarding, accounts `disabled` and the identity
    /// `decommissioned`) or failed (grants `failed`).
    async fn finish_removal(
        &self,
        request: RequestId,
        end: RevocationEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// One principal by id.
    async fn principal(&self, id: PrincipalId) -> StoreResult<Option<Principal>>;

    /// Active identities whose owner is no longer active, with the owner who
    /// left: those no transfer in flight hands on and that writ has not already tried to hand
    /// on (a refused, declined or expired hand-over by writ is an admin's to settle).
    async fn orphaned_identities(&self) -> StoreResult<Vec<(Identity, Principal)>>;

    /// The owners of the systems where `identity` has accounts, active ones only.
    async fn system_owners_of(&self, identity: IdentityId) -> StoreResult<Vec<Principal>>;

    /// Executes an approved `transfer` request: the identity's owner becomes the request's new
    /// owner, read back in the same transaction, and the request is fulfilled, with `event`.
    /// Reports a request already past execution, or whose plan moved, without writing.
    async fn execute_transfer(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        event: NewAuditEvent,
    ) -> StoreResult<Transferred>;

    /// Active identities whose owner left and whose hand-over by writ has waited since
    /// `cutoff` or longer without being accepted: due to be suspended.
    async fn due_suspensions(&self, cutoff: Timestamp) -> StoreResult<Vec<IdentityId>>;

    /// The accounts of `identity`, with their systems.
    async fn accounts_of(&self, identity: IdentityId) -> StoreResult<Vec<AccountTarget>>;

    /// Marks an active identity `suspended` and its accounts `disabled` (grants stay), with
    /// its audit event; an identity no longer active is a [`StoreError::Conflict`].
    async fn suspend_identity(&self, identity: IdentityId, event: NewAuditEvent)
    -> StoreResult<()>;

    /// One break-glass post-use review.
    async fn review(&self, id: ReviewId) -> StoreResult<Option<PostUseReview>>;

    /// The post-use reviews a request opened.
    async fn reviews_of_request(&self, request: RequestId) -> StoreResult<Vec<PostUseReview>>;

    /// Closes an open review with its audit event; a review no longer open is a
    /// [`StoreError::Conflict`].
    async fn close_review(
        &self,
        id: ReviewId,
        closure: ReviewClosure,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Up to `limit` open reviews due at or before `now`, most overdue first.
    async fn overdue_reviews(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PostUseReview>>;

    /// Escalates an open review still due at `seen_due` to `assignee`, due again at `due_at`,
    /// with its audit event and the notifications telling the new reviewers; a review that
    /// moved meanwhile is a [`StoreError::Conflict`].
    async fn escalate_review(
        &self,
        id: ReviewId,
        seen_due: Timestamp,
        assignee: Option<PrincipalId>,
        due_at: Timestamp,
        notify: Vec<NewNotification>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Up to `limit` of `recipient`'s notifications older than `before` (from the newest when
    /// `None`), newest first.
    async fn notifications(
        &self,
        recipient: PrincipalId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>>;

    /// Requests of `kinds` submitted at or after `since`, counted by kind and status.
    async fn request_counts(
        &self,
        kinds: &[RequestKind],
        since: Timestamp,
    ) -> StoreResult<Vec<RequestCount>>;

    /// How many grants are past their end at `now` and not yet read back as removed.
    async fn overdue_expiries(&self, now: Timestamp) -> StoreResult<u64>;

    /// How long each grant that expired at or after `since` took from its end to the
    /// read-back that showed it gone (the expiry lag), in no particular order.
    async fn expiry_lags(&self, since: Timestamp) -> StoreResult<Vec<Duration>>;

    /// The facts a rotate request for `identity` on `system` is decided on.
    async fn rotation_context(
        &self,
        identity: IdentityId,
        system: writ_domain::SystemId,
    ) -> StoreResult<RotationContext>;

    /// Stores a decided rotate request as [`Store::submit_request`] does (number allocated,
    /// decision and audit event), with what it rotates, its sealed current credential and,
    /// when approved, its execute job, in one transaction.
    async fn submit_rotation(
        &self,
        request: Request,
        decision: RequestDecision,
        plan: RotationPlan,
        event: NewAuditEvent,
        execute: Option<NewJob>,
    ) -> StoreResult<Request>;

    /// Moves an approved rotate request to `executing` and records `event` when it starts;
    /// resumes one executing; reports one finished (wiping any secret still held for it).
    async fn begin_rotation(
        &self,
        request: RequestId,
        plan_hash: PlanHash,
        event: NewAuditEvent,
    ) -> StoreResult<RotationStart>;

    /// Keeps an executing rotation's new secret, sealed, before the target is touched; a
    /// secret kept by an earlier attempt wins and is returned instead.
    async fn stage_rotation_secret(
        &self,
        request: RequestId,
        new: SealedSecret,
        now: Timestamp,
    ) -> StoreResult<SealedSecret>;

    /// Ends a rotate request with its evidence and audit event (see [`RotationEnd`]).
    async fn finish_rotation(
        &self,
        request: RequestId,
        end: RotationEnd,
        evidence: Vec<Evidence>,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// The new secret of a rotate request still waiting for its one delivery.
    async fn credential_delivery(&self, request: RequestId) -> StoreResult<Option<Delivery>>;

    /// Deletes a delivered secret's sealed row, with its audit event: the one reveal. A row
    /// already gone is a [`StoreError::Conflict`].
    async fn take_delivery(
        &self,
        request: RequestId,
        sealed: uuid::Uuid,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Every grant of `system`, whatever its status, with the account and entitlement keys it
    /// is live under, streamed in byte order of (account key, entitlement key): reconciliation
    /// merges it with sorted live state without holding either.
    fn governed_grants(&self, system: SystemId) -> BoxStream<'_, StoreResult<GovernedGrant>>;

    /// Every account of `system` mapped to an identity, streamed in byte order of its key.
    fn governed_accounts(&self, system: SystemId) -> BoxStream<'_, StoreResult<GovernedAccount>>;

    /// Records the gaps one reconciliation of `system` saw at `now`, in one transaction with
    /// one `finding.opened` audit event per new finding's batch: each opens a finding or
    /// updates the unresolved one with the same key. Returns the findings as they now stand.
    async fn record_findings(
        &self,
        system: SystemId,
        seen: Vec<SeenFinding>,
        now: Timestamp,
    ) -> StoreResult<Vec<Finding>>;

    /// Ends a reconciliation of `system` that started at `run.started_at`: every finding the
    /// run did not see again is resolved, and the run is kept, with a `reconciliation.finished`
    /// audit event. Returns the findings resolved.
    async fn finish_reconciliation(
        &self,
        run: ReconciliationRun,
        event: NewAuditEvent,
    ) -> StoreResult<Vec<FindingId>>;

    /// Reopens accepted findings whose acceptance ended at or before `now`, with one audit
    /// event each; returns them.
    async fn reopen_accepted(&self, now: Timestamp) -> StoreResult<Vec<Finding>>;

    /// Accepts an open finding, with its audit event; one not open is a
    /// [`StoreError::Conflict`].
    async fn accept_finding(
        &self,
        id: FindingId,
        acceptance: Acceptance,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Links an open finding to the governed request that remediates (or adopts) it: it
    /// becomes `remediating`, with its audit event; one not open is a
    /// [`StoreError::Conflict`].
    async fn remediate_finding(
        &self,
        id: FindingId,
        request: RequestId,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Moves a remediating finding back to `open` (its request ended without fixing it), with
    /// its audit event; `false`, and nothing written, when it is no longer remediating.
    async fn reopen_finding(
        &self,
        id: FindingId,
        note: &str,
        event: NewAuditEvent,
    ) -> StoreResult<bool>;

    /// One finding.
    async fn finding(&self, id: FindingId) -> StoreResult<Option<Finding>>;

    /// A page of findings in id order.
    async fn findings(&self, query: FindingQuery) -> StoreResult<Vec<Finding>>;

    /// The remediating findings of `system`, each with its request's kind and status.
    async fn remediating_findings(
        &self,
        system: SystemId,
    ) -> StoreResult<Vec<(Finding, RequestKind, RequestStatus)>>;

    /// The latest finished reconciliation of every system that has one.
    async fn latest_reconciliations(&self) -> StoreResult<Vec<ReconciliationRun>>;
    /// Up to `limit` requests that `filter` selects, newest first.
    async fn requests_page(&self, filter: RequestFilter, limit: u32) -> StoreResult<Vec<Request>>;

    /// Up to `limit` grants that `filter` selects, newest first.
    async fn grants_page(&self, filter: GrantFilter, limit: u32) -> StoreResult<Vec<Grant>>;

    /// Up to `limit` identities that `filter` selects, by name.
    async fn identities_page(
        &self,
        filter: IdentityFilter,
        limit: u32,
    ) -> StoreResult<Vec<Identity>>;

    /// Up to `limit` systems named after `after`, by name.
    async fn systems_page(&self, after: Option<String>, limit: u32) -> StoreResult<Vec<System>>;

    /// Up to `limit` entitlements that `filter` selects, by id.
    async fn entitlements_page(
        &self,
        filter: EntitlementFilter,
        limit: u32,
    ) -> StoreResult<Vec<Entitlement>>;

    /// One identity by id.
    async fn identity(&self, id: IdentityId) -> StoreResult<Option<Identity>>;

    /// One identity by its (unique) name.
    async fn identity_named(&self, name: &str) -> StoreResult<Option<Identity>>;

    /// One system by id.
    async fn system(&self, id: SystemId) -> StoreResult<Option<System>>;

    /// One system by its (unique) name.
    async fn system_named(&self, name: &str) -> StoreResult<Option<System>>;

    /// One entitlement by id.
    async fn entitlement(&self, id: EntitlementId) -> StoreResult<Option<Entitlement>>;

    /// One entitlement by its system and key.
    async fn entitlement_keyed(
        &self,
        system: SystemId,
        key: &str,
    ) -> StoreResult<Option<Entitlement>>;

    /// The names of these principals, identities and entitlements, read for them alone.
    async fn display_names(
        &self,
        principals: &[PrincipalId],
        identities: &[IdentityId],
        entitlements: &[EntitlementId],
    ) -> StoreResult<DisplayNames>;

    /// One principal by e-mail.
    async fn principal_by_email(&self, email: &str) -> StoreResult<Option<Principal>>;

    /// One principal by the identity provider's subject (its external id).
    async fn principal_by_external_id(&self, external_id: &str) -> StoreResult<Option<Principal>>;

    /// Every decision recorded on a request, oldest first.
    async fn approvals_of(&self, request: RequestId) -> StoreResult<Vec<Approval>>;

    /// Stores a new API token (its hash, never the token) with its audit event.
    async fn create_api_token(&self, token: ApiToken, event: NewAuditEvent) -> StoreResult<()>;

    /// The token with this hash, if any (revoked and expired ones included: the caller
    /// decides).
    async fn api_token(&self, hash: TokenHash) -> StoreResult<Option<ApiToken>>;

    /// The newest `limit` tokens (their hashes, never the tokens), or only those that work at
    /// `valid_at`.
    async fn api_tokens(
        &self,
        valid_at: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>>;

    /// Revokes a token at `now` with its audit event; an unknown token is
    /// [`StoreError::NotFound`], one already revoked a [`StoreError::Conflict`].
    async fn revoke_api_token(
        &self,
        id: ApiTokenId,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> StoreResult<ApiToken>;

    /// Leases up to `claim.limit` due outbox entries for `claim.lease_for`, counting the
    /// attempt; an entry waits while an earlier one of its request and destination is pending.
    async fn claim_outbox(&self, claim: ClaimRequest<'_>) -> StoreResult<Vec<OutboxEntry>>;

    /// Owes the outbound webhook `destination` each audit event appended since it last
    /// looked (up to `limit`), as outbox entries, in one transaction; an endpoint new to the
    /// store starts from the log's head. Returns how many were owed.
    async fn fan_out_events(
        &self,
        destination: &str,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<usize>;

    /// Marks a pending outbox entry delivered at `now`.
    async fn outbox_delivered(&self, id: OutboxId, now: Timestamp) -> StoreResult<()>;

    /// Records a failed delivery: tried again at `retry_at`, or dead-lettered (with an
    /// `outbox.dead_lettered` audit event) when `None`.
    async fn outbox_failed(
        &self,
        id: OutboxId,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<JobFailure>;

    /// Sends a dead outbox entry again, with its audit event; an entry not dead is a
    /// [`StoreError::Conflict`].
    async fn redeliver_outbox(&self, id: OutboxId, event: NewAuditEvent) -> StoreResult<()>;

    /// Up to `limit` outbox entries in `state` (any when `None`) after `after`, oldest first.
    async fn outbox_page(
        &self,
        state: Option<OutboxState>,
        after: Option<OutboxId>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEntry>>;

    /// How many outbox entries are pending and how many dead.
    async fn undelivered_outbox(&self) -> StoreResult<(u64, u64)>;

    /// Whether `source` delivered `delivery` before (it was handled: a replay).
    async fn inbound_seen(&self, source: &str, delivery: &str) -> StoreResult<bool>;

    /// Records an inbound delivery by the sender's id once it was handled; `false`, and
    /// nothing written, when the same source delivered it before (a replay).
    async fn record_inbound(
        &self,
        source: &str,
        delivery: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Records a ticket refused before it became a request (it names no catalog entitlement
    /// or registered identity), as `rejected` with its reason, with `event`, and owes the
    /// ticket a note saying why. A ticket that already made a request is
    /// [`StoreError::TicketTaken`], and nothing is written.
    async fn refuse_ticket(&self, ticket: TicketRecord, event: NewAuditEvent) -> StoreResult<()>;

    /// The ticket `key` of desk `source`, if writ received it.
    async fn ticket(&self, source: &str, key: &str) -> StoreResult<Option<TicketRecord>>;

    /// Saves a received ticket's mapped fields (the desk approvers taken as evidence) with
    /// `event`, which records that evidence.
    async fn save_ticket_fields(
        &self,
        ticket: ExternalRef,
        fields: TicketFields,
        event: NewAuditEvent,
    ) -> StoreResult<()>;

    /// Up to `limit` received tickets with `outcome` (any when `None`) after `after`, in the
    /// order received.
    async fn tickets_page(
        &self,
        outcome: Option<TicketOutcome>,
        after: Option<TicketId>,
        limit: u32,
    ) -> StoreResult<Vec<TicketRecord>>;
}
