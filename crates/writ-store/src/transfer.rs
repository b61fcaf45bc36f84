//! What executing a `transfer` request did.

use writ_domain::{PrincipalId, RequestStatus};

/// The outcome of executing a `transfer` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transferred {
    /// The identity's owner changed, as read back.
    Done {
        /// The owner before.
        from: PrincipalId,
        /// The owner now.
        to: PrincipalId,
    },
    /// Past execution already: a replayed job, nothing to do.
    Finished(RequestStatus),
    /// The request's plan is not the one the job was queued for: nothing to do.
    PlanChanged,
}
