//! Row shapes shared by both adapters, and their conversion into domain values.
//!
//! Rows are read as tuples (sqlx implements `FromRow` for them without its macros), so both
//! adapters select the same columns in the same order and convert through one function.

use writ_domain::audit::{Actor, AuditEvent, AuditHash, NewAuditEvent, SubjectRef};
use writ_domain::job::{ClaimedJob, Job, JobPayload, Lease};
use writ_domain::{
    EntitlementId, IdentityId, JobId, PlanHash, PrincipalId, Request, RequestId, RequestNumber,
    Timestamp,
};

use crate::error::StoreError;
use crate::{JobFailure, RequestDecision};

/// `seq, at, actor, action, subjects, data, prev_hash, hash`
pub(crate) type AuditRow = (i64, i64, String, String, String, String, Vec<u8>, Vec<u8>);

/// The columns of [`AuditRow`], in order, as a literal for `concat!`.
macro_rules! audit_columns {
    () => {
        "seq, at, actor, action, subjects, data, prev_hash, hash"
    };
}
pub(crate) use audit_columns;

pub(crate) fn audit_event(row: AuditRow) -> Result<AuditEvent, StoreError> {
    let (seq, at, actor, action, subjects, data, prev_hash, hash) = row;
    let what = || format!("audit event {seq}");
    Ok(AuditEvent {
        seq: u64::try_from(seq).map_err(|e| StoreError::corrupt(what(), e))?,
        at: Timestamp::from_micros(at),
        actor,
        action,
        subjects: serde_json::from_str(&subjects).map_err(|e| StoreError::corrupt(what(), e))?,
        data,
        prev_hash: AuditHash::from_slice(&prev_hash).map_err(|e| StoreError::corrupt(what(), e))?,
        hash: AuditHash::from_slice(&hash).map_err(|e| StoreError::corrupt(what(), e))?,
    })
}

/// The newest event's seq and hash, as read from the log.
pub(crate) fn audit_head(seq: i64, hash: &[u8]) -> Result<(u64, AuditHash), StoreError> {
    Ok((
        u64::try_from(seq).map_err(|e| StoreError::corrupt("audit head", e))?,
        AuditHash::from_slice(hash).map_err(|e| StoreError::corrupt("audit head", e))?,
    ))
}

/// The stored text of an event's subjects: a JSON array of `kind:id` strings.
pub(crate) fn subjects_text(event: &AuditEvent) -> String {
    serde_json::Value::from(event.subjects.clone()).to_string()
}

/// `id, payload, state, run_after, attempts, max_attempts, lease_owner, lease_expires_at,
/// last_error, created_at`
pub(crate) type JobRow = (
    uuid::Uuid,
    String,
    String,
    i64,
    i32,
    i32,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
);

/// The columns of [`JobRow`], in order, as a literal for `concat!`.
macro_rules! job_columns {
    () => {
        "id, payload, state, run_after, attempts, max_attempts, lease_owner, lease_expires_at, \
         last_error, created_at"
    };
}
pub(crate) use job_columns;

pub(crate) fn job(row: JobRow) -> Result<Job, StoreError> {
    let (
        id,
        payload,
        state,
        run_after,
        attempts,
        max_attempts,
        lease_owner,
        lease_expires_at,
        last_error,
        created_at,
    ) = row;
    let what = || format!("job {id}");
    Ok(Job {
        id: JobId::from_uuid(id),
        payload: serde_json::from_str::<JobPayload>(&payload)
            .map_err(|e| StoreError::corrupt(what(), e))?,
        state: state.parse().map_err(|e| StoreError::corrupt(what(), e))?,
        run_after: Timestamp::from_micros(run_after),
        attempts: u32::try_from(attempts).map_err(|e| StoreError::corrupt(what(), e))?,
        max_attempts: u32::try_from(max_attempts).map_err(|e| StoreError::corrupt(what(), e))?,
        lease_owner,
        lease_expires_at: lease_expires_at.map(Timestamp::from_micros),
        last_error,
        created_at: Timestamp::from_micros(created_at),
    })
}

pub(crate) fn job_payload_text(payload: &JobPayload) -> Result<String, StoreError> {
    serde_json::to_string(payload).map_err(|e| StoreError::corrupt("job payload", e))
}

