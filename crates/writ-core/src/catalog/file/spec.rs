//! What a catalog file declares, by natural keys (names, e-mail addresses, `system:key`) rather
//! than ids: ids are assigned when the file is applied against the store.

use writ_domain::{
    ApproverRule, BreakGlass, ConnectorKind, Criticality, Email, EntitlementKey, Environment,
    IdentityKind, IdentityStatus, Name, PrincipalId, Risk, Severity, SodScope, TtlPolicy,
};

/// Everything one catalog file declares; every section may be absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogFile {
    /// The file's name as given to the parser, for error messages.
    pub file: String,
    /// People who own, request and approve.
    pub principals: Vec<PrincipalSpec>,
    /// Target systems.
    pub systems: Vec<SystemSpec>,
    /// What can be requested.
    pub entitlements: Vec<EntitlementSpec>,
    /// Entitlements that must not be held together.
    pub sod_rules: Vec<SodRuleSpec>,
    /// Non-human identities under governance.
    pub identities: Vec<IdentitySpec>,
}

/// A principal, keyed by e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalSpec {
    /// The IdP's subject.
    pub external_id: String,
    /// The natural key.
    pub email: Email,
    /// The display name.
    pub name: Name,
    /// The manager's e-mail address.
    pub manager: Option<Email>,
    /// IdP groups the principal belongs to.
    pub groups: Vec<String>,
    /// False for a principal who has left; `true` unless the file says otherwise.
    pub active: bool,
}

/// A target system, keyed by name.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemSpec {
    /// The natural key.
    pub name: Name,
    /// Which connector reaches the system.
    pub connector: ConnectorKind,
    /// The connector's settings, a JSON object whose secrets are only references
    /// (`{"env": "VAR"}` or `{"file": "/path"}`).
    pub config: serde_json::Value,
    /// The accountable principal's e-mail address.
    pub owner: Email,
    /// Which environment the system belongs to.
    pub environment: Environment,
    /// How much the business depends on the system.
    pub criticality: Criticality,
}

/// An entitlement, keyed by its system's name and its native key.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitlementSpec {
    /// The name of the system it belongs to.
    pub system: Name,
    /// The connector's native id, unique within the system.
    pub key: EntitlementKey,
    /// The display name.
    pub name: Name,
    /// What holding it lets an identity do; empty when the file gives none.
    pub description: String,
    /// How much damage it can do in the wrong hands.
    pub risk: Risk,
    /// The environment, when it differs from its system's.
    pub environment: Option<Environment>,
    /// Default and longest TTL of a grant.
    pub ttl: TtlPolicy,
    /// Whether it appears in the catalog for ordinary requests; `true` unless the file says
    /// otherwise.
    pub requestable: bool,
    /// Which kinds of identity may hold it; empty means every kind.
    pub allowed_identity_kinds: Vec<IdentityKind>,
    /// The approval stages, in order.
    pub approval_stages: Vec<ApprovalStageSpec>,
    /// Present when break-glass elevation to it is allowed.
    pub break_glass: Option<BreakGlass>,
    /// The accountable principal's e-mail address.
    pub owner: Email,
}

impl EntitlementSpec {
    /// The `system:key` form SoD rules and messages use.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.system, self.key)
    }
}

/// One approval stage of an entitlement, as the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalStageSpec {
    /// The stage's name, unique within the entitlement.
    pub name: Name,
    /// Who may approve the stage.
    pub approvers: ApproverSpec,
}

/// Who may approve a stage, with a named principal still an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApproverSpec {
    /// The owner of the identity the request is for.
    IdentityOwner,
    /// The owner of the entitlement's system.
    SystemOwner,
    /// The owner of the entitlement.
    EntitlementOwner,
    /// Any member of this IdP group.
    Group(String),
    /// The principal with this e-mail address.
    Principal(Email),
}

impl ApproverSpec {
    /// The domain rule, resolving a named principal with `principal_id`; `None` when it does
    /// not know the address.
    pub fn to_rule(
        &self,
        principal_id: impl FnOnce(&Email) -> Option<PrincipalId>,
    ) -> Option<ApproverRule> {
        Some(match self {
            Self::IdentityOwner => ApproverRule::IdentityOwner,
            Self::SystemOwner => ApproverRule::SystemOwner,
            Self::EntitlementOwner => ApproverRule::EntitlementOwner,
            Self::Group(group) => ApproverRule::Group(group.clone()),
            Self::Principal(email) => ApproverRule::Principal(principal_id(email)?),
        })
    }
}

/// A separation-of-duties rule, keyed by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodRuleSpec {
    /// The natural key, shown when the rule is broken.
    pub name: Name,
    /// At least two distinct entitlements, each as its system's name and its key.
    pub entitlements: Vec<(Name, EntitlementKey)>,
    /// Whose holdings are taken together.
    pub scope: SodScope,
    /// How serious a breach is.
    pub severity: Severity,
}

/// A non-human identity, keyed by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySpec {
    /// The natural key.
    pub name: Name,
    /// What sort of identity it is.
    pub kind: IdentityKind,
    /// The accountable principal's e-mail address.
    pub owner: Email,
    /// The team it belongs to.
    pub team: Option<String>,
    /// What it is for.
    pub purpose: String,
    /// Which environment it runs in.
    pub environment: Environment,
    /// Where it is in its life; `active` unless the file says otherwise.
    pub status: IdentityStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_principal_approver_resolves_through_the_lookup() {
        let email = Email::parse("sec@example.com").unwrap();
        let id = PrincipalId::new();
        let spec = ApproverSpec::Principal(email.clone());
        assert_eq!(
            spec.to_rule(|e| (e == &email).then_some(id)),
            Some(ApproverRule::Principal(id))
        );
        assert_eq!(spec.to_rule(|_| None), None);
        assert_eq!(
            ApproverSpec::Group("security".into()).to_rule(|_| None),
            Some(ApproverRule::Group("security".into()))
        );
    }
}
