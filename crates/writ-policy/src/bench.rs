//! Prepared workloads for `writ bench policy`: a generated catalog, requests over it and
//! operator policies, so that the command times decisions and nothing else. Deterministic for
//! a given size (ids aside), with no randomness source but a fixed-seed generator.

use writ_domain::{
    ApprovalDecision, ApprovalStage, ApproverRule, BreakGlass, EntitlementId, Environment,
    IdentityId, IdentityKind, IdentityStatus, Name, PlanHash, PrincipalId, RequestKind, Risk,
    Timestamp, Ttl, TtlPolicy,
};

use crate::approve::ApproveInput;
use crate::engine::PolicyEngine;
use crate::error::PolicyError;
use crate::facts::{EntitlementFacts, IdentityFacts, PrincipalFacts, RequestFacts};
use crate::source::PolicySource;
use crate::submit::SubmitInput;

/// Submissions and approvals over a generated catalog.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Submissions: mostly grants, some break-glass, exceptions and revocations, a few refused.
    pub submits: Vec<SubmitInput>,
    /// Approvals of the identity-owner stage by the identity's owner.
    pub approvals: Vec<ApproveInput>,
}

/// A small fixed-seed generator (xorshift64*): the workload needs variety, not secrecy.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.next() % n).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

fn name(text: String) -> Result<Name, PolicyError> {
    Name::parse(&text).map_err(|e| invalid_workload(e.to_string()))
}

fn ttl(secs: u64) -> Result<Ttl, PolicyError> {
    Ttl::from_secs(secs).map_err(|e| invalid_workload(e.to_string()))
}

fn invalid_workload(message: String) -> PolicyError {
    PolicyError::Invalid(vec![crate::Problem {
        file: "bench".to_owned(),
        line: 1,
        column: 1,
        message,
    }])
}

const TEAMS: usize = 20;

impl Workload {
    /// A catalog of `identities` identities (one owner per ten, in twenty teams) and
    /// `entitlements` entitlements (ten per system), and `requests` submissions and approvals
    /// drawn from it.
    pub fn generate(
        identities: usize,
        entitlements: usize,
        requests: usize,
    ) -> Result<Workload, PolicyError> {
        let mut draw = Draw(0x9E37_79B9_7F4A_7C15);
        let owners: Vec<PrincipalFacts> = (0..identities.div_ceil(10).max(1))
            .map(|i| PrincipalFacts {
                id: PrincipalId::new(),
                name: format!("owner-{i}"),
                active: true,
                admin: false,
                groups: vec![format!("team-{}", i % TEAMS), "engineering".to_owned()],
                manager: None,
            })
            .collect();
        let mut catalog_identities = Vec::with_capacity(identities);
        for i in 0..identities.max(1) {
            let owner = owners.get(i / 10).or(owners.first()).cloned();
            let Some(owner) = owner else { break };
            catalog_identities.push(IdentityFacts {
                id: IdentityId::new(),
                name: name(format!("nhi-{i}"))?,
                kind: *draw
                    .pick(IdentityKind::ALL)
                    .unwrap_or(&IdentityKind::Workload),
                status: IdentityStatus::Active,
                environment: *draw.pick(Environment::ALL).unwrap_or(&Environment::Staging),
                team: Some(format!("team-{}", (i / 10) % TEAMS)),
                owner,
            });
        }
        let mut catalog_entitlements = Vec::with_capacity(entitlements);
        for i in 0..entitlements.max(1) {
            let max = 86_400 * (1 + draw.below(14) as u64);
            catalog_entitlements.push(EntitlementFacts {
                id: EntitlementId::new(),
                name: name(format!("system-{}:role-{i}", i / 10))?,
                system: name(format!("system-{}", i / 10))?,
                system_owner: PrincipalId::new(),
                owner: PrincipalId::new(),
                risk: *draw.pick(Risk::ALL).unwrap_or(&Risk::Low),
                environment: *draw.pick(Environment::ALL).unwrap_or(&Environment::Staging),
                requestable: true,
                ttl: TtlPolicy::new(ttl(3_600)?, ttl(max)?)
                    .map_err(|e| invalid_workload(e.to_string()))?,
                allowed_kinds: Vec::new(),
                break_glass: Some(BreakGlass {
                    max_ttl: ttl(3_600)?,
                }),
                approval_stages: Vec::new(),
            });
        }

        let mut submits = Vec::with_capacity(requests);
        let mut approvals = Vec::with_capacity(requests);
        for _ in 0..requests {
            let (Some(identity), Some(entitlement)) = (
                draw.pick(&catalog_identities),
                draw.pick(&catalog_entitlements),
            ) else {
                break;
            };
            let kind = match draw.below(10) {
                0 => RequestKind::BreakGlass,
                1 => RequestKind::Exception,
                2 => RequestKind::Revoke,
                _ => RequestKind::Grant,
            };
            let max = entitlement.ttl.max_ttl().as_secs();
            let secs = match kind {
                RequestKind::BreakGlass => 1_800,
                // One request in ten asks for more than the maximum and is refused.
                _ if draw.below(10) == 0 => max + 86_400,
                _ => 3_600 * (1 + draw.below(usize::try_from(max / 3_600).unwrap_or(1)) as u64),
            };
            let request = RequestFacts {
                kind,
                requester: identity.owner.clone(),
                identity: identity.clone(),
                entitlement: Some(entitlement.clone()),
                new_owner: None,
                ttl: Some(ttl(secs.min(Ttl::MAX.as_secs()))?),
                end: Some(Timestamp::from_micros(14 * 86_400 * 1_000_000)),
            };
            submits.push(SubmitInput {
                request: request.clone(),
                now: Timestamp::EPOCH,
                justification_present: true,
                sod_conflicts: Vec::new(),
                open_break_glass_review: false,
                security_stage: kind == RequestKind::Exception,
            });
            let mut grant = request;
            grant.kind = RequestKind::Grant;
            let mut requester = grant.requester.clone();
            requester.id = PrincipalId::new();
            requester.name = format!("{}-teammate", requester.name);
            grant.requester = requester;
            let plan = PlanHash::from_bytes([draw.below(256) as u8; 32]);
            approvals.push(ApproveInput {
                approver: grant.identity.owner.clone(),
                request: grant,
                stage: ApprovalStage {
                    name: name("identity owner".to_owned())?,
                    approvers: ApproverRule::IdentityOwner,
                },
                escalated_to: Vec::new(),
                decision: ApprovalDecision::Approve,
                plan_hash: plan,
                approved_plan_hash: plan,
                prior_approvals: Vec::new(),
            });
        }
        Ok(Workload { submits, approvals })
    }
}

