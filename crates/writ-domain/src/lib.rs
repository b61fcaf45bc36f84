//! writ's domain: the nouns of access governance, their lifecycles, the plan hash and the
//! audit chain's hashing. Pure: no I/O, no async, no storage or web framework.

pub mod account;
pub mod approval;
pub mod audit;
pub mod bundle;
pub mod campaign;
pub mod catalog;
pub mod checkpoint;
pub mod credential;
pub mod entitlement;
pub mod error;
pub mod finding;
pub mod grant;
pub mod id;
pub mod identity;
pub mod job;
pub mod kinds;
pub mod merkle;
pub mod name;
pub mod notification;
pub mod observation;
pub mod outbox;
pub mod plan;
pub mod post_use_review;
pub mod principal;
pub mod request;
pub mod sla;
pub mod sod;
pub mod system;
pub mod ticket;
pub mod time;
pub mod token;
pub mod ttl;

pub use account::Account;
pub use approval::Approval;
pub use campaign::{
    Campaign, CampaignItem, CampaignScope, CampaignStatus, ItemContext, ItemStatus, Review,
    ReviewRefused, ReviewerRule, ScopedGrant, UndecidedPolicy,
};
pub use catalog::Catalog;
pub use credential::{Credential, Fingerprint};
pub use entitlement::{ApprovalStage, ApproverRule, BreakGlass, Entitlement, TtlPolicy};
pub use error::{IllegalTransition, ParseError};
pub use finding::{Finding, RemediationMode};
pub use grant::{Grant, GrantEvent, GrantStatus};
pub use id::*;
pub use identity::Identity;
pub use kinds::{
    AccountStatus, ApprovalDecision, Category, CredentialStatus, Criticality, Environment,
    FindingKind, FindingStatus, IdentityKind, IdentityStatus, RequestKind, ReviewDecision, Risk,
    Severity, SodScope,
};
pub use name::{AccountKey, Email, EntitlementKey, Name};
pub use notification::{NewNotification, Notification, NotificationTopic};
pub use observation::Observation;
pub use outbox::{OutboxEntry, OutboxState};
pub use plan::{Plan, PlanHash};
pub use post_use_review::{PostUseReview, ReviewClosure, ReviewStatus};
pub use principal::Principal;
pub use request::{ExternalRef, Request, RequestEvent, RequestNumber, RequestStatus};
pub use sla::SlaPolicy;
pub use sod::{ConflictSet, SodRule};
pub use system::{ConnectorKind, SecretRef, System};
pub use ticket::{TicketFields, TicketOutcome, TicketRecord};
pub use time::Timestamp;
pub use token::{ApiToken, TOKEN_PREFIX, TokenHash, TokenScope};
pub use ttl::Ttl;
