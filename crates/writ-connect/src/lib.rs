//! writ's connector port and its connectors: how writ changes, and reads back, access on a
//! real target system. One folder per connector. A connector is called only from jobs, never
//! from an HTTP handler; every call is idempotent (granting present access or revoking absent
//! access succeeds), and errors say whether a retry can help.
//!
//! Depends on writ-domain only (and each connector on its own client library).

mod error;
pub mod local;
pub mod postgres;
mod registry;
mod secret;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use writ_domain::{AccountKey, ConnectorKind, EntitlementKey};

pub use error::ConnectorError;
pub use registry::{Registry, connector_for};
pub use secret::{ProcessEnv, Secret, SecretSource, resolve_secret};

/// What a connector did, kept with the request as evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// What was done, e.g. `grant`, `revoke`, `ensure_account`.
    pub operation: String,
    /// Whether the call changed anything (`false`: it was already so).
    pub changed: bool,
    /// What the target said or was told, for the record (never a secret).
    pub detail: serde_json::Value,
}

/// An account as the target holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LiveAccount {
    /// The target's native id.
    pub key: AccountKey,
    /// Whether it can be used (log in, authenticate).
    pub enabled: bool,
}

/// One membership as the target holds it: an account holding an entitlement.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct LiveGrant {
    /// The account.
    pub account: AccountKey,
    /// The entitlement's native key.
    pub entitlement: EntitlementKey,
}

/// A target system, as writ reaches it.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Which kind of connector this is.
    fn kind(&self) -> ConnectorKind;

    /// Checks the target answers and writ's credentials work.
    async fn check(&self) -> Result<(), ConnectorError>;

    /// Every account on the target.
    async fn list_accounts(&self) -> Result<Vec<LiveAccount>, ConnectorError>;

    /// Every membership on the target, streamed (a target may hold millions).
    fn list_grants(&self) -> BoxStream<'_, Result<LiveGrant, ConnectorError>>;

    /// Creates the account if it does not exist (enabled), and enables it if it is disabled.
    async fn ensure_account(&self, account: &AccountKey) -> Result<Receipt, ConnectorError>;

    /// Makes the account unusable (it stays, so its history does too) and ends its sessions.
    async fn disable_account(&self, account: &AccountKey) -> Result<Receipt, ConnectorError>;

    /// Gives the account the entitlement; succeeds without change if it already holds it.
    async fn grant(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError>;

    /// Takes the entitlement from the account; succeeds without change if it does not hold it.
    async fn revoke(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError>;

    /// Reads back from the target whether the account holds the entitlement right now: the
    /// proof a grant or a revocation is checked against.
    async fn holds(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError>;

    /// Proves against the target whether `secret` is, right now, the credential of `account`:
    /// `false` when the target refuses it (or the account does not exist). A rotation asks this
    /// before it replaces a credential (the current one must pass) and after (the new one must
    /// pass, the old one fail). An answer the target cannot really give (a server that lets
    /// anyone in without checking) is a permanent error, never `true`.
    async fn check_credential(
        &self,
        account: &AccountKey,
        secret: &Secret,
    ) -> Result<bool, ConnectorError>;

    /// Makes `new` the credential of `account`, replacing whatever it was. The caller checks
    /// the current credential first and reads back afterwards; the receipt never holds either
    /// secret.
    async fn rotate_credential(
        &self,
        account: &AccountKey,
        new: &Secret,
    ) -> Result<Receipt, ConnectorError>;
}