/// `count` operator policies of the kinds operators write, spread over the actions: one in
/// five global (about identity kinds, names and stages), the others each about one of
/// `systems` systems (`system-0`, `system-1`, …, as [`Workload::generate`] names them), scoped
/// `resource in System::"…"`. Few of them refuse the generated requests.
pub fn operator_policies(count: usize, systems: usize) -> Vec<PolicySource> {
    let systems = systems.max(1);
    let text: String = (0..count)
        .map(|i| {
            let system = format!("system-{}", i % systems);
            match i % 5 {
                0 => format!(
                    "@id(\"bench.{i}\")\n@reason(\"legacy identities receive no new access\")\n\
                     forbid (principal, action in [Action::\"grant\", Action::\"break_glass\", Action::\"exception\"], resource)\n\
                     when {{ resource.identity.name like \"legacy-{i}-*\" }};\n\n"
                ),
                1 => format!(
                    "@id(\"bench.{i}\")\n@reason(\"AI agents may not hold `{{system}}`\")\n\
                     forbid (principal, action in [Action::\"grant\", Action::\"exception\"], resource in System::\"{system}\")\n\
                     when {{ resource.identity.kind == \"ai_agent\" && resource.entitlement.risk_rank >= 4 }};\n\n"
                ),
                2 => format!(
                    "@id(\"bench.{i}\")\n@reason(\"stage `{{stage}}` of `{{entitlement}}` is decided by the DBAs\")\n\
                     forbid (principal, action == Action::\"approve\", resource in System::\"{system}\")\n\
                     when {{ context.stage == \"dba\" && !principal.groups.contains(\"dba\") }};\n\n"
                ),
                3 => format!(
                    "@id(\"bench.{i}\")\n@reason(\"development identities get at most 3 days of `{{system}}`\")\n\
                     forbid (principal, action == Action::\"grant\", resource in System::\"{system}\")\n\
                     when {{ resource.identity.environment == \"development\" && resource.entitlement.environment == \"production\" && resource.ttl_secs > 259200 }};\n\n"
                ),
                _ => format!(
                    "@id(\"bench.{i}\")\n@reason(\"break-glass on `{{system}}` is for the on-call team\")\n\
                     forbid (principal, action == Action::\"break_glass\", resource in System::\"{system}\")\n\
                     unless {{ principal.groups.contains(\"engineering\") }};\n\n"
                ),
            }
        })
        .collect();
    vec![PolicySource::new("bench/operator.cedar", text)]
}

/// An engine holding the shipped policies plus generated operator policies about `systems`
/// systems, `total` policies in all (or the shipped ones alone when there are already that
/// many).
pub fn engine_with_policies(total: usize, systems: usize) -> Result<PolicyEngine, PolicyError> {
    let shipped = PolicyEngine::from_sources(&[])?;
    let extra = total.saturating_sub(shipped.policies().count());
    if extra == 0 {
        return Ok(shipped);
    }
    PolicyEngine::from_sources(&operator_policies(extra, systems))
}

/// Decides one prepared submission; what `writ bench policy` times.
pub fn decide_submit(engine: &PolicyEngine, input: &SubmitInput) -> bool {
    engine.decide_submit(input).allowed()
}

/// Decides one prepared approval; what `writ bench policy` times.
pub fn decide_approval(engine: &PolicyEngine, input: &ApproveInput) -> bool {
    engine.decide_approval(input).allowed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_workload_is_mostly_allowed_by_a_hundred_policies() {
        let engine = engine_with_policies(100, 5).unwrap();
        assert_eq!(engine.policies().count(), 100);
        assert_eq!(engine.policies().filter(|p| p.system.is_some()).count(), 60);
        let workload = Workload::generate(200, 50, 200).unwrap();
        assert_eq!(workload.submits.len(), 200);
        let allowed = workload
            .submits
            .iter()
            .filter(|s| decide_submit(&engine, s))
            .count();
        assert!((100..200).contains(&allowed), "{allowed} of 200 allowed");
        assert!(
            workload
                .approvals
                .iter()
                .all(|a| decide_approval(&engine, a))
        );
    }
}
