//! Builders for tests: a small payments world with an owner, a CI token and a catalog
//! entitlement, each field easy to change.

use std::sync::OnceLock;

use writ_domain::{
    EntitlementId, Environment, IdentityId, IdentityKind, IdentityStatus, Name, PrincipalId,
    RequestKind, Risk, Timestamp, Ttl, TtlPolicy,
};

use crate::engine::PolicyEngine;
use crate::facts::{EntitlementFacts, IdentityFacts, PrincipalFacts, RequestFacts};
use crate::submit::SubmitInput;
use crate::{Decision, Permit, Reason};

/// The engine with the shipped policies only, loaded once per test binary.
pub(crate) fn shipped() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| match PolicyEngine::load(None) {
        Ok(engine) => engine,
        Err(err) => panic!("the shipped policies do not load: {err}"),
    })
}

pub(crate) fn ttl(text: &str) -> Ttl {
    Ttl::parse(text).unwrap()
}

pub(crate) fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

/// An active principal in no group.
pub(crate) fn person(display: &str) -> PrincipalFacts {
    PrincipalFacts {
        id: PrincipalId::new(),
        name: display.to_owned(),
        active: true,
        admin: false,
        groups: Vec::new(),
        manager: None,
    }
}

/// An active CI token of team `payments`, owned by `owner`, running in production.
pub(crate) fn ci_token(owner: &PrincipalFacts) -> IdentityFacts {
    IdentityFacts {
        id: IdentityId::new(),
        name: name("payments-ci"),
        kind: IdentityKind::CiToken,
        status: IdentityStatus::Active,
        environment: Environment::Production,
        team: Some("payments".to_owned()),
        owner: owner.clone(),
    }
}

/// A requestable low-risk staging entitlement, TTL 1d by default and 7d at most, any kind,
/// no break-glass, no configured stages.
pub(crate) fn writer() -> EntitlementFacts {
    EntitlementFacts {
        id: EntitlementId::new(),
        name: name("payments-db:writer"),
        system: name("payments-db"),
        system_owner: PrincipalId::new(),
        owner: PrincipalId::new(),
        risk: Risk::Low,
        environment: Environment::Staging,
        requestable: true,
        ttl: TtlPolicy::new(ttl("1d"), ttl("7d")).unwrap(),
        allowed_kinds: Vec::new(),
        break_glass: None,
        approval_stages: Vec::new(),
    }
}

/// A request of `kind` by `requester` for `identity` and `entitlement`, asking `ttl_text`.
pub(crate) fn request(
    kind: RequestKind,
    requester: &PrincipalFacts,
    identity: &IdentityFacts,
    entitlement: &EntitlementFacts,
    ttl_text: &str,
) -> RequestFacts {
    RequestFacts {
        kind,
        requester: requester.clone(),
        identity: identity.clone(),
        entitlement: Some(entitlement.clone()),
        new_owner: None,
        ttl: Some(ttl(ttl_text)),
        end: None,
    }
}

/// A justified submission at the epoch with no conflicts, no open review, no security stage.
pub(crate) fn submission(request: RequestFacts) -> SubmitInput {
    SubmitInput {
        request,
        now: Timestamp::EPOCH,
        justification_present: true,
        sod_conflicts: Vec::new(),
        open_break_glass_review: false,
        security_stage: false,
    }
}

/// Asserts `decision` allows, showing its reasons when it does not.
pub(crate) fn assert_allowed<P: Permit + std::fmt::Debug>(decision: &Decision<P>) {
    assert!(
        decision.allowed(),
        "expected allowed, refused with {:#?}",
        decision.reasons()
    );
    assert!(decision.reasons().is_empty());
}

/// Asserts `decision` refuses with exactly the reasons of `ids`, in order, and returns the
/// messages.
pub(crate) fn refused_by<P: Permit + std::fmt::Debug>(
    decision: &Decision<P>,
    ids: &[&str],
) -> Vec<String> {
    assert!(
        !decision.allowed(),
        "expected a refusal by {ids:?}, allowed"
    );
    let got: Vec<&str> = decision
        .reasons()
        .iter()
        .map(|r| r.policy_id.as_str())
        .collect();
    assert_eq!(got, ids, "reasons: {:#?}", decision.reasons());
    decision
        .reasons()
        .iter()
        .map(|Reason { message, .. }| message.clone())
        .collect()
}
