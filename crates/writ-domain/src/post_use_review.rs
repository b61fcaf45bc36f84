//! Break-glass post-use reviews: emergency access is granted at once, and someone accountable
//! looks at its use afterwards. Until the review is closed, no new grant of the entitlement to
//! the identity is accepted.

use crate::id::{EntitlementId, IdentityId, PrincipalId, RequestId, ReviewId};
use crate::kinds::string_enum;
use crate::time::Timestamp;

/// The review of one break-glass request's use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PostUseReview {
    /// writ's id.
    pub id: ReviewId,
    /// The break-glass request reviewed.
    pub request: RequestId,
    /// The identity that used the access.
    pub identity: IdentityId,
    /// The entitlement it used.
    pub entitlement: EntitlementId,
    /// Open until someone accountable closes it.
    pub status: ReviewStatus,
    /// Who is asked to review it: the identity's owner, then security once overdue.
    pub assignee: Option<PrincipalId>,
    /// When it is overdue.
    pub due_at: Timestamp,
    /// How many times it has escalated past its due time.
    pub escalation: u32,
    /// Who closed it, when, and what they found.
    pub closed: Option<ReviewClosure>,
}

/// How a review was closed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReviewClosure {
    /// Who closed it.
    pub by: PrincipalId,
    /// When.
    pub at: Timestamp,
    /// What they found, in their words.
    pub notes: String,
}

string_enum! {
    /// Where a post-use review stands.
    ReviewStatus as "review status" {
        /// Waiting for its reviewer; blocks new grants of the entitlement to the identity.
        Open = "open",
        /// Reviewed. Terminal.
        Closed = "closed",
    }
}
