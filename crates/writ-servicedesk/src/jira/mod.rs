//! Jira Cloud: `jira:issue_created` and `jira:issue_updated` webhooks in (signed `X-Hub-Signature: sha256=<hex>`,
//! identified by `X-Atlassian-Webhook-Identifier`), and outcomes written back as comments in
//! Atlassian Document Format, with a workflow transition found by name when configured.

mod desk;
mod inbound;

use std::collections::HashMap;
use std::time::Duration;

use writ_domain::RequestStatus;

use crate::fields::FieldMap;
use crate::secret::Secret;

pub use desk::JiraDesk;
pub use inbound::{accept, document};

/// One Jira site.
#[derive(Debug, Clone)]
pub struct JiraSettings {
    /// The desk's name in writ, the `system` of its tickets (e.g. `jira`).
    pub name: String,
    /// The site, `https://example.atlassian.net`.
    pub base_url: String,
    /// The account writ writes back as (its e-mail).
    pub user: String,
    /// That account's API token.
    pub api_token: Secret,
    /// The secret the webhook is registered with.
    pub webhook_secret: Secret,
    /// Which issue fields hold the request.
    pub fields: FieldMap,
    /// The transition to make, by name, when a request reaches a status.
    pub transitions: HashMap<RequestStatus, String>,
    /// How far a delivery's timestamp may be from now.
    pub max_skew: Duration,
}
