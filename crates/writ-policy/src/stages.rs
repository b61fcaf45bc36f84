//! Approval requirements: which stages a request must pass and who may decide each. Pure
//! routing facts computed in Rust; the approval decision itself is Cedar's.

use writ_domain::{ApprovalStage, ApproverRule, Environment, Name, PrincipalId, RequestKind, Risk};

use crate::facts::{PrincipalFacts, RequestFacts};

/// Settings of the default approval routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageDefaults {
    /// The IdP group whose members form the security approval stage.
    pub security_group: String,
}

impl Default for StageDefaults {
    fn default() -> Self {
        Self {
            security_group: "security".to_owned(),
        }
    }
}

/// A stage name written in this file.
fn fixed_name(text: &'static str) -> Name {
    // Every caller passes a short, non-empty literal without control characters, which
    // `Name::parse` always accepts; the fallback is never taken.
    Name::parse(text).unwrap_or_else(|_| unreachable!("`{text}` is a valid stage name"))
}

/// The approval stages a request must pass, in order; each needs its own approver.
///
/// - `break_glass`, `revoke` and `rotate` need none: break-glass is pre-approved and reviewed
///   after use, and taking access away or rotating a credential is never held up.
/// - `grant` and `exception`: the entitlement's configured stages, else one stage
///   `identity owner`. Production or risk ≥ high needs two distinct approvers, so a
///   `security` stage (a member of [`StageDefaults::security_group`]) is added when fewer than
///   two are configured. An `exception` always passes a `security` stage.
/// - `offboard`: `identity owner`.
/// - `transfer`: `new owner`, who accepts the identity; `identity owner` when the new owner
///   asked.
///
/// Nobody approves their own request, so a stage the requester alone could decide is routed
/// elsewhere: when the requester owns the identity, an `identity owner` stage is decided by
/// the entitlement's owner instead (and dropped for `offboard`, which the owner may decide).
pub fn required_stages(request: &RequestFacts, defaults: &StageDefaults) -> Vec<ApprovalStage> {
    let requester_owns_identity = request.requester.id == request.identity.owner.id;
    let owner_stage = || ApprovalStage {
        name: fixed_name("identity owner"),
        approvers: ApproverRule::IdentityOwner,
    };
    let security_stage = || ApprovalStage {
        name: fixed_name("security"),
        approvers: ApproverRule::Group(defaults.security_group.clone()),
    };
    match request.kind {
        RequestKind::BreakGlass | RequestKind::Revoke | RequestKind::Rotate => Vec::new(),
        RequestKind::Offboard if requester_owns_identity => Vec::new(),
        RequestKind::Offboard => vec![owner_stage()],
        RequestKind::Transfer => match &request.new_owner {
            Some(new_owner) if new_owner.id != request.requester.id => vec![ApprovalStage {
                name: fixed_name("new owner"),
                approvers: ApproverRule::Principal(new_owner.id),
            }],
            _ => vec![owner_stage()],
        },
        RequestKind::Grant | RequestKind::Exception => {
            let (configured, risk, environment) = match &request.entitlement {
                Some(e) => (e.approval_stages.as_slice(), e.risk, e.environment),
                None => (&[][..], Risk::Low, request.identity.environment),
            };
            let mut stages = if configured.is_empty() {
                vec![owner_stage()]
            } else {
                configured.to_vec()
            };
            reassign_unsatisfiable(&mut stages, request, defaults);
            let dual = environment == Environment::Production || risk >= Risk::High;
            let exception = request.kind == RequestKind::Exception;
            if ((dual && stages.len() < 2) || exception) && !has_security_stage(&stages, defaults) {
                stages.push(security_stage());
            }
            stages
        }
    }
}

/// Makes every stage decidable by someone allowed to decide it. A stage that only one person
/// can decide (an owner, a named principal) cannot be decided by the requester, nor by a person
/// who alone decides an earlier stage (approvers are distinct across stages). Such a stage
/// passes to the next accountable person: for the identity owner's stage, the entitlement's
/// owner, then the system's owner; in the end, the security group.
fn reassign_unsatisfiable(
    stages: &mut [ApprovalStage],
    request: &RequestFacts,
    defaults: &StageDefaults,
) {
    let mut deciders = vec![request.requester.id];
    for stage in stages.iter_mut() {
        let candidates = match &stage.approvers {
            ApproverRule::IdentityOwner => vec![
                ApproverRule::IdentityOwner,
                ApproverRule::EntitlementOwner,
                ApproverRule::SystemOwner,
            ],
            ApproverRule::EntitlementOwner => {
                vec![ApproverRule::EntitlementOwner, ApproverRule::SystemOwner]
            }
            other => vec![other.clone()],
        };
        let chosen = candidates
            .into_iter()
            .find_map(|rule| match sole_decider(&rule, request) {
                Some(person) if deciders.contains(&person) => None,
                Some(person) => Some((rule, Some(person))),
                None => Some((rule, None)),
            });
        match chosen {
            Some((rule, person)) => {
                stage.approvers = rule;
                deciders.extend(person);
            }
            None => stage.approvers = ApproverRule::Group(defaults.security_group.clone()),
        }
    }
}

