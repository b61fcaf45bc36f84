//! Requests: the tickets, one governed change each, and their lifecycle from submission to
//! a fulfilment proven by the live state.

use std::fmt;
use std::str::FromStr;

use crate::error::{IllegalTransition, ParseError};
use crate::id::{EntitlementId, IdentityId, PrincipalId, RequestId, SystemId};
use crate::kinds::{Category, RequestKind, string_enum};
use crate::name::AccountKey;
use crate::plan::{Plan, PlanHash};
use crate::time::Timestamp;
use crate::ttl::Ttl;

/// One governed change: a grant, revocation, rotation, offboarding, break-glass elevation,
/// exception or ownership transfer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Request {
    /// writ's id.
    pub id: RequestId,
    /// The human-facing number, `REQ-000123`.
    pub number: RequestNumber,
    /// What change is asked for.
    pub kind: RequestKind,
    /// Who asked; never an approver of this request.
    pub requester: PrincipalId,
    /// The registered identity the change is for.
    pub identity: IdentityId,
    /// The catalog entitlement, for kinds that name one.
    pub entitlement: Option<EntitlementId>,
    /// Why the change is needed, in the requester's words.
    pub justification: String,
    /// How long the access should last, counted from fulfilment.
    pub requested_ttl: Option<Ttl>,
    /// When the access must end at the latest.
    pub requested_end: Option<Timestamp>,
    /// The principal who becomes the identity's owner (`transfer` only).
    pub new_owner: Option<PrincipalId>,
    /// Routing category, derived from kind, risk and environment.
    pub category: Category,
    /// Where the request is in its lifecycle.
    pub status: RequestStatus,
    /// The hash of the plan approvals bind to, once the plan is known.
    pub plan_hash: Option<PlanHash>,
    /// The service-desk ticket the request came from or is mirrored to.
    pub external_ref: Option<ExternalRef>,
    /// When it was submitted.
    pub created_at: Timestamp,
    /// When the current stage's SLA runs out.
    pub sla_due: Option<Timestamp>,
    /// Who is asked to decide the current stage, if anyone can.
    pub assignee: Option<PrincipalId>,
    /// How many times the current stage has escalated past its SLA (0: not yet).
    pub escalation: u32,
}

impl Request {
    /// Moves the request along its lifecycle; on refusal the request is left unchanged.
    pub fn apply(&mut self, event: RequestEvent) -> Result<(), IllegalTransition> {
        self.status = self.status.apply(event)?;
        Ok(())
    }

    /// The plan this request executes in `system` on the account `account_key`.
    pub fn plan(&self, system: Option<SystemId>, account_key: Option<AccountKey>) -> Plan {
        Plan {
            kind: self.kind,
            identity: self.identity,
            system,
            account_key,
            entitlement: self.entitlement,
            ttl: self.requested_ttl,
            end: self.requested_end,
            new_owner: self.new_owner,
        }
    }
}

/// A request's human-facing number, written `REQ-` and at least six digits.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct RequestNumber(u64);

impl RequestNumber {
    /// The number `n`; numbering starts at 1.
    pub fn new(n: u64) -> Result<Self, ParseError> {
        if n == 0 {
            return Err(ParseError::new(
                "request number",
                "0",
                "numbering starts at 1",
            ));
        }
        Ok(Self(n))
    }

    /// The number without its prefix.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "REQ-{:06}", self.0)
    }
}

impl FromStr for RequestNumber {
    type Err = ParseError;

    /// Parses `REQ-000123`; the zero padding may be left out (`REQ-123`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s
            .strip_prefix("REQ-")
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or_else(|| {
                ParseError::new("request number", s, "must be `REQ-` followed by digits")
            })?;
        Self::new(n).map_err(|e| ParseError::new("request number", s, e.reason))
    }
}

impl TryFrom<String> for RequestNumber {
    type Error = ParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RequestNumber> for String {
    fn from(number: RequestNumber) -> String {
        number.to_string()
    }
}

/// A ticket in a service desk (Jira, ServiceNow): an input to writ, never the authority.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExternalRef {
    /// Which service desk, e.g. `jira`.
    pub system: String,
    /// The ticket's key there, e.g. `OPS-123`.
    pub key: String,
    /// A link to the ticket, when the desk has one.
    pub url: Option<String>,
}

