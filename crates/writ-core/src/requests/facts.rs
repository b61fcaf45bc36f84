//! From what the store holds to the facts policy decides on.

use writ_domain::{
    EntitlementId, IdentityId, Principal, PrincipalId, RequestKind, SystemId, Timestamp, Ttl,
};
use writ_policy::{EntitlementFacts, IdentityFacts, PrincipalFacts, RequestFacts, SodConflict};
use writ_store::{DecidedOn, SubmitContext};

use super::Roles;
use crate::error::CoreError;

/// What a request asks, independent of whether it is stored yet.
pub(super) struct Ask {
    pub kind: RequestKind,
    pub requester: PrincipalId,
    pub identity: IdentityId,
    pub entitlement: Option<EntitlementId>,
    pub ttl: Option<Ttl>,
    pub end: Option<Timestamp>,
    /// The principal who would become the owner (`transfer`).
    pub new_owner: Option<Principal>,
}

impl super::Requests {
    /// What a stored request asks, its new owner read from the store.
    pub(super) async fn ask_of(&self, request: &writ_domain::Request) -> Result<Ask, CoreError> {
        Ok(Ask {
            kind: request.kind,
            requester: request.requester,
            identity: request.identity,
            entitlement: request.entitlement,
            ttl: request.requested_ttl,
            end: request.requested_end,
            new_owner: self.new_owner(request.new_owner).await?,
        })
    }

    /// The principal `id` names, if any; an unknown one is an error naming it.
    pub(super) async fn new_owner(
        &self,
        id: Option<PrincipalId>,
    ) -> Result<Option<Principal>, CoreError> {
        let Some(id) = id else {
            return Ok(None);
        };
        self.store
            .principal(id)
            .await?
            .map(Some)
            .ok_or_else(|| CoreError::not_found(format!("new owner `{id}`")))
    }
}

/// The request's facts and the SoD rules its entitlement would complete.
pub(super) struct Facts {
    pub request: RequestFacts,
    /// The entitlement's system, part of the plan.
    pub system: Option<SystemId>,
    /// The holdings the SoD check counted, for the store to re-check as it writes.
    pub decided_on: Option<DecidedOn>,
    pub sod_conflicts: Vec<SodConflict>,
    pub open_break_glass_review: bool,
}

/// Kinds that give an identity access to an entitlement, and so must name one.
pub(super) fn names_entitlement(kind: RequestKind) -> bool {
    matches!(
        kind,
        RequestKind::Grant | RequestKind::Exception | RequestKind::BreakGlass | RequestKind::Revoke
    )
}

/// Admins act for any identity; so does writ itself, for what it starts on its own.
pub(super) fn principal_facts(principal: &Principal, roles: &Roles) -> PrincipalFacts {
    let admin = principal.is_in_group(&roles.admin_group) || principal.id == PrincipalId::SYSTEM;
    PrincipalFacts::new(principal, admin)
}

/// Builds the facts, naming whatever the request refers to that does not exist.
pub(super) fn facts(ask: &Ask, context: &SubmitContext, roles: &Roles) -> Result<Facts, CoreError> {
    let requester = context
        .requester
        .as_ref()
        .ok_or_else(|| CoreError::not_found(format!("principal `{}`", ask.requester)))?;
    let identity = context
        .identity
        .as_ref()
        .ok_or_else(|| CoreError::not_found(format!("identity `{}`", ask.identity)))?;
    let owner = context
        .owner
        .as_ref()
        .ok_or_else(|| CoreError::not_found(format!("owner of identity `{}`", identity.name)))?;
    let entitlement = match (names_entitlement(ask.kind), ask.entitlement) {
        (true, None) => {
            return Err(CoreError::Invalid(format!(
                "a `{}` request must name an entitlement",
                ask.kind
            )));
        }
        (false, Some(_)) => {
            return Err(CoreError::Invalid(format!(
                "a `{}` request names no entitlement",
                ask.kind
            )));
        }
        (false, None) => None,
        (true, Some(id)) => {
            let entitlement = context
                .entitlement
                .as_ref()
                .ok_or_else(|| CoreError::not_found(format!("entitlement `{id}`")))?;
            let system = context.system.as_ref().ok_or_else(|| {
                CoreError::not_found(format!("system of entitlement `{}`", entitlement.name))
            })?;
            Some(EntitlementFacts::new(entitlement, system))
        }
    };
    let sod_conflicts = match &entitlement {
        Some(e) => SodConflict::find(&context.sod_rules, e.id, &context.held, &context.owner_held),
        None => Vec::new(),
    };
    Ok(Facts {
        request: RequestFacts {
            kind: ask.kind,
            requester: principal_facts(requester, roles),
            identity: IdentityFacts::new(identity, principal_facts(owner, roles)),
            entitlement,
            new_owner: ask.new_owner.as_ref().map(|p| principal_facts(p, roles)),
            ttl: ask.ttl,
            end: ask.end,
        },
        sod_conflicts,
        system: context
            .system
            .as_ref()
            .map(|s| s.id)
            .filter(|_| ask.entitlement.is_some()),
        decided_on: decided_on(ask, owner.id, context),
        open_break_glass_review: context.open_break_glass_review,
    })
}

/// What the SoD check of an access request counted, for the store to re-check as it writes;
/// `None` when no SoD rule names the requested entitlement.
fn decided_on(ask: &Ask, owner: PrincipalId, context: &SubmitContext) -> Option<DecidedOn> {
    let requested = ask.entitlement?;
    let relevant: Vec<EntitlementId> = context
        .sod_rules
        .iter()
        .filter(|rule| rule.entitlements.as_slice().contains(&requested))
        .flat_map(|rule| rule.entitlements.as_slice().iter().copied())
        .collect();
    if relevant.is_empty() {
        return None;
    }
    let held = context
        .owner_held
        .iter()
        .copied()
        .filter(|e| relevant.contains(e))
        .collect();
    let identity_held = context
        .held
        .iter()
        .copied()
        .filter(|e| relevant.contains(e))
        .collect();
    Some(DecidedOn {
        owner,
        held,
        identity: ask.identity,
        identity_held,
        relevant,
    })
}