/// The one person who can decide a stage under `rule`, when only one can.
fn sole_decider(rule: &ApproverRule, request: &RequestFacts) -> Option<PrincipalId> {
    match rule {
        ApproverRule::IdentityOwner => Some(request.identity.owner.id),
        ApproverRule::SystemOwner => request.entitlement.as_ref().map(|e| e.system_owner),
        ApproverRule::EntitlementOwner => request.entitlement.as_ref().map(|e| e.owner),
        ApproverRule::Principal(id) => Some(*id),
        ApproverRule::Group(_) => None,
    }
}

/// Whether `stages` include a named security approval stage: one decided by members of the
/// security group.
pub fn has_security_stage(stages: &[ApprovalStage], defaults: &StageDefaults) -> bool {
    stages
        .iter()
        .any(|s| matches!(&s.approvers, ApproverRule::Group(g) if *g == defaults.security_group))
}

/// Who else may decide a stage of `rule` as it escalates past its SLA, in order: each
/// escalation adds the next accountable rule (the entitlement's owner, then the system's
/// owner), ending with the security group. A stage with nobody left to add expires instead.
pub fn escalation_ladder(rule: &ApproverRule, defaults: &StageDefaults) -> Vec<ApproverRule> {
    let security = ApproverRule::Group(defaults.security_group.clone());
    let mut ladder = match rule {
        ApproverRule::IdentityOwner => {
            vec![ApproverRule::EntitlementOwner, ApproverRule::SystemOwner]
        }
        ApproverRule::EntitlementOwner => vec![ApproverRule::SystemOwner],
        ApproverRule::SystemOwner | ApproverRule::Group(_) | ApproverRule::Principal(_) => {
            Vec::new()
        }
    };
    if *rule != security {
        ladder.push(security);
    }
    ladder
}

/// Whether `approver` satisfies `rule` for `request`. Being the requester's manager is not a
/// rule: policy decides what that is worth.
pub fn stage_rule_matches(
    rule: &ApproverRule,
    approver: &PrincipalFacts,
    request: &RequestFacts,
) -> bool {
    match rule {
        ApproverRule::IdentityOwner => approver.id == request.identity.owner.id,
        ApproverRule::SystemOwner => request
            .entitlement
            .as_ref()
            .is_some_and(|e| e.system_owner == approver.id),
        ApproverRule::EntitlementOwner => request
            .entitlement
            .as_ref()
            .is_some_and(|e| e.owner == approver.id),
        ApproverRule::Group(group) => approver.is_in_group(group),
        ApproverRule::Principal(id) => approver.id == *id,
    }
}