/// The audit event recorded when a job is dead-lettered.
pub(crate) fn dead_letter_event(
    job_id: JobId,
    kind: &str,
    attempts: i32,
    error: &str,
    now: Timestamp,
) -> NewAuditEvent {
    NewAuditEvent::new(now, Actor::system("job-runner"), "job.dead_lettered")
        .subject(SubjectRef::new("job", job_id))
        .data(serde_json::json!({ "kind": kind, "attempts": attempts, "error": error }))
}

/// Keeps stored error text bounded: a connector may return a whole HTML page.
pub(crate) fn bounded_error(error: &str) -> String {
    const MAX: usize = 4_000;
    if error.len() <= MAX {
        return error.to_string();
    }
    let mut end = MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

/// Jobs just leased under `token`, oldest due first.
pub(crate) fn claimed(rows: Vec<JobRow>, token: uuid::Uuid) -> Result<Vec<ClaimedJob>, StoreError> {
    let mut claimed = rows
        .into_iter()
        .map(|row| {
            let job = job(row)?;
            let lease = Lease {
                job_id: job.id,
                token,
            };
            Ok(ClaimedJob { job, lease })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    claimed.sort_by_key(|c| (c.job.run_after, c.job.id));
    Ok(claimed)
}

/// What a failed attempt became, from the job's state after the update, and the audit event
/// to record when it was dead-lettered.
pub(crate) fn failure(
    job_id: JobId,
    state: &str,
    kind: &str,
    attempts: i32,
    error: &str,
    retry_at: Timestamp,
    now: Timestamp,
) -> (JobFailure, Option<NewAuditEvent>) {
    if state == "dead" {
        let event = dead_letter_event(job_id, kind, attempts, error, now);
        (JobFailure::DeadLettered, Some(event))
    } else {
        (JobFailure::Retried(retry_at), None)
    }
}

/// Parses a stored text column into its domain type.
pub(crate) fn parsed<T>(what: &str, text: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| StoreError::corrupt(what, e))
}

/// Reads a stored JSON column.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(what, e))
}

/// Writes a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(what, e))
}

/// A stored TTL in whole seconds.
pub(crate) fn ttl(what: &str, secs: i64) -> Result<writ_domain::Ttl, StoreError> {
    let secs = u64::try_from(secs).map_err(|e| StoreError::corrupt(what, e))?;
    writ_domain::Ttl::from_secs(secs).map_err(|e| StoreError::corrupt(what, e))
}

/// A value bound to a numbered placeholder of a query built from constants (filters).
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// An id.
    Uuid(uuid::Uuid),
    /// An integer (a number, an instant in microseconds).
    Int(i64),
    /// Text (a status, a name).
    Text(String),
    /// Bytes (a hash).
    Bytes(Vec<u8>),
}

/// `query` (a sqlx `query`, `query_as` or `query_scalar`) with `args` bound in order.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::rows::Arg::Uuid(value) => query.bind(value),
                $crate::rows::Arg::Int(value) => query.bind(value),
                $crate::rows::Arg::Text(value) => query.bind(value),
                $crate::rows::Arg::Bytes(value) => query.bind(value),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// The `WHERE` clauses of a filtered list and the values they bind, numbered in order.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Filters {
    /// Adds `clause`, whose `$?` is replaced by the next placeholder number, binding `arg`.
    pub(crate) fn and(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses
            .push(clause.replace("$?", &format!("${}", self.args.len())));
    }

    /// Adds `clause` with two `$?`, numbered in order, binding `first` and `second`.
    pub(crate) fn and_pair(&mut self, clause: &str, first: Arg, second: Arg) {
        self.args.push(first);
        let clause = clause.replacen("$?", &format!("${}", self.args.len()), 1);
        self.args.push(second);
        let clause = clause.replacen("$?", &format!("${}", self.args.len()), 1);
        self.clauses.push(clause);
    }

    /// Adds `clause` when `arg` is given.
    pub(crate) fn and_some<T>(
        &mut self,
        clause: &str,
        value: Option<T>,
        arg: impl FnOnce(T) -> Arg,
    ) {
        if let Some(value) = value {
            self.and(clause, arg(value));
        }
    }

    /// `WHERE a AND b …`, or nothing when there is no clause, and the values to bind.
    pub(crate) fn into_parts(self) -> (String, Vec<Arg>) {
        let sql = if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        };
        (sql, self.args)
    }
}