string_enum! {
    /// Where a request is in its lifecycle.
    ///
    /// ```text
    /// submitted ──▶ rejected
    ///     │    └──(auto_approved)──────┐
    ///     ▼                            ▼
    /// pending_approval ──────────▶ approved ──▶ executing ──▶ verifying ──▶ fulfilled
    ///     │                            │          │    ▲          │
    ///     ├──▶ denied | expired        │          │    └──retry───┤
    ///     └──▶ cancelled ◀─────────────┘          └──▶ failed ◀───┘
    /// ```
    RequestStatus as "request status" {
        /// Received; policy has not decided yet.
        Submitted = "submitted",
        /// Refused by policy, with its reasons shown verbatim. Terminal.
        Rejected = "rejected",
        /// Waiting for its approval stages.
        PendingApproval = "pending_approval",
        /// An approver said no. Terminal.
        Denied = "denied",
        /// Withdrawn before execution. Terminal.
        Cancelled = "cancelled",
        /// The approval SLA ran out. Terminal.
        Expired = "expired",
        /// Every stage approved (or policy approved it); waiting to execute.
        Approved = "approved",
        /// A connector is making the change.
        Executing = "executing",
        /// The change is made; reading the live state back.
        Verifying = "verifying",
        /// The live state proves the change. Terminal.
        Fulfilled = "fulfilled",
        /// Execution or verification failed for good; raises a finding. Terminal.
        Failed = "failed",
    }
}

string_enum! {
    /// Something that happens to a request.
    RequestEvent as "request event" {
        /// Policy refused the request: submitted → rejected.
        PolicyRejected = "policy_rejected",
        /// Policy accepted the request and it needs approvals: submitted → pending_approval.
        PolicyAccepted = "policy_accepted",
        /// Policy accepted it with no approval needed (e.g. break-glass): submitted → approved.
        AutoApproved = "auto_approved",
        /// The last approval stage was satisfied: pending_approval → approved.
        AllStagesApproved = "all_stages_approved",
        /// An approver denied it: pending_approval → denied.
        Denied = "denied",
        /// The requester withdrew it: pending_approval or approved → cancelled.
        Cancelled = "cancelled",
        /// The approval SLA ran out: pending_approval → expired.
        ApprovalSlaExpired = "approval_sla_expired",
        /// A job started executing the plan: approved → executing.
        ExecutionStarted = "execution_started",
        /// The connector reported success: executing → verifying.
        ExecutionSucceeded = "execution_succeeded",
        /// The live state read back matches the plan: verifying → fulfilled.
        Verified = "verified",
        /// Execution or verification failed after its retries: executing or verifying → failed.
        Failed = "failed",
        /// The read-back did not match, so execution is retried: verifying → executing.
        RetryVerification = "retry_verification",
    }
}

