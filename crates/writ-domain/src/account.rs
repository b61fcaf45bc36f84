//! Accounts: an identity's presence inside one target system.

use crate::id::{AccountId, IdentityId, SystemId};
use crate::kinds::AccountStatus;
use crate::name::AccountKey;

/// An Identity's account inside one System, known there by its native key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    /// writ's id.
    pub id: AccountId,
    /// The identity the account belongs to.
    pub identity: IdentityId,
    /// The system the account lives in.
    pub system: SystemId,
    /// The connector's native id of the account (a login role, a DN, a user id).
    pub key: AccountKey,
    /// Whether the account is enabled in the system.
    pub status: AccountStatus,
}