/// Who may decide a stage of `rule`, in words for a reason.
pub(crate) fn describe_rule(rule: &ApproverRule, request: &RequestFacts) -> String {
    match rule {
        ApproverRule::IdentityOwner => {
            format!("the identity's owner `{}`", request.identity.owner.name)
        }
        ApproverRule::SystemOwner => match &request.entitlement {
            Some(e) => format!("the owner of system `{}`", e.system),
            None => "the system's owner".to_owned(),
        },
        ApproverRule::EntitlementOwner => match &request.entitlement {
            Some(e) => format!("the owner of entitlement `{}`", e.name),
            None => "the entitlement's owner".to_owned(),
        },
        ApproverRule::Group(group) => format!("a member of group `{group}`"),
        ApproverRule::Principal(id) => match &request.new_owner {
            Some(p) if p.id == *id => format!("`{}`", p.name),
            _ => format!("the principal `{id}`"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ci_token, name, person, request, writer};

    /// A teammate's grant of the (staging, low-risk) writer.
    fn teammate_grant() -> RequestFacts {
        let owner = person("Olivia Owner");
        let mut teammate = person("Tom Teammate");
        teammate.groups = vec!["payments".into()];
        request(
            RequestKind::Grant,
            &teammate,
            &ci_token(&owner),
            &writer(),
            "1d",
        )
    }

    fn rules(stages: &[ApprovalStage]) -> Vec<&ApproverRule> {
        stages.iter().map(|s| &s.approvers).collect()
    }

    #[test]
    fn a_low_risk_staging_grant_needs_the_identity_owner_alone() {
        let stages = required_stages(&teammate_grant(), &StageDefaults::default());
        assert_eq!(stages.len(), 1);
        assert_eq!(stages[0].name.as_str(), "identity owner");
        assert_eq!(stages[0].approvers, ApproverRule::IdentityOwner);
    }

    #[test]
    fn a_production_grant_adds_a_security_stage() {
        let mut request = teammate_grant();
        request.entitlement.as_mut().unwrap().environment = Environment::Production;
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(
            rules(&stages),
            [
                &ApproverRule::IdentityOwner,
                &ApproverRule::Group("security".into())
            ]
        );
        assert!(has_security_stage(&stages, &StageDefaults::default()));
    }

    #[test]
    fn a_high_risk_grant_with_two_configured_stages_keeps_them() {
        let mut request = teammate_grant();
        let entitlement = request.entitlement.as_mut().unwrap();
        entitlement.risk = Risk::High;
        entitlement.approval_stages = vec![
            ApprovalStage {
                name: name("owner"),
                approvers: ApproverRule::IdentityOwner,
            },
            ApprovalStage {
                name: name("dba"),
                approvers: ApproverRule::Group("dba".into()),
            },
        ];
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(
            rules(&stages),
            [
                &ApproverRule::IdentityOwner,
                &ApproverRule::Group("dba".into())
            ]
        );
    }

    #[test]
    fn an_owners_own_request_is_decided_by_the_entitlement_owner() {
        let mut request = teammate_grant();
        request.requester = request.identity.owner.clone();
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(rules(&stages), [&ApproverRule::EntitlementOwner]);
    }

    #[test]
    fn an_owner_who_also_owns_the_entitlement_and_system_is_decided_by_security() {
        let mut request = teammate_grant();
        request.requester = request.identity.owner.clone();
        let owner = request.requester.id;
        let entitlement = request.entitlement.as_mut().unwrap();
        entitlement.owner = owner;
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(rules(&stages), [&ApproverRule::SystemOwner]);

        request.entitlement.as_mut().unwrap().system_owner = owner;
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(rules(&stages), [&ApproverRule::Group("security".into())]);
    }

    #[test]
    fn an_exception_always_passes_a_security_stage() {
        let mut request = teammate_grant();
        request.kind = RequestKind::Exception;
        let defaults = StageDefaults {
            security_group: "secops".into(),
        };
        let stages = required_stages(&request, &defaults);
        assert_eq!(
            rules(&stages),
            [
                &ApproverRule::IdentityOwner,
                &ApproverRule::Group("secops".into())
            ]
        );
        assert!(has_security_stage(&stages, &defaults));
        assert!(!has_security_stage(&stages, &StageDefaults::default()));
    }

    #[test]
    fn break_glass_revoke_and_rotate_need_no_approval() {
        for kind in [
            RequestKind::BreakGlass,
            RequestKind::Revoke,
            RequestKind::Rotate,
        ] {
            let mut request = teammate_grant();
            request.kind = kind;
            assert!(required_stages(&request, &StageDefaults::default()).is_empty());
        }
    }

    #[test]
    fn a_transfer_is_accepted_by_the_new_owner() {
        let mut request = teammate_grant();
        let new_owner = person("Nora New");
        request.kind = RequestKind::Transfer;
        request.new_owner = Some(new_owner.clone());
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(rules(&stages), [&ApproverRule::Principal(new_owner.id)]);
        request.requester = new_owner;
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(rules(&stages), [&ApproverRule::IdentityOwner]);
    }

    #[test]
    fn an_offboard_by_the_owner_needs_no_approval_and_by_a_teammate_the_owners() {
        let mut request = teammate_grant();
        request.kind = RequestKind::Offboard;
        let stages = required_stages(&request, &StageDefaults::default());
        assert_eq!(rules(&stages), [&ApproverRule::IdentityOwner]);
        request.requester = request.identity.owner.clone();
        assert!(required_stages(&request, &StageDefaults::default()).is_empty());
    }

    #[test]
    fn escalation_widens_an_owner_stage_up_to_security_and_stops_there() {
        let defaults = StageDefaults::default();
        let security = ApproverRule::Group("security".into());
        assert_eq!(
            escalation_ladder(&ApproverRule::IdentityOwner, &defaults),
            vec![
                ApproverRule::EntitlementOwner,
                ApproverRule::SystemOwner,
                security.clone()
            ]
        );
        assert_eq!(
            escalation_ladder(&ApproverRule::Group("dba".into()), &defaults),
            vec![security.clone()]
        );
        assert!(escalation_ladder(&security, &defaults).is_empty());
    }

    #[test]
    fn each_approver_rule_matches_only_its_principals() {
        let request = teammate_grant();
        let entitlement = request.entitlement.clone().unwrap();
        let owner = request.identity.owner.clone();
        let mut system_owner = person("Sys Owner");
        system_owner.id = entitlement.system_owner;
        let mut entitlement_owner = person("Ent Owner");
        entitlement_owner.id = entitlement.owner;
        let mut secops = person("Sec Ops");
        secops.groups = vec!["security".into()];
        let stranger = person("Sam Stranger");
        let cases = [
            (ApproverRule::IdentityOwner, &owner),
            (ApproverRule::SystemOwner, &system_owner),
            (ApproverRule::EntitlementOwner, &entitlement_owner),
            (ApproverRule::Group("security".into()), &secops),
            (ApproverRule::Principal(stranger.id), &stranger),
        ];
        for (rule, eligible) in &cases {
            assert!(stage_rule_matches(rule, eligible, &request), "{rule:?}");
            let others = cases.iter().filter(|(_, p)| p.id != eligible.id);
            for (_, other) in others {
                assert!(!stage_rule_matches(rule, other, &request), "{rule:?}");
            }
        }
    }
}
