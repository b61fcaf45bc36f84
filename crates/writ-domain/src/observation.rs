//! Observations: what a connector read from the live system.

use crate::id::{ObservationId, SystemId};
use crate::name::{AccountKey, EntitlementKey};
use crate::time::Timestamp;

/// One fact of live state: an account exists in a system, holding an entitlement if one is
/// named.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Observation {
    /// writ's id.
    pub id: ObservationId,
    /// The system read.
    pub system: SystemId,
    /// The account seen, by its native key.
    pub account_key: AccountKey,
    /// The entitlement the account holds, by its native key; `None` when the observation is of
    /// the account alone.
    pub entitlement_key: Option<EntitlementKey>,
    /// When the connector read it.
    pub seen_at: Timestamp,
}
