//! Entitlements: the catalog of what can be requested, with its risk, TTL limits and approval
//! policy.

use crate::error::ParseError;
use crate::id::{EntitlementId, PrincipalId, SystemId};
use crate::kinds::{Environment, IdentityKind, Risk};
use crate::name::{EntitlementKey, Name};
use crate::ttl::Ttl;

/// A catalog item: a role, group, scope or secret class of one System.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entitlement {
    /// writ's id.
    pub id: EntitlementId,
    /// The system the entitlement belongs to.
    pub system: SystemId,
    /// The connector's native id of the entitlement.
    pub key: EntitlementKey,
    /// The display name.
    pub name: Name,
    /// What holding it lets an identity do.
    pub description: String,
    /// How much damage it can do in the wrong hands.
    pub risk: Risk,
    /// The environment, when it differs from its system's (e.g. a production schema on a
    /// shared server).
    pub environment: Option<Environment>,
    /// Default and longest TTL of a grant.
    pub ttl: TtlPolicy,
    /// Whether it appears in the catalog for ordinary requests.
    pub requestable: bool,
    /// Which kinds of identity may hold it; empty means every kind.
    pub allowed_identity_kinds: Vec<IdentityKind>,
    /// The approval stages a request must pass, in order; each needs its own approver.
    pub approval_stages: Vec<ApprovalStage>,
    /// Present when break-glass elevation to this entitlement is allowed.
    pub break_glass: Option<BreakGlass>,
    /// The principal accountable for the entitlement; may be named as an approver.
    pub owner: PrincipalId,
}

impl Entitlement {
    /// The environment the entitlement lives in: its own override, else its system's.
    pub fn environment_in(&self, system_environment: Environment) -> Environment {
        self.environment.unwrap_or(system_environment)
    }

    /// Whether an identity of `kind` may hold the entitlement.
    pub fn allows_kind(&self, kind: IdentityKind) -> bool {
        self.allowed_identity_kinds.is_empty() || self.allowed_identity_kinds.contains(&kind)
    }
}

/// The TTL limits of an entitlement: a default no longer than the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "TtlPolicyFields", into = "TtlPolicyFields")]
pub struct TtlPolicy {
    default: Ttl,
    max: Ttl,
}

/// The wire shape of a [`TtlPolicy`], checked on the way in.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct TtlPolicyFields {
    default: Ttl,
    max: Ttl,
}

impl TtlPolicy {
    /// Limits with the given default and maximum; refused when the default exceeds the maximum.
    pub fn new(default: Ttl, max: Ttl) -> Result<Self, ParseError> {
        if default > max {
            return Err(ParseError::new(
                "ttl policy",
                format!("default {default}, max {max}"),
                "the default ttl must not exceed the max ttl",
            ));
        }
        Ok(Self { default, max })
    }

    /// The TTL of a request that names none.
    pub fn default_ttl(&self) -> Ttl {
        self.default
    }

    /// The longest TTL a request may ask for.
    pub fn max_ttl(&self) -> Ttl {
        self.max
    }

    /// The TTL a request gets: what it asked for, else the default.
    pub fn effective(&self, requested: Option<Ttl>) -> Ttl {
        requested.unwrap_or(self.default)
    }

    /// Whether `ttl` is within the maximum.
    pub fn permits(&self, ttl: Ttl) -> bool {
        ttl <= self.max
    }
}

impl TryFrom<TtlPolicyFields> for TtlPolicy {
    type Error = ParseError;

    fn try_from(fields: TtlPolicyFields) -> Result<Self, Self::Error> {
        Self::new(fields.default, fields.max)
    }
}

impl From<TtlPolicy> for TtlPolicyFields {
    fn from(policy: TtlPolicy) -> Self {
        Self {
            default: policy.default,
            max: policy.max,
        }
    }
}

/// One stage of an approval policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApprovalStage {
    /// The stage's name, recorded on each approval of it.
    pub name: Name,
    /// Who may approve the stage.
    pub approvers: ApproverRule,
}

/// Who may approve a stage (or review a grant). The requester never approves their own
/// request, whatever the rule says; policy enforces that.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApproverRule {
    /// The owner of the identity the request is for.
    IdentityOwner,
    /// The owner of the entitlement's system.
    SystemOwner,
    /// The owner of the entitlement.
    EntitlementOwner,
    /// Any member of this IdP group.
    Group(String),
    /// This principal.
    Principal(PrincipalId),
}

/// Break-glass terms of an entitlement: pre-approved, short, reviewed after use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BreakGlass {
    /// The longest a break-glass grant may last (typically an hour or less).
    pub max_ttl: Ttl,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ttl(text: &str) -> Ttl {
        Ttl::parse(text).unwrap()
    }

    #[test]
    fn ttl_policy_refuses_a_default_longer_than_the_max() {
        let err = TtlPolicy::new(ttl("8d"), ttl("7d")).unwrap_err();
        assert_eq!(err.what, "ttl policy");
        assert_eq!(err.value, "default 8d, max 1w");
    }

    #[test]
    fn ttl_policy_allows_a_default_equal_to_the_max() {
        let policy = TtlPolicy::new(ttl("7d"), ttl("1w")).unwrap();
        assert_eq!(policy.default_ttl(), policy.max_ttl());
    }

    #[test]
    fn ttl_policy_fills_in_the_default_and_checks_the_max() {
        let policy = TtlPolicy::new(ttl("8h"), ttl("7d")).unwrap();
        assert_eq!(policy.effective(None), ttl("8h"));
        assert_eq!(policy.effective(Some(ttl("1d"))), ttl("1d"));
        assert!(policy.permits(ttl("7d")));
        assert!(!policy.permits(ttl("8d")));
    }

    #[test]
    fn deserializing_a_ttl_policy_enforces_its_invariant() {
        let ok: TtlPolicy = serde_json::from_str(r#"{"default":"8h","max":"7d"}"#).unwrap();
        assert_eq!(ok.max_ttl(), ttl("7d"));
        assert!(serde_json::from_str::<TtlPolicy>(r#"{"default":"8d","max":"7d"}"#).is_err());
    }

    #[test]
    fn approver_rules_serialize_readably() {
        let rules = vec![
            ApproverRule::IdentityOwner,
            ApproverRule::Group("sre".into()),
        ];
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(json, r#"["identity_owner",{"group":"sre"}]"#);
        assert_eq!(
            serde_json::from_str::<Vec<ApproverRule>>(&json).unwrap(),
            rules
        );
    }

    #[test]
    fn an_empty_kind_list_allows_every_kind() {
        let mut entitlement = Entitlement {
            id: EntitlementId::new(),
            system: SystemId::new(),
            key: EntitlementKey::parse("reader").unwrap(),
            name: Name::parse("Reader").unwrap(),
            description: String::new(),
            risk: Risk::Low,
            environment: None,
            ttl: TtlPolicy::new(ttl("1d"), ttl("7d")).unwrap(),
            requestable: true,
            allowed_identity_kinds: vec![],
            approval_stages: vec![],
            break_glass: None,
            owner: PrincipalId::new(),
        };
        assert!(entitlement.allows_kind(IdentityKind::AiAgent));
        entitlement.allowed_identity_kinds = vec![IdentityKind::Workload];
        assert!(!entitlement.allows_kind(IdentityKind::AiAgent));
        assert!(entitlement.allows_kind(IdentityKind::Workload));
        assert_eq!(
            entitlement.environment_in(Environment::Staging),
            Environment::Staging
        );
    }
}
