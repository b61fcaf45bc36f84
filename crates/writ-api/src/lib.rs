//! The JSON wire types of writ's HTTP API (`/api/v1`) and the base of its OpenAPI 3.1
//! document. Shared by the server (which fills them) and the typed client (which reads them),
//! so both speak one shape. Plain data: no domain logic, no HTTP framework, no I/O.

mod audit;
mod campaigns;
mod catalog;
mod error;
mod findings;
mod grants;
mod identities;
mod notifications;
mod openapi;
mod page;
mod queries;
mod requests;
mod tickets;

pub use audit::{AuditEventView, AuditPage, CheckpointList, CheckpointView};
pub use campaigns::{
    CampaignDetail, CampaignItemList, CampaignItemView, CampaignPage, CampaignView, DecideItemBody,
    DelegateItemBody, NewCampaignBody, ProgressView,
};
pub use catalog::{EntitlementPage, EntitlementView, SystemPage, SystemView};
pub use error::{ErrorBody, ErrorDetail};
pub use findings::{AcceptFindingBody, AdoptFindingBody, FindingPage, FindingView};
pub use grants::{GrantPage, GrantView};
pub use identities::{AccountView, IdentityDetail, IdentityPage, IdentityView, PrincipalView};
pub use notifications::{NotificationPage, NotificationView};
pub use openapi::{ApiDoc, BEARER};
pub use page::{DEFAULT_LIMIT, MAX_LIMIT};
pub use queries::{
    AuditQuery, CampaignItemQuery, CampaignQuery, EntitlementQuery, FindingQuery, GrantQuery,
    IdentityQuery, NotificationQuery, RequestQuery, SystemQuery, TicketQuery,
};
pub use requests::{
    ApprovalView, CancelBody, DecideBody, DecidedView, ExplanationView, NewRequestBody, ReasonView,
    RequestDetail, RequestPage, RequestView, RevealedView, SubmittedView,
};
pub use tickets::{TicketPage, TicketView};
