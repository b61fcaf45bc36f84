//! Background jobs: a typed payload per kind of work, and the job's place in its queue.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::id::{GrantId, IdentityId, JobId, RequestId, SystemId};
use crate::plan::PlanHash;
use crate::time::Timestamp;

/// The work a job does. Stored as JSON tagged by `kind`, never as a prefixed string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// Carry out an approved request on its target and verify it by read-back.
    ExecuteRequest {
        /// The request to execute.
        request_id: RequestId,
        /// The plan hash the approvals were bound to.
        plan_hash: PlanHash,
    },
    /// Revoke a grant whose time is up, and verify the access is gone.
    ExpireGrant {
        /// The grant that ends.
        grant_id: GrantId,
    },
    /// Disable every account of an identity nobody took over in time (grants are kept), and
    /// verify it.
    SuspendIdentity {
        /// The identity to suspend.
        identity_id: IdentityId,
    },
    /// Compare a system's live state with governed state.
    ReconcileSystem {
        /// The system to reconcile.
        system_id: SystemId,
    },
}

impl JobPayload {
    /// The kind of work, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            JobPayload::ExecuteRequest { .. } => "execute_request",
            JobPayload::ExpireGrant { .. } => "expire_grant",
            JobPayload::SuspendIdentity { .. } => "suspend_identity",
            JobPayload::ReconcileSystem { .. } => "reconcile_system",
        }
    }

    /// The key under which this work is queued at most once, so a replayed job is recognised:
    /// an execution is keyed by request and plan hash, an expiry by grant. Reconciliation runs
    /// repeatedly and has none.
    pub fn dedupe_key(&self) -> Option<String> {
        match self {
            JobPayload::ExecuteRequest {
                request_id,
                plan_hash,
            } => Some(format!("execute_request:{request_id}:{plan_hash}")),
            JobPayload::ExpireGrant { grant_id } => Some(format!("expire_grant:{grant_id}")),
            JobPayload::SuspendIdentity { identity_id } => {
                Some(format!("suspend_identity:{identity_id}"))
            }
            JobPayload::ReconcileSystem { .. } => None,
        }
    }
}

/// Where a job is in its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for `run_after`.
    Queued,
    /// Claimed by a worker whose lease has not yet expired.
    Running,
    /// Finished.
    Done,
    /// Failed for good: retries exhausted or a permanent error.
    Dead,
}

impl JobState {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "queued" => Ok(JobState::Queued),
            "running" => Ok(JobState::Running),
            "done" => Ok(JobState::Done),
            "dead" => Ok(JobState::Dead),
            _ => Err(ParseError::new(
                "job state",
                s,
                "expected one of queued, running, done, dead",
            )),
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// The work.
    pub payload: JobPayload,
    /// Not before this instant.
    pub run_after: Timestamp,
    /// How many claims it gets before it is dead-lettered.
    pub max_attempts: u32,
}

impl NewJob {
    /// Default number of attempts before a job is dead-lettered.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

    /// A job that may run from `run_after`, with the default attempt limit.
    pub fn new(payload: JobPayload, run_after: Timestamp) -> Self {
        Self {
            payload,
            run_after,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The work.
    pub payload: JobPayload,
    /// Where it is in the queue.
    pub state: JobState,
    /// Not before this instant.
    pub run_after: Timestamp,
    /// How many times it has been claimed.
    pub attempts: u32,
    /// How many claims it gets before it is dead-lettered.
    pub max_attempts: u32,
    /// The worker holding its lease, while running.
    pub lease_owner: Option<String>,
    /// When that lease runs out.
    pub lease_expires_at: Option<Timestamp>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: Timestamp,
}

/// Proof that a worker holds a job: only the holder of the current lease may finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job_id: JobId,
    /// Unique to one claim; a worker whose lease expired and was re-claimed no longer matches.
    pub token: uuid::Uuid,
}

/// A job claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The job as it stands after the claim (attempts counts this one).
    pub job: Job,
    /// The lease to finish it with.
    pub lease: Lease,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_tagged_by_kind() {
        let payload = JobPayload::ExpireGrant {
            grant_id: GrantId::new(),
        };
        let json = serde_json::to_value(&payload).unwrap();
        assert_eq!(json["kind"], "expire_grant");
        assert_eq!(json["kind"], payload.kind());
        assert_eq!(serde_json::from_value::<JobPayload>(json).unwrap(), payload);
    }

    #[test]
    fn execution_is_keyed_by_request_and_plan() {
        let request_id = RequestId::new();
        let a = JobPayload::ExecuteRequest {
            request_id,
            plan_hash: "aa".repeat(32).parse().unwrap(),
        };
        let b = JobPayload::ExecuteRequest {
            request_id,
            plan_hash: "bb".repeat(32).parse().unwrap(),
        };
        assert_ne!(a.dedupe_key(), b.dedupe_key());
        assert_eq!(a.dedupe_key(), a.clone().dedupe_key());
    }

    #[test]
    fn job_states_round_trip() {
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Dead,
        ] {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        assert!("paused".parse::<JobState>().is_err());
    }
}
