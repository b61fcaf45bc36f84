//! Separation of duties: entitlements that must not be held together.

use crate::error::ParseError;
use crate::id::{EntitlementId, SodRuleId};
use crate::kinds::{Severity, SodScope};
use crate::name::Name;

/// A separation-of-duties rule: entitlements that one identity (or one owner's identities)
/// must not hold together.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SodRule {
    /// writ's id.
    pub id: SodRuleId,
    /// The rule's name, shown when it is broken.
    pub name: Name,
    /// The mutually exclusive entitlements.
    pub entitlements: ConflictSet,
    /// Whose holdings are taken together.
    pub scope: SodScope,
    /// How serious a breach is.
    pub severity: Severity,
}

impl SodRule {
    /// The members of the rule's set found among `held`, when there are two or more of them
    /// (a breach); `None` when `held` respects the rule.
    pub fn breach(&self, held: &[EntitlementId]) -> Option<Vec<EntitlementId>> {
        let found: Vec<EntitlementId> = self
            .entitlements
            .as_slice()
            .iter()
            .filter(|e| held.contains(e))
            .copied()
            .collect();
        (found.len() >= 2).then_some(found)
    }
}

/// At least two distinct entitlements, any two of which conflict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<EntitlementId>", into = "Vec<EntitlementId>")]
pub struct ConflictSet(Vec<EntitlementId>);

impl ConflictSet {
    /// A set of the given entitlements; refused when there are fewer than two or one repeats.
    pub fn new(entitlements: Vec<EntitlementId>) -> Result<Self, ParseError> {
        let shown = || {
            let ids: Vec<String> = entitlements.iter().map(ToString::to_string).collect();
            ids.join(", ")
        };
        if entitlements.len() < 2 {
            return Err(ParseError::new(
                "sod entitlement set",
                shown(),
                "must name at least two entitlements",
            ));
        }
        for (i, e) in entitlements.iter().enumerate() {
            if entitlements[..i].contains(e) {
                return Err(ParseError::new(
                    "sod entitlement set",
                    shown(),
                    format!("names `{e}` more than once"),
                ));
            }
        }
        Ok(Self(entitlements))
    }

    /// The entitlements, in the order given.
    pub fn as_slice(&self) -> &[EntitlementId] {
        &self.0
    }
}

impl TryFrom<Vec<EntitlementId>> for ConflictSet {
    type Error = ParseError;

    fn try_from(entitlements: Vec<EntitlementId>) -> Result<Self, Self::Error> {
        Self::new(entitlements)
    }
}

impl From<ConflictSet> for Vec<EntitlementId> {
    fn from(set: ConflictSet) -> Self {
        set.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(entitlements: Vec<EntitlementId>) -> SodRule {
        SodRule {
            id: SodRuleId::new(),
            name: Name::parse("deploy vs approve").unwrap(),
            entitlements: ConflictSet::new(entitlements).unwrap(),
            scope: SodScope::Identity,
            severity: Severity::High,
        }
    }

    #[test]
    fn a_set_needs_two_entitlements() {
        assert!(ConflictSet::new(vec![]).is_err());
        let err = ConflictSet::new(vec![EntitlementId::new()]).unwrap_err();
        assert_eq!(err.reason, "must name at least two entitlements");
    }

    #[test]
    fn a_set_refuses_a_repeated_entitlement() {
        let a = EntitlementId::new();
        let err = ConflictSet::new(vec![a, EntitlementId::new(), a]).unwrap_err();
        assert!(err.reason.contains("more than once"));
    }

    #[test]
    fn deserializing_a_set_enforces_its_invariant() {
        let a = EntitlementId::new();
        let json = serde_json::to_string(&vec![a, a]).unwrap();
        assert!(serde_json::from_str::<ConflictSet>(&json).is_err());
        let good = ConflictSet::new(vec![a, EntitlementId::new()]).unwrap();
        let json = serde_json::to_string(&good).unwrap();
        assert_eq!(serde_json::from_str::<ConflictSet>(&json).unwrap(), good);
    }

    #[test]
    fn holding_one_member_is_no_breach() {
        let (a, b, c) = (
            EntitlementId::new(),
            EntitlementId::new(),
            EntitlementId::new(),
        );
        assert_eq!(rule(vec![a, b, c]).breach(&[a, EntitlementId::new()]), None);
    }

    #[test]
    fn holding_any_two_members_is_a_breach() {
        let (a, b, c) = (
            EntitlementId::new(),
            EntitlementId::new(),
            EntitlementId::new(),
        );
        assert_eq!(rule(vec![a, b, c]).breach(&[c, a]), Some(vec![a, c]));
    }
}
