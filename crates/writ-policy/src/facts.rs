//! The facts a decision is made on: plain values the caller looks up (principals, the
//! identity, the entitlement, the request) and the separation-of-duties conflicts it counts.
//! Each has a constructor from the domain types, so a caller only adds what the domain does
//! not hold (a principal's `admin` role, the system's name).

use writ_domain::{
    ApprovalStage, BreakGlass, EntitlementId, Environment, Identity, IdentityId, IdentityKind,
    IdentityStatus, Name, Principal, PrincipalId, RequestKind, Risk, Severity, SodRule, SodRuleId,
    SodScope, System, Timestamp, Ttl, TtlPolicy,
};

/// What policy knows about a principal (a requester, an owner, an approver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalFacts {
    /// writ's id.
    pub id: PrincipalId,
    /// The display name, shown in reasons.
    pub name: String,
    /// False once the principal has left.
    pub active: bool,
    /// Whether the principal holds writ's `admin` role.
    pub admin: bool,
    /// The principal's IdP groups.
    pub groups: Vec<String>,
    /// The principal's manager, if known.
    pub manager: Option<PrincipalId>,
}

impl PrincipalFacts {
    /// The facts of `principal`, who holds the `admin` role when `admin` is true.
    pub fn new(principal: &Principal, admin: bool) -> Self {
        Self {
            id: principal.id,
            name: principal.name.to_string(),
            active: principal.active,
            admin,
            groups: principal.groups.clone(),
            manager: principal.manager,
        }
    }

    /// Whether the principal belongs to `group`.
    pub fn is_in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// What policy knows about a non-human identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFacts {
    /// writ's id.
    pub id: IdentityId,
    /// The identity's name.
    pub name: Name,
    /// What sort of identity it is.
    pub kind: IdentityKind,
    /// Where it is in its life.
    pub status: IdentityStatus,
    /// The environment it runs in.
    pub environment: Environment,
    /// Its team, if recorded.
    pub team: Option<String>,
    /// Its owner.
    pub owner: PrincipalFacts,
}

impl IdentityFacts {
    /// The facts of `identity`, whose owner (`identity.owner`) is `owner`.
    pub fn new(identity: &Identity, owner: PrincipalFacts) -> Self {
        debug_assert_eq!(identity.owner, owner.id, "owner facts of another principal");
        Self {
            id: identity.id,
            name: identity.name.clone(),
            kind: identity.kind,
            status: identity.status,
            environment: identity.environment,
            team: identity.team.clone(),
            owner,
        }
    }
}

/// What policy knows about a catalog entitlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementFacts {
    /// writ's id.
    pub id: EntitlementId,
    /// The entitlement's name.
    pub name: Name,
    /// The name of its system.
    pub system: Name,
    /// The owner of its system.
    pub system_owner: PrincipalId,
    /// The owner of the entitlement.
    pub owner: PrincipalId,
    /// How much damage it can do.
    pub risk: Risk,
    /// Its own environment, else its system's.
    pub environment: Environment,
    /// Whether it can be requested with an ordinary grant.
    pub requestable: bool,
    /// Its default and maximum TTL.
    pub ttl: TtlPolicy,
    /// The identity kinds that may hold it; empty means every kind.
    pub allowed_kinds: Vec<IdentityKind>,
    /// Its break-glass terms, when break-glass is allowed.
    pub break_glass: Option<BreakGlass>,
    /// The approval stages configured for it, in order (see [`crate::required_stages`]).
    pub approval_stages: Vec<ApprovalStage>,
}

impl EntitlementFacts {
    /// The facts of `entitlement`, which belongs to `system`.
    pub fn new(entitlement: &writ_domain::Entitlement, system: &System) -> Self {
        debug_assert_eq!(
            entitlement.system, system.id,
            "system of another entitlement"
        );
        Self {
            id: entitlement.id,
            name: entitlement.name.clone(),
            system: system.name.clone(),
            system_owner: system.owner,
            owner: entitlement.owner,
            risk: entitlement.risk,
            environment: entitlement.environment_in(system.environment),
            requestable: entitlement.requestable,
            ttl: entitlement.ttl,
            allowed_kinds: entitlement.allowed_identity_kinds.clone(),
            break_glass: entitlement.break_glass,
            approval_stages: entitlement.approval_stages.clone(),
        }
    }

    /// The identity kinds that may hold it, with an empty list read as every kind.
    pub fn allowed_kinds_or_all(&self) -> &[IdentityKind] {
        if self.allowed_kinds.is_empty() {
            IdentityKind::ALL
        } else {
            &self.allowed_kinds
        }
    }
}