/// A request row's columns as stored, before they are checked.
pub(crate) struct RequestColumns {
    pub(crate) id: uuid::Uuid,
    pub(crate) number: i64,
    pub(crate) kind: String,
    pub(crate) requester_id: uuid::Uuid,
    pub(crate) identity_id: uuid::Uuid,
    pub(crate) entitlement_id: Option<uuid::Uuid>,
    pub(crate) justification: String,
    pub(crate) requested_ttl_secs: Option<i64>,
    pub(crate) requested_end: Option<i64>,
    pub(crate) new_owner_id: Option<uuid::Uuid>,
    pub(crate) category: String,
    pub(crate) status: String,
    pub(crate) plan_hash: Option<Vec<u8>>,
    pub(crate) decision: String,
    pub(crate) policy_set_hash: String,
    pub(crate) external_ref: Option<String>,
    pub(crate) sla_due: Option<i64>,
    pub(crate) assignee_id: Option<uuid::Uuid>,
    pub(crate) escalation: i32,
    pub(crate) created_at: i64,
}

/// Reads [`RequestColumns`] by name with `$get`: sqlx's `try_get` or rusqlite's `get`, whose
/// errors both convert into [`StoreError`].
macro_rules! request_columns {
    ($row:expr, $get:ident) => {
        $crate::rows::RequestColumns {
            id: $row.$get("id")?,
            number: $row.$get("number")?,
            kind: $row.$get("kind")?,
            requester_id: $row.$get("requester_id")?,
            identity_id: $row.$get("identity_id")?,
            entitlement_id: $row.$get("entitlement_id")?,
            justification: $row.$get("justification")?,
            requested_ttl_secs: $row.$get("requested_ttl_secs")?,
            requested_end: $row.$get("requested_end")?,
            new_owner_id: $row.$get("new_owner_id")?,
            category: $row.$get("category")?,
            status: $row.$get("status")?,
            plan_hash: $row.$get("plan_hash")?,
            decision: $row.$get("decision")?,
            policy_set_hash: $row.$get("policy_set_hash")?,
            external_ref: $row.$get("external_ref")?,
            sla_due: $row.$get("sla_due")?,
            assignee_id: $row.$get("assignee_id")?,
            escalation: $row.$get("escalation")?,
            created_at: $row.$get("created_at")?,
        }
    };
}
pub(crate) use request_columns;

/// A stored request number, which must be positive.
pub(crate) fn request_number(n: i64) -> Result<RequestNumber, StoreError> {
    let n = u64::try_from(n).map_err(|e| StoreError::corrupt("request number", e))?;
    RequestNumber::new(n).map_err(|e| StoreError::corrupt("request number", e))
}

/// A request and the decision it was submitted under, from its stored columns.
pub(crate) fn request_from(
    columns: RequestColumns,
) -> Result<(Request, RequestDecision), StoreError> {
    let what = format!("request {}", columns.id);
    let what = what.as_str();
    let request = Request {
        id: RequestId::from_uuid(columns.id),
        number: request_number(columns.number)?,
        kind: parsed(what, &columns.kind)?,
        requester: PrincipalId::from_uuid(columns.requester_id),
        identity: IdentityId::from_uuid(columns.identity_id),
        entitlement: columns.entitlement_id.map(EntitlementId::from_uuid),
        justification: columns.justification,
        requested_ttl: columns
            .requested_ttl_secs
            .map(|secs| ttl(what, secs))
            .transpose()?,
        requested_end: columns.requested_end.map(Timestamp::from_micros),
        new_owner: columns.new_owner_id.map(PrincipalId::from_uuid),
        category: parsed(what, &columns.category)?,
        status: parsed(what, &columns.status)?,
        plan_hash: columns
            .plan_hash
            .map(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).map(PlanHash::from_bytes))
            .transpose()
            .map_err(|e| StoreError::corrupt(what, e))?,
        external_ref: columns
            .external_ref
            .map(|text| from_json(what, &text))
            .transpose()?,
        created_at: Timestamp::from_micros(columns.created_at),
        sla_due: columns.sla_due.map(Timestamp::from_micros),
        assignee: columns.assignee_id.map(PrincipalId::from_uuid),
        escalation: u32::try_from(columns.escalation).map_err(|e| StoreError::corrupt(what, e))?,
    };
    let decision = RequestDecision {
        record: from_json(what, &columns.decision)?,
        policy_set_hash: columns.policy_set_hash,
    };
    Ok((request, decision))
}
