//! The generic JSON form, for desks writ has no adapter for: the desk (or a small script
//! beside it) posts one documented JSON shape to `POST /webhooks/generic`, signed
//! `X-Writ-Signature: sha256=<hex HMAC-SHA256 of the raw body>`; the same ticket key sent again
//! is an update. With a `callback_url`, each outcome note is posted back there as signed JSON
//! through the outbox, with its retries.

mod desk;
mod inbound;

use std::time::Duration;

use crate::secret::Secret;

pub use desk::GenericDesk;
pub use inbound::{SIGNATURE_HEADER, accept};

/// One desk speaking the generic form.
#[derive(Debug, Clone)]
pub struct GenericSettings {
    /// The desk's name in writ, the `system` of its tickets (e.g. `helpdesk`).
    pub name: String,
    /// The secret deliveries are signed with, and outcome notes are signed with.
    pub webhook_secret: Secret,
    /// How far a delivery's timestamp may be from now.
    pub max_skew: Duration,
    /// Where outcome notes are posted, if anywhere.
    pub callback_url: Option<String>,
}
