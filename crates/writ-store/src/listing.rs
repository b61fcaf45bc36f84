//! What the keyset-paginated lists of the API ask for: filters, and the key a page starts
//! after. Every list walks an index in its own order, so a page costs the same however many
//! rows are stored.

use writ_domain::{
    EntitlementId, GrantId, GrantStatus, IdentityId, PrincipalId, RequestKind, RequestNumber,
    RequestStatus, SystemId, Timestamp,
};

/// Which requests, newest (highest number) first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// In this status.
    pub status: Option<RequestStatus>,
    /// Of this kind (exceptions are listed apart this way).
    pub kind: Option<RequestKind>,
    /// For this identity.
    pub identity: Option<IdentityId>,
    /// Asked by this principal.
    pub requester: Option<PrincipalId>,
    /// For an entitlement of this system.
    pub system: Option<SystemId>,
    /// For this entitlement.
    pub entitlement: Option<EntitlementId>,
    /// Numbered below this one (the last of the previous page).
    pub after: Option<RequestNumber>,
}

/// Where a page of grants starts: after a grant in newest-first order, or, for grants
/// expiring before an instant, after an end and grant in soonest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantAfter {
    /// After this grant, newest first.
    Id(GrantId),
    /// After this end and grant, soonest ending first.
    Expiry(Timestamp, GrantId),
}

/// Which grants: newest first, or soonest ending first when `expiring_before` is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// In this status.
    pub status: Option<GrantStatus>,
    /// Held by this identity.
    pub identity: Option<IdentityId>,
    /// Of an entitlement of this system.
    pub system: Option<SystemId>,
    /// Ending before this instant.
    pub expiring_before: Option<Timestamp>,
    /// After this one (the last of the previous page).
    pub after: Option<GrantAfter>,
}

/// Which identities, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityFilter {
    /// Owned by this principal.
    pub owner: Option<PrincipalId>,
    /// Named after this name (the last of the previous page).
    pub after: Option<String>,
}

/// Which entitlements, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitlementFilter {
    /// Of this system.
    pub system: Option<SystemId>,
    /// After this id (the last of the previous page).
    pub after: Option<EntitlementId>,
}
