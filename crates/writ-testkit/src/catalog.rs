//! A small, realistic catalog for tests: a payments team with a production database.

use writ_domain::entitlement::{ApprovalStage, ApproverRule, BreakGlass, TtlPolicy};
use writ_domain::{
    Catalog, ConflictSet, ConnectorKind, Criticality, Entitlement, EntitlementId, Environment,
    Identity, IdentityId, IdentityKind, IdentityStatus, Principal, PrincipalId, Risk, Severity,
    SodRule, SodRuleId, SodScope, System, SystemId, Timestamp, Ttl,
};

/// Ids and objects of [`payments`], by role.
pub struct Payments {
    /// The whole catalog.
    pub catalog: Catalog,
    /// Alice, payments engineer, owns the NHIs; managed by Bob.
    pub alice: PrincipalId,
    /// Bob, team lead and Alice's manager.
    pub bob: PrincipalId,
    /// Sam, in the `security` group.
    pub sam: PrincipalId,
    /// The production database.
    pub payments_db: SystemId,
    /// `payments-db:writer` (high risk, max 7d, break-glass 1h).
    pub writer: EntitlementId,
    /// `payments-db:auditor` (medium risk), in SoD with the writer.
    pub auditor: EntitlementId,
    /// `payments-api`, a service account owned by Alice.
    pub payments_api: IdentityId,
}

fn ttl(text: &str) -> Ttl {
    Ttl::parse(text).unwrap()
}

fn principal(email: &str, name: &str, manager: Option<PrincipalId>, groups: &[&str]) -> Principal {
    Principal {
        id: PrincipalId::new(),
        external_id: email.split('@').next().unwrap().to_string(),
        email: email.parse().unwrap(),
        name: name.parse().unwrap(),
        manager,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        active: true,
    }
}

/// Builds the catalog with fresh ids.
pub fn payments() -> Payments {
    let bob = principal("bob@payments.example", "Bob Lead", None, &["payments"]);
    let alice = principal(
        "alice@payments.example",
        "Alice Engineer",
        Some(bob.id),
        &["payments"],
    );
    let sam = principal("sam@payments.example", "Sam Security", None, &["security"]);
    let system = System {
        id: SystemId::new(),
        name: "payments-db".parse().unwrap(),
        connector: ConnectorKind::Postgres,
        config: serde_json::json!({ "host": "db.payments.internal", "password": { "env": "PAYMENTS_DB_PASSWORD" } }),
        owner: bob.id,
        environment: Environment::Production,
        criticality: Criticality::Critical,
    };
    let stages = vec![
        ApprovalStage {
            name: "identity owner".parse().unwrap(),
            approvers: ApproverRule::IdentityOwner,
        },
        ApprovalStage {
            name: "security".parse().unwrap(),
            approvers: ApproverRule::Group("security".into()),
        },
    ];
    let entitlement = |key: &str, risk: Risk, max: &str| Entitlement {
        id: EntitlementId::new(),
        system: system.id,
        key: key.parse().unwrap(),
        name: format!("payments-db {key}").parse().unwrap(),
        description: format!("{key} on the payments database"),
        risk,
        environment: None,
        ttl: TtlPolicy::new(ttl("8h"), ttl(max)).unwrap(),
        requestable: true,
        allowed_identity_kinds: vec![IdentityKind::ServiceAccount, IdentityKind::Workload],
        approval_stages: stages.clone(),
        break_glass: None,
        owner: bob.id,
    };
    let writer = Entitlement {
        break_glass: Some(BreakGlass { max_ttl: ttl("1h") }),
        ..entitlement("writer", Risk::High, "7d")
    };
    let auditor = entitlement("auditor", Risk::Medium, "30d");
    let sod = SodRule {
        id: SodRuleId::new(),
        name: "writer vs auditor".parse().unwrap(),
        entitlements: ConflictSet::new(vec![writer.id, auditor.id]).unwrap(),
        scope: SodScope::Identity,
        severity: Severity::High,
    };
    let payments_api = Identity {
        id: IdentityId::new(),
        name: "payments-api".parse().unwrap(),
        kind: IdentityKind::ServiceAccount,
        owner: alice.id,
        team: Some("payments".into()),
        purpose: "serves the payments API".into(),
        environment: Environment::Production,
        status: IdentityStatus::Active,
        created_at: Timestamp::from_micros(1_767_225_600_000_000),
    };
    Payments {
        alice: alice.id,
        bob: bob.id,
        sam: sam.id,
        payments_db: system.id,
        writer: writer.id,
        auditor: auditor.id,
        payments_api: payments_api.id,
        catalog: Catalog {
            principals: vec![alice, bob, sam],
            systems: vec![system],
            entitlements: vec![writer, auditor],
            sod_rules: vec![sod],
            identities: vec![payments_api],
        },
    }
}

/// A grant request as a use case would build it before storing it (the store allocates the
/// number).
pub fn grant_request(
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: EntitlementId,
    status: writ_domain::RequestStatus,
) -> writ_domain::Request {
    writ_domain::Request {
        id: writ_domain::RequestId::new(),
        number: writ_domain::RequestNumber::new(1).unwrap(),
        kind: writ_domain::RequestKind::Grant,
        requester,
        identity,
        entitlement: Some(entitlement),
        justification: "needed for the quarterly reconciliation job".into(),
        requested_ttl: Some(ttl("8h")),
        requested_end: None,
        new_owner: None,
        category: writ_domain::Category::Privileged,
        status,
        plan_hash: None,
        external_ref: None,
        created_at: Timestamp::from_micros(1_767_225_600_000_000),
        sla_due: None,
        assignee: None,
        escalation: 0,
    }
}