impl RequestStatus {
    /// Whether the request is finished; a terminal status refuses every event.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Rejected
                | Self::Denied
                | Self::Cancelled
                | Self::Expired
                | Self::Fulfilled
                | Self::Failed
        )
    }

    /// The status after `event`, or the refusal when the lifecycle does not allow it here.
    ///
    /// A request may be cancelled while pending approval and also once approved but before a
    /// job has started executing it: nothing has touched the target yet, so withdrawing is
    /// still free. Once executing, the change runs to `fulfilled` or `failed` and undoing it is
    /// a new `revoke` request. A failed read-back returns the request to `executing` (the
    /// execution is idempotent, so re-running it is safe) until the retries are spent and it
    /// fails.
    pub fn apply(self, event: RequestEvent) -> Result<Self, IllegalTransition> {
        use RequestEvent as E;
        let next = match (self, event) {
            (Self::Submitted, E::PolicyRejected) => Self::Rejected,
            (Self::Submitted, E::PolicyAccepted) => Self::PendingApproval,
            (Self::Submitted, E::AutoApproved) => Self::Approved,
            (Self::PendingApproval, E::AllStagesApproved) => Self::Approved,
            (Self::PendingApproval, E::Denied) => Self::Denied,
            (Self::PendingApproval | Self::Approved, E::Cancelled) => Self::Cancelled,
            (Self::PendingApproval, E::ApprovalSlaExpired) => Self::Expired,
            (Self::Approved, E::ExecutionStarted) => Self::Executing,
            (Self::Executing, E::ExecutionSucceeded) => Self::Verifying,
            (Self::Verifying, E::Verified) => Self::Fulfilled,
            (Self::Verifying, E::RetryVerification) => Self::Executing,
            (Self::Executing | Self::Verifying, E::Failed) => Self::Failed,
            (from, event) => {
                return Err(IllegalTransition {
                    lifecycle: "request",
                    from: from.as_str(),
                    event: event.as_str(),
                });
            }
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use RequestEvent as E;
    use RequestStatus as S;

    /// The lifecycle diagram of DESIGN §2, written out independently of `apply`, as
    /// (from, event, to) in text form.
    const EDGES: &[(&str, &str, &str)] = &[
        ("submitted", "policy_rejected", "rejected"),
        ("submitted", "policy_accepted", "pending_approval"),
        ("submitted", "auto_approved", "approved"),
        ("pending_approval", "all_stages_approved", "approved"),
        ("pending_approval", "denied", "denied"),
        ("pending_approval", "cancelled", "cancelled"),
        ("pending_approval", "approval_sla_expired", "expired"),
        ("approved", "cancelled", "cancelled"),
        ("approved", "execution_started", "executing"),
        ("executing", "execution_succeeded", "verifying"),
        ("executing", "failed", "failed"),
        ("verifying", "verified", "fulfilled"),
        ("verifying", "retry_verification", "executing"),
        ("verifying", "failed", "failed"),
    ];

    const TERMINAL: &[&str] = &[
        "rejected",
        "denied",
        "cancelled",
        "expired",
        "fulfilled",
        "failed",
    ];

    fn edge(from: S, event: E) -> Option<&'static str> {
        EDGES
            .iter()
            .find(|(f, e, _)| *f == from.as_str() && *e == event.as_str())
            .map(|(_, _, to)| *to)
    }

    fn walk(events: &[E]) -> Result<S, IllegalTransition> {
        events
            .iter()
            .try_fold(S::Submitted, |status, event| status.apply(*event))
    }

    #[test]
    fn a_grant_walks_from_submission_to_fulfilment() {
        let path = [
            E::PolicyAccepted,
            E::AllStagesApproved,
            E::ExecutionStarted,
            E::ExecutionSucceeded,
            E::Verified,
        ];
        assert_eq!(walk(&path), Ok(S::Fulfilled));
    }

    #[test]
    fn policy_rejection_ends_a_submitted_request() {
        assert_eq!(S::Submitted.apply(E::PolicyRejected), Ok(S::Rejected));
    }

    #[test]
    fn break_glass_is_approved_without_stages() {
        assert_eq!(S::Submitted.apply(E::AutoApproved), Ok(S::Approved));
    }

    #[test]
    fn a_pending_request_can_be_denied_cancelled_or_expire() {
        assert_eq!(S::PendingApproval.apply(E::Denied), Ok(S::Denied));
        assert_eq!(S::PendingApproval.apply(E::Cancelled), Ok(S::Cancelled));
        assert_eq!(
            S::PendingApproval.apply(E::ApprovalSlaExpired),
            Ok(S::Expired)
        );
    }

    #[test]
    fn an_approved_request_can_still_be_cancelled_before_execution() {
        assert_eq!(S::Approved.apply(E::Cancelled), Ok(S::Cancelled));
    }

    #[test]
    fn an_executing_request_cannot_be_cancelled() {
        let err = S::Executing.apply(E::Cancelled).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal request transition: `cancelled` from `executing`"
        );
    }

    #[test]
    fn a_read_back_mismatch_retries_execution() {
        assert_eq!(S::Verifying.apply(E::RetryVerification), Ok(S::Executing));
    }

    #[test]
    fn execution_and_verification_can_fail() {
        assert_eq!(S::Executing.apply(E::Failed), Ok(S::Failed));
        assert_eq!(S::Verifying.apply(E::Failed), Ok(S::Failed));
    }

    #[test]
    fn a_request_is_not_fulfilled_without_verification() {
        assert!(S::Executing.apply(E::Verified).is_err());
        assert!(S::Approved.apply(E::ExecutionSucceeded).is_err());
    }

    #[test]
    fn a_request_is_not_approved_while_policy_has_not_decided() {
        assert!(S::Submitted.apply(E::AllStagesApproved).is_err());
        assert!(S::Submitted.apply(E::ExecutionStarted).is_err());
    }

    #[test]
    fn fulfilled_request_stays_fulfilled() {
        for event in E::ALL {
            assert!(
                S::Fulfilled.apply(*event).is_err(),
                "{event} left fulfilled"
            );
        }
    }

    #[test]
    fn every_status_and_event_follows_the_diagram() {
        for status in S::ALL {
            assert_eq!(
                status.is_terminal(),
                TERMINAL.contains(&status.as_str()),
                "{status}"
            );
            for event in E::ALL {
                let got = status.apply(*event).ok().map(S::as_str);
                assert_eq!(got, edge(*status, *event), "{status} on {event}");
            }
        }
    }

    #[test]
    fn a_refused_event_leaves_the_request_unchanged() {
        let mut request = sample_request();
        assert!(request.apply(E::Verified).is_err());
        assert_eq!(request.status, S::Submitted);
        request.apply(E::PolicyAccepted).unwrap();
        assert_eq!(request.status, S::PendingApproval);
    }

    #[test]
    fn the_plan_carries_what_the_request_asked_for() {
        let request = sample_request();
        let key = AccountKey::parse("svc").unwrap();
        let plan = request.plan(None, Some(key.clone()));
        assert_eq!(plan.identity, request.identity);
        assert_eq!(plan.ttl, request.requested_ttl);
        assert_eq!(plan.account_key, Some(key));
    }

    #[test]
    fn request_numbers_are_zero_padded_to_six_digits() {
        let number = RequestNumber::new(123).unwrap();
        assert_eq!(number.to_string(), "REQ-000123");
        assert_eq!("REQ-000123".parse(), Ok(number));
        assert_eq!("REQ-123".parse(), Ok(number));
        assert_eq!(
            RequestNumber::new(12_345_678).unwrap().to_string(),
            "REQ-12345678"
        );
    }

    #[test]
    fn request_numbers_refuse_other_text() {
        for bad in [
            "REQ-",
            "REQ-0",
            "req-1",
            "REQ--1",
            "REQ-+1",
            "REQ-1a",
            "123",
            "REQ-99999999999999999999",
        ] {
            assert!(
                bad.parse::<RequestNumber>().is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn request_numbers_serialize_as_text() {
        let number = RequestNumber::new(7).unwrap();
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"REQ-000007\"");
        assert_eq!(
            serde_json::from_str::<RequestNumber>("\"REQ-7\"").unwrap(),
            number
        );
    }

    fn sample_request() -> Request {
        Request {
            id: RequestId::new(),
            number: RequestNumber::new(1).unwrap(),
            kind: RequestKind::Grant,
            requester: PrincipalId::new(),
            identity: IdentityId::new(),
            entitlement: Some(EntitlementId::new()),
            justification: "nightly export".into(),
            requested_ttl: Some(Ttl::parse("8h").unwrap()),
            requested_end: None,
            new_owner: None,
            category: Category::ServiceAccount,
            status: S::Submitted,
            plan_hash: None,
            external_ref: None,
            created_at: Timestamp::EPOCH,
            sla_due: None,
            assignee: None,
            escalation: 0,
        }
    }

    proptest! {
        #[test]
        fn random_events_only_follow_the_diagram(
            events in proptest::collection::vec(proptest::sample::select(E::ALL.to_vec()), 0..40)
        ) {
            let mut status = S::Submitted;
            for event in events {
                let was_terminal = status.is_terminal();
                match status.apply(event) {
                    Ok(next) => {
                        prop_assert!(!was_terminal, "{} left terminal {}", event, status);
                        prop_assert_eq!(Some(next.as_str()), edge(status, event));
                        status = next;
                    }
                    Err(err) => {
                        prop_assert_eq!(edge(status, event), None);
                        prop_assert_eq!(err.from, status.as_str());
                        prop_assert_eq!(err.event, event.as_str());
                    }
                }
                if was_terminal {
                    prop_assert!(status.is_terminal());
                }
            }
        }
    }
}
