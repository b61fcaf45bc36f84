//! What a decision returns. The storable record ([`DecisionRecord`]) is plain data; the
//! permission to go on ([`SubmitPermit`], [`ApprovalPermit`]) can only be made inside this
//! crate, so a use case that takes a permit cannot be called without an allowed decision.

use std::fmt;
use std::str::FromStr;

use writ_domain::{
    ApprovalDecision, EntitlementId, IdentityId, Name, ParseError, PlanHash, PrincipalId,
    RequestKind,
};

/// The SHA-256 hash of a loaded policy set (its schema and every policy); stored on each
/// decision so it can be traced to the policies that made it. 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicySetHash([u8; 32]);

impl PolicySetHash {
    /// Wraps hash bytes read back from storage.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for PolicySetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PolicySetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicySetHash({self})")
    }
}

impl FromStr for PolicySetHash {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ParseError::new(
                "policy set hash",
                s,
                "must be 64 lowercase hex digits",
            ));
        }
        hex::decode_to_slice(s, &mut bytes)
            .map_err(|e| ParseError::new("policy set hash", s, e.to_string()))?;
        Ok(Self(bytes))
    }
}

impl TryFrom<String> for PolicySetHash {
    type Error = ParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PolicySetHash> for String {
    fn from(hash: PolicySetHash) -> String {
        hash.to_string()
    }
}

/// One reason a request was refused, in plain words, with the policy that gave it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reason {
    /// The refusing policy's id, or one of [`DEFAULT_DENY`], [`REQUEST_SHAPE`],
    /// [`EVALUATION_ERROR`].
    pub policy_id: String,
    /// What is wrong, as the requester reads it.
    pub message: String,
}

/// The reason id when no policy permits a request.
pub const DEFAULT_DENY: &str = "default_deny";
/// The reason id when a request lacks what its kind needs (an entitlement, a new owner).
pub const REQUEST_SHAPE: &str = "request_shape";
/// The reason id when a policy or the request could not be evaluated; writ then refuses.
pub const EVALUATION_ERROR: &str = "evaluation_error";

/// A decision as stored on a request or approval.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DecisionRecord {
    /// Whether the request (or approval) is allowed.
    pub allowed: bool,
    /// Every reason for a refusal, in policy order; empty when allowed.
    pub reasons: Vec<Reason>,
    /// The ids of the policies that determined the outcome: the permits that allowed it, or
    /// the forbids that refused it.
    pub policy_ids: Vec<String>,
    /// The policy set that decided.
    pub policy_set_hash: PolicySetHash,
}

/// The outcome of a decision: a permit to go on, or the refusal with its reasons.
#[derive(Debug)]
#[must_use = "a decision refuses or permits; a use case needs its permit"]
pub enum Decision<P> {
    /// Allowed; the permit is what the use case takes.
    Allowed(P),
    /// Refused, with every reason.
    Refused(DecisionRecord),
}

/// A permit: proof that policy allowed something, made only by writ-policy.
pub trait Permit: sealed::Sealed {
    /// The decision that issued the permit.
    fn record(&self) -> &DecisionRecord;
}

mod sealed {
    /// Keeps [`super::Permit`] implemented by this crate's permits only.
    pub trait Sealed {}
}

impl<P: Permit> Decision<P> {
    /// Whether the decision allows.
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_))
    }

    /// The decision as stored.
    pub fn record(&self) -> &DecisionRecord {
        match self {
            Decision::Allowed(permit) => permit.record(),
            Decision::Refused(record) => record,
        }
    }

    /// Every reason of a refusal; empty when allowed.
    pub fn reasons(&self) -> &[Reason] {
        &self.record().reasons
    }

    /// The ids of the determining policies.
    pub fn policy_ids(&self) -> &[String] {
        &self.record().policy_ids
    }

    /// The hash of the policy set that decided.
    pub fn policy_set_hash(&self) -> PolicySetHash {
        self.record().policy_set_hash
    }

    /// The permit, or the refusal's record.
    pub fn into_permit(self) -> Result<P, DecisionRecord> {
        match self {
            Decision::Allowed(permit) => Ok(permit),
            Decision::Refused(record) => Err(record),
        }
    }
}

/// Permission to record a submitted request: policy allowed `requester` to ask for `kind` on
/// `identity` (and `entitlement`).
#[derive(Debug, PartialEq, Eq)]
pub struct SubmitPermit {
    pub(crate) record: DecisionRecord,
    pub(crate) kind: RequestKind,
    pub(crate) requester: PrincipalId,
    pub(crate) identity: IdentityId,
    pub(crate) entitlement: Option<EntitlementId>,
}

impl SubmitPermit {
    /// The kind of request permitted.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// Who may submit it.
    pub fn requester(&self) -> PrincipalId {
        self.requester
    }

    /// The identity it is for.
    pub fn identity(&self) -> IdentityId {
        self.identity
    }

    /// The entitlement it names, if any.
    pub fn entitlement(&self) -> Option<EntitlementId> {
        self.entitlement
    }

    /// The decision, to store on the request.
    pub fn into_record(self) -> DecisionRecord {
        self.record
    }
}

impl sealed::Sealed for SubmitPermit {}

impl Permit for SubmitPermit {
    fn record(&self) -> &DecisionRecord {
        &self.record
    }
}

/// Permission to record one approval: policy allowed `approver` to decide `stage` of the plan
/// whose hash is `plan_hash`.
#[derive(Debug, PartialEq, Eq)]
pub struct ApprovalPermit {
    pub(crate) record: DecisionRecord,
    pub(crate) approver: PrincipalId,
    pub(crate) stage: Name,
    pub(crate) decision: ApprovalDecision,
    pub(crate) plan_hash: PlanHash,
}

impl ApprovalPermit {
    /// Who may decide.
    pub fn approver(&self) -> PrincipalId {
        self.approver
    }

    /// The stage they may decide.
    pub fn stage(&self) -> &Name {
        &self.stage
    }

    /// Their verdict.
    pub fn decision(&self) -> ApprovalDecision {
        self.decision
    }

    /// The plan the approval binds to.
    pub fn plan_hash(&self) -> PlanHash {
        self.plan_hash
    }

    /// The decision, to store on the approval.
    pub fn into_record(self) -> DecisionRecord {
        self.record
    }
}

impl sealed::Sealed for ApprovalPermit {}

impl Permit for ApprovalPermit {
    fn record(&self) -> &DecisionRecord {
        &self.record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_set_hash_round_trips_through_hex_text() {
        let hash = PolicySetHash::from_bytes([0xab; 32]);
        let text = hash.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<PolicySetHash>(), Ok(hash));
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<PolicySetHash>(&json).unwrap(), hash);
        assert!("AB".repeat(32).parse::<PolicySetHash>().is_err());
    }

    #[test]
    fn a_decision_record_serializes_for_storage() {
        let record = DecisionRecord {
            allowed: false,
            reasons: vec![Reason {
                policy_id: "ttl_within_max".into(),
                message: "requested TTL 30d exceeds the maximum of 1w".into(),
            }],
            policy_ids: vec!["ttl_within_max".into()],
            policy_set_hash: PolicySetHash::from_bytes([1; 32]),
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<DecisionRecord>(&json).unwrap(),
            record
        );
    }
}
