//! What the store keeps of credential rotation: what a rotate request rotates, the secrets it
//! holds only sealed and only for a while, and the credentials writ issued (by fingerprint).
//! Sealing and opening happen in writ-core; the store never sees a secret in clear.

use writ_domain::{
    Account, AccountKey, Credential, Fingerprint, IdentityId, PrincipalId, RequestId,
    RequestNumber, RequestStatus, System, SystemId, Timestamp,
};

/// A secret sealed with an AEAD: the nonce and the ciphertext (tag included). The associated
/// data binds it to `id` and its request, so a row copied elsewhere does not open.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The row's id, chosen before sealing (it is part of the associated data).
    pub id: uuid::Uuid,
    /// The AEAD nonce.
    pub nonce: Vec<u8>,
    /// The ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ciphertext is not secret, but nothing gains from printing it.
        f.debug_struct("SealedSecret")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a rotate request rotates, stored with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RotationPlan {
    /// The system whose account's credential is replaced.
    pub system: SystemId,
    /// The account there.
    pub account: AccountKey,
    /// Not before this instant (a maintenance window); the execute job waits for it.
    pub not_before: Timestamp,
    /// The current credential as the requester handed it over, sealed; `None` for a first
    /// issue (writ has no credential on record for the account).
    pub current: Option<SealedSecret>,
}

/// What a rotate request is decided on, read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct RotationContext {
    /// The system named.
    pub system: Option<System>,
    /// The identity's account on it, if it has one.
    pub account: Option<Account>,
    /// The account's active credential on record, if writ issued one.
    pub active: Option<Credential>,
}

/// What executing a rotation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RotationTarget {
    /// Who asked, the one person the new secret is delivered to.
    pub requester: PrincipalId,
    /// The request's number, for messages.
    pub number: RequestNumber,
    /// The system, with its connector configuration.
    pub system: System,
    /// The identity's account there (created in writ's inventory if it had none).
    pub account: Account,
    /// The account's active credential on record, if any.
    pub active: Option<Credential>,
    /// The current credential handed over with the request, sealed.
    pub current: Option<SealedSecret>,
    /// The new secret, sealed before the target was touched: present when an earlier attempt
    /// got that far.
    pub pending: Option<SealedSecret>,
}

/// Where a rotate request's execution stands when a job picks it up.
#[derive(Debug, Clone, PartialEq)]
pub enum RotationStart {
    /// Just moved to `executing`.
    Started(RotationTarget),
    /// Already executing (an earlier attempt stopped): carry on.
    Resumed(RotationTarget),
    /// Past execution already (or cancelled): a replayed job, nothing to do. Any secret still
    /// held for the rotation's input has been wiped.
    Finished(RequestStatus),
    /// The request's plan is not the one the job was queued for: nothing to do.
    PlanChanged,
}

/// How a rotation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RotationEnd {
    /// The new credential works and the old one no longer does: `credential` is recorded as
    /// the account's active one (the previous one superseded), the pending secret becomes the
    /// one to deliver, and the current one is wiped.
    Rotated {
        /// The new credential (fingerprint, version, issued at).
        credential: Credential,
    },
    /// It could not be done; every secret held for it is wiped.
    Failed {
        /// Why, for the record (never a secret).
        error: String,
    },
}

/// A new secret waiting for its one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The rotate request.
    pub request: RequestId,
    /// Who may reveal it: the requester.
    pub requester: PrincipalId,
    /// The identity whose credential it is.
    pub identity: IdentityId,
    /// The system's name.
    pub system: String,
    /// The account there.
    pub account: AccountKey,
    /// The credential's fingerprint.
    pub fingerprint: Fingerprint,
    /// The secret, sealed.
    pub sealed: SealedSecret,
}
