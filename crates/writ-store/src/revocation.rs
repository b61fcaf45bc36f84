//! What the store hands out and takes back when access is taken away: the live access to
//! remove (one grant's, a revoke request's, an offboarding's), and how its removal ended.

use writ_domain::{
    AccountKey, EntitlementKey, GrantId, GrantStatus, IdentityId, RequestId, RequestStatus, System,
    Timestamp,
};

/// One membership on a target: an account holding an entitlement.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAccess {
    /// The system, with its connector configuration.
    pub system: System,
    /// The account there.
    pub account: AccountKey,
    /// The entitlement's native key there.
    pub entitlement: EntitlementKey,
}

/// One account on a target.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountTarget {
    /// The system, with its connector configuration.
    pub system: System,
    /// The account there.
    pub account: AccountKey,
}

/// What a revoke or offboard request removes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Removal {
    /// Memberships to revoke and read back as gone: every grant being revoked, and for a
    /// revoke request the membership itself even when no grant names it.
    pub access: Vec<LiveAccess>,
    /// Accounts to disable (offboarding).
    pub accounts: Vec<AccountTarget>,
}

/// Where a revoke or offboard request's execution stands when a job picks it up.
#[derive(Debug, Clone, PartialEq)]
pub enum RemovalStart {
    /// Just moved to `executing`: this is what to remove.
    Started(Removal),
    /// Already executing (an earlier attempt failed transiently): this is what is left.
    Resumed(Removal),
    /// Past execution already: a replayed job, nothing to do.
    Finished(RequestStatus),
    /// The request's plan is not the one the job was queued for: nothing to do.
    PlanChanged,
}

/// Everything revoking one grant needs: where the access lives and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct RevocationTarget {
    /// The grant.
    pub grant: GrantId,
    /// The request that granted it; its evidence gains the revocation's.
    pub request: RequestId,
    /// The identity holding it.
    pub identity: IdentityId,
    /// Where the grant stands now.
    pub status: GrantStatus,
    /// When it ends (or ended).
    pub expires_at: Option<Timestamp>,
    /// The membership on the target.
    pub access: LiveAccess,
}

/// How a revocation (or a removal) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationEnd {
    /// The read-back showed the access gone.
    Revoked {
        /// When the target was read back.
        verified_at: Timestamp,
    },
    /// It could not be done; the access may still be live.
    Failed {
        /// Why, for the record.
        error: String,
    },
}
