//! A store with the example catalog applied, the shipped policies, a manual clock, and
//! lookups by name, for scenario tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use writ_core::requests::{Decide, Decided, NewRequest, Requests, Roles, Submitted};
use writ_core::{Clock, CoreError};
use writ_domain::audit::Actor;
use writ_domain::{
    ApprovalDecision, Catalog, EntitlementId, IdentityId, PrincipalId, Request, RequestKind, Ttl,
};
use writ_policy::PolicyEngine;
use writ_testkit::{ManualClock, TestDb};

/// The example organisation, ready for requests.
pub struct World {
    pub db: TestDb,
    pub clock: Arc<ManualClock>,
    pub requests: Requests,
    pub catalog: Catalog,
}

impl World {
    /// The example catalog applied to a fresh SQLite store.
    pub async fn new() -> Self {
        Self::on(TestDb::sqlite().await).await
    }

    /// The example catalog applied to `db`.
    pub async fn on(db: TestDb) -> Self {
        let clock = Arc::new(ManualClock::new());
        let text = include_str!("../../../../examples/catalog.yaml");
        writ_core::catalog::apply(
            &*db.store(),
            &*clock,
            Actor::system("test"),
            "catalog.yaml",
            text,
            false,
        )
        .await
        .unwrap();
        let catalog = db.store().catalog().await.unwrap();
        let policy = Arc::new(PolicyEngine::load(None).unwrap());
        let requests = Requests::new(
            db.store(),
            policy,
            clock.clone() as Arc<dyn Clock>,
            Roles::default(),
        );
        Self {
            db,
            clock,
            requests,
            catalog,
        }
    }

    /// A principal by the part of their e-mail before `@` (`ravi.shah`).
    pub fn principal(&self, name: &str) -> PrincipalId {
        let email = format!("{name}@acmepay.example");
        self.catalog
            .principals
            .iter()
            .find(|p| p.email.as_str() == email)
            .unwrap_or_else(|| panic!("no {email}"))
            .id
    }

    /// An identity by name.
    pub fn identity(&self, name: &str) -> IdentityId {
        self.catalog
            .identities
            .iter()
            .find(|i| i.name.as_str() == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .id
    }

    /// An entitlement by `system:key`.
    pub fn entitlement(&self, reference: &str) -> EntitlementId {
        let (system, key) = reference.split_once(':').unwrap();
        let system = self
            .catalog
            .systems
            .iter()
            .find(|s| s.name.as_str() == system)
            .unwrap()
            .id;
        self.catalog
            .entitlements
            .iter()
            .find(|e| e.system == system && e.key.as_str() == key)
            .unwrap_or_else(|| panic!("no {reference}"))
            .id
    }

    /// A grant request: `requester` asks `entitlement` for `identity` for `ttl`.
    pub fn ask(&self, requester: &str, identity: &str, entitlement: &str, ttl: &str) -> NewRequest {
        NewRequest {
            requester: self.principal(requester),
            kind: RequestKind::Grant,
            identity: self.identity(identity),
            entitlement: Some(self.entitlement(entitlement)),
            justification: "needed for the quarterly settlement run".into(),
            ttl: Some(Ttl::parse(ttl).unwrap()),
            end: None,
            external_ref: None,
            new_owner: None,
        }
    }

    /// Submits.
    pub async fn submit(&self, ask: NewRequest) -> Submitted {
        self.requests.submit(ask).await.unwrap()
    }

    /// `approver` approves `request` as shown to them.
    pub async fn approve(&self, approver: &str, request: &Request) -> Result<Decided, CoreError> {
        self.requests
            .decide(Decide {
                approver: self.principal(approver),
                request: request.id,
                decision: ApprovalDecision::Approve,
                reason: None,
                plan_hash: request.plan_hash.unwrap(),
            })
            .await
    }

    /// The request as stored now.
    pub async fn reload(&self, request: &Request) -> Request {
        self.db
            .store()
            .request(request.id)
            .await
            .unwrap()
            .unwrap()
            .0
    }
}