/// What a request asks for, as policy sees it; shared by the submit and approval decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// What change is asked for.
    pub kind: RequestKind,
    /// Who asked.
    pub requester: PrincipalFacts,
    /// The identity the change is for.
    pub identity: IdentityFacts,
    /// The entitlement: required for `grant`, `exception`, `break_glass` and `revoke`, ignored
    /// otherwise.
    pub entitlement: Option<EntitlementFacts>,
    /// The new owner: required for `transfer`, ignored otherwise.
    pub new_owner: Option<PrincipalFacts>,
    /// The TTL asked for; the entitlement's default applies when absent.
    pub ttl: Option<Ttl>,
    /// The end date asked for.
    pub end: Option<Timestamp>,
}

impl RequestFacts {
    /// The TTL the request gets: the one asked for, else the entitlement's default.
    pub fn effective_ttl(&self) -> Option<Ttl> {
        self.ttl
            .or_else(|| self.entitlement.as_ref().map(|e| e.ttl.default_ttl()))
    }
}

/// A separation-of-duties rule that a requested grant would complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodConflict {
    /// The rule.
    pub rule: SodRuleId,
    /// Its name, shown in the reason.
    pub name: Name,
    /// Whose holdings it looks at.
    pub scope: SodScope,
    /// How serious a breach is.
    pub severity: Severity,
}

impl SodConflict {
    /// The rules among `rules` that granting `requested` would complete: rules naming
    /// `requested` and another entitlement already held. `identity_holdings` are the active
    /// and pending grants of the identity (for scope `identity`); `owner_holdings` those of
    /// every identity of the same owner, this one included (for scope `owner`).
    pub fn find(
        rules: &[SodRule],
        requested: EntitlementId,
        identity_holdings: &[EntitlementId],
        owner_holdings: &[EntitlementId],
    ) -> Vec<SodConflict> {
        rules
            .iter()
            .filter(|rule| {
                let members = rule.entitlements.as_slice();
                let held = match rule.scope {
                    SodScope::Identity => identity_holdings,
                    SodScope::Owner => owner_holdings,
                };
                members.contains(&requested)
                    && members.iter().any(|m| *m != requested && held.contains(m))
            })
            .map(|rule| SodConflict {
                rule: rule.id,
                name: rule.name.clone(),
                scope: rule.scope,
                severity: rule.severity,
            })
            .collect()
    }
}

/// A risk as a number for Cedar comparisons: low 1 … critical 4.
pub(crate) const fn risk_rank(risk: Risk) -> i64 {
    match risk {
        Risk::Low => 1,
        Risk::Medium => 2,
        Risk::High => 3,
        Risk::Critical => 4,
    }
}

/// A severity as a number for Cedar comparisons: low 1 … critical 4.
pub(crate) const fn severity_rank(severity: Severity) -> i64 {
    match severity {
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

#[cfg(test)]
mod tests {
    use writ_domain::ConflictSet;

    use super::*;

    fn rule(members: &[EntitlementId], scope: SodScope) -> SodRule {
        SodRule {
            id: SodRuleId::new(),
            name: Name::parse("writer vs auditor").unwrap(),
            entitlements: ConflictSet::new(members.to_vec()).unwrap(),
            scope,
            severity: Severity::High,
        }
    }

    #[test]
    fn a_grant_completing_a_rule_on_the_identity_is_a_conflict() {
        let (writer, auditor) = (EntitlementId::new(), EntitlementId::new());
        let rules = [rule(&[writer, auditor], SodScope::Identity)];
        let found = SodConflict::find(&rules, auditor, &[writer], &[writer]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name.as_str(), "writer vs auditor");
    }

    #[test]
    fn an_identity_scoped_rule_ignores_the_owners_other_identities() {
        let (writer, auditor) = (EntitlementId::new(), EntitlementId::new());
        let rules = [rule(&[writer, auditor], SodScope::Identity)];
        assert!(SodConflict::find(&rules, auditor, &[], &[writer]).is_empty());
    }

    #[test]
    fn an_owner_scoped_rule_looks_across_the_owners_identities() {
        let (writer, auditor) = (EntitlementId::new(), EntitlementId::new());
        let rules = [rule(&[writer, auditor], SodScope::Owner)];
        assert_eq!(SodConflict::find(&rules, auditor, &[], &[writer]).len(), 1);
    }

    #[test]
    fn rules_not_naming_the_requested_entitlement_are_no_conflict() {
        let (a, b, c) = (
            EntitlementId::new(),
            EntitlementId::new(),
            EntitlementId::new(),
        );
        let rules = [rule(&[a, b], SodScope::Identity)];
        assert!(SodConflict::find(&rules, c, &[a, b], &[a, b]).is_empty());
    }

    #[test]
    fn holding_only_the_requested_entitlement_again_is_no_conflict() {
        let (a, b) = (EntitlementId::new(), EntitlementId::new());
        let rules = [rule(&[a, b], SodScope::Identity)];
        assert!(SodConflict::find(&rules, a, &[a], &[a]).is_empty());
    }
}
