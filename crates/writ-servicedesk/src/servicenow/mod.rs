//! ServiceNow: a business rule on the request table posts the record to writ, signed with a
//! shared secret (ServiceNow signs nothing on its own; the script is in the README), and
//! outcomes are written back through the Table API as `work_notes`, with `state` set when
//! configured for the request's status.

mod desk;
mod inbound;

use std::collections::HashMap;
use std::time::Duration;

use writ_domain::RequestStatus;

use crate::fields::FieldMap;
use crate::secret::Secret;

pub use desk::ServiceNowDesk;
pub use inbound::{DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, accept};

/// One ServiceNow instance.
#[derive(Debug, Clone)]
pub struct ServiceNowSettings {
    /// The desk's name in writ, the `system` of its tickets (e.g. `servicenow`).
    pub name: String,
    /// The instance, `https://example.service-now.com`.
    pub base_url: String,
    /// The table the records live in (e.g. `sc_req_item`).
    pub table: String,
    /// The user writ writes back as.
    pub user: String,
    /// That user's password.
    pub password: Secret,
    /// The secret the business rule signs with.
    pub webhook_secret: Secret,
    /// Which record fields hold the request.
    pub fields: FieldMap,
    /// The `state` value to set when a request reaches a status.
    pub states: HashMap<RequestStatus, String>,
    /// How far a delivery's timestamp may be from now.
    pub max_skew: Duration,
}
