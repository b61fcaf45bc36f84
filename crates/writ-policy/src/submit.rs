//! The submit decision: may this requester submit this request?

use cedar_policy::{Context, RestrictedExpression};
use writ_domain::Timestamp;

use crate::action::{Action, Shape};
use crate::decision::{Decision, EVALUATION_ERROR, REQUEST_SHAPE, SubmitPermit};
use crate::engine::PolicyEngine;
use crate::entities::shape_problem;
use crate::facts::{RequestFacts, SodConflict, severity_rank};
use crate::values::ReasonValues;

/// Everything the submit decision is made on. The caller looks up and counts; policy decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitInput {
    /// The request.
    pub request: RequestFacts,
    /// When it is submitted; an exception's end is measured from here.
    pub now: Timestamp,
    /// Whether a non-blank justification was given.
    pub justification_present: bool,
    /// The separation-of-duties rules the requested grant would complete (see
    /// [`SodConflict::find`]); empty for kinds that grant nothing.
    pub sod_conflicts: Vec<SodConflict>,
    /// Whether a break-glass post-use review of the entitlement is open on the identity.
    pub open_break_glass_review: bool,
    /// Whether the request passes a named security approval stage (see
    /// [`crate::has_security_stage`] over [`crate::required_stages`]).
    pub security_stage: bool,
}

/// Seconds from `now` to `end`, rounded up so that a microsecond past a limit is past it.
fn secs_until(now: Timestamp, end: Timestamp) -> i64 {
    let micros = end.as_micros().saturating_sub(now.as_micros());
    if micros > 0 {
        (micros - 1) / 1_000_000 + 1
    } else {
        micros / 1_000_000
    }
}

/// The Cedar context of a submission.
pub(crate) fn submit_context(input: &SubmitInput) -> Result<Context, String> {
    let pairs = match Shape::of(input.request.kind) {
        Shape::Access => {
            let end = input.request.end;
            let max_severity = input
                .sod_conflicts
                .iter()
                .map(|c| severity_rank(c.severity))
                .max()
                .unwrap_or(0);
            let count = i64::try_from(input.sod_conflicts.len()).unwrap_or(i64::MAX);
            vec![
                (
                    "justification_present".to_owned(),
                    RestrictedExpression::new_bool(input.justification_present),
                ),
                (
                    "has_end".to_owned(),
                    RestrictedExpression::new_bool(end.is_some()),
                ),
                (
                    "end_in_secs".to_owned(),
                    RestrictedExpression::new_long(end.map_or(0, |e| secs_until(input.now, e))),
                ),
                (
                    "sod_conflicts".to_owned(),
                    RestrictedExpression::new_long(count),
                ),
                (
                    "sod_max_severity_rank".to_owned(),
                    RestrictedExpression::new_long(max_severity),
                ),
                (
                    "open_break_glass_review".to_owned(),
                    RestrictedExpression::new_bool(input.open_break_glass_review),
                ),
                (
                    "security_stage".to_owned(),
                    RestrictedExpression::new_bool(input.security_stage),
                ),
            ]
        }
        Shape::Change | Shape::Transfer => vec![(
            "justification_present".to_owned(),
            RestrictedExpression::new_bool(input.justification_present),
        )],
    };
    Context::from_pairs(pairs).map_err(|e| e.to_string())
}

impl PolicyEngine {
    /// Decides whether `input.request` may be submitted: allowed with a [`SubmitPermit`], or
    /// refused with every reason in plain words.
    pub fn decide_submit(&self, input: &SubmitInput) -> Decision<SubmitPermit> {
        let request = &input.request;
        if let Some(problem) = shape_problem(request) {
            return Decision::Refused(self.refusal(REQUEST_SHAPE, problem));
        }
        let values = ReasonValues {
            request,
            sod_conflicts: &input.sod_conflicts,
            approver: None,
            stage: None,
        };
        let record = match self.names.request(request, None) {
            Ok(built) => self.evaluate(
                Action::submit(request.kind),
                request.entitlement.as_ref().map(|e| e.system.as_str()),
                self.names.principal(request.requester.id),
                built,
                submit_context(input),
                &|p| values.value(p),
            ),
            Err(message) => self.refusal(EVALUATION_ERROR, message),
        };
        if record.allowed {
            Decision::Allowed(SubmitPermit {
                record,
                kind: request.kind,
                requester: request.requester.id,
                identity: request.identity.id,
                entitlement: request.entitlement.as_ref().map(|e| e.id),
            })
        } else {
            Decision::Refused(record)
        }
    }
}

#[cfg(test)]
mod tests {
    use writ_domain::{
        BreakGlass, IdentityKind, IdentityStatus, Name, RequestKind, Risk, Severity, SodRuleId,
        SodScope,
    };

    use super::*;
    use crate::facts::{EntitlementFacts, IdentityFacts, PrincipalFacts};
    use crate::testing::{
        assert_allowed, ci_token, person, refused_by, request, shipped, submission, ttl, writer,
    };

    /// An owner, their CI token and the writer entitlement.
    fn world() -> (PrincipalFacts, IdentityFacts, EntitlementFacts) {
        let owner = person("Olivia Owner");
        let identity = ci_token(&owner);
        (owner, identity, writer())
    }

    fn grant(ttl_text: &str) -> SubmitInput {
        let (owner, identity, entitlement) = world();
        submission(request(
            RequestKind::Grant,
            &owner,
            &identity,
            &entitlement,
            ttl_text,
        ))
    }

    fn days(n: i64) -> Timestamp {
        Timestamp::from_micros(n * 86_400 * 1_000_000)
    }

    fn conflict() -> SodConflict {
        SodConflict {
            rule: SodRuleId::new(),
            name: Name::parse("payments writer vs auditor").unwrap(),
            scope: SodScope::Owner,
            severity: Severity::High,
        }
    }

    #[test]
    fn time_to_the_end_rounds_up_to_the_next_second() {
        let now = Timestamp::from_micros(0);
        assert_eq!(secs_until(now, Timestamp::from_micros(1)), 1);
        assert_eq!(secs_until(now, Timestamp::from_micros(2_000_000)), 2);
        assert_eq!(secs_until(now, Timestamp::from_micros(2_000_001)), 3);
        assert_eq!(secs_until(now, Timestamp::from_micros(-2_500_000)), -2);
    }

    #[test]
    fn an_owner_granting_a_low_risk_entitlement_within_its_ttl_is_allowed() {
        let input = grant("1d");
        let decision = shipped().decide_submit(&input);
        assert_allowed(&decision);
        assert_eq!(decision.policy_ids(), ["submit_base"]);
        assert_eq!(decision.policy_set_hash(), shipped().policy_set_hash());
        let permit = decision.into_permit().unwrap();
        assert_eq!(permit.requester(), input.request.requester.id);
        assert_eq!(permit.identity(), input.request.identity.id);
        assert_eq!(
            permit.entitlement(),
            input.request.entitlement.as_ref().map(|e| e.id)
        );
        assert_eq!(permit.kind(), RequestKind::Grant);
    }

    #[test]
    fn a_ttl_past_the_entitlements_max_is_refused_naming_both() {
        let decision = shipped().decide_submit(&grant("30d"));
        let messages = refused_by(&decision, &["ttl_within_max"]);
        assert_eq!(
            messages,
            ["requested TTL 30d exceeds the maximum of 1w for `payments-db:writer`"]
        );
        assert_eq!(decision.policy_ids(), ["ttl_within_max"]);
    }

    #[test]
    fn a_ttl_equal_to_the_max_is_allowed() {
        assert_allowed(&shipped().decide_submit(&grant("7d")));
    }

    #[test]
    fn no_ttl_means_the_entitlements_default() {
        let mut input = grant("1d");
        input.request.ttl = None;
        assert_allowed(&shipped().decide_submit(&input));
        let entitlement = input.request.entitlement.as_mut().unwrap();
        entitlement.ttl = writ_domain::TtlPolicy::new(ttl("8d"), ttl("8d")).unwrap();
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn a_medium_risk_grant_without_justification_is_refused() {
        let mut input = grant("1d");
        input.request.entitlement.as_mut().unwrap().risk = Risk::Medium;
        input.justification_present = false;
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["justification_required"],
        );
        assert_eq!(
            messages,
            [
                "`payments-db:writer` is medium risk: a justification is required from medium risk up"
            ]
        );
        input.justification_present = true;
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn a_low_risk_grant_needs_no_justification() {
        let mut input = grant("1d");
        input.justification_present = false;
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn an_identity_kind_the_entitlement_does_not_allow_is_refused() {
        let mut input = grant("1d");
        input.request.entitlement.as_mut().unwrap().allowed_kinds =
            vec![IdentityKind::Workload, IdentityKind::ServiceAccount];
        let messages = refused_by(&shipped().decide_submit(&input), &["identity_kind_allowed"]);
        assert_eq!(
            messages,
            [
                "`payments-db:writer` may not be held by an identity of kind `ci_token` (allowed kinds: workload, service_account)"
            ]
        );
        input.request.entitlement.as_mut().unwrap().allowed_kinds = vec![IdentityKind::CiToken];
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn a_suspended_identity_receives_no_new_access() {
        let mut input = grant("1d");
        input.request.identity.status = IdentityStatus::Suspended;
        let messages = refused_by(&shipped().decide_submit(&input), &["identity_active"]);
        assert_eq!(
            messages,
            ["`payments-ci` is suspended: only active identities receive new access"]
        );
    }

    #[test]
    fn an_identity_whose_owner_left_receives_no_new_access() {
        let mut input = grant("1d");
        let mut admin = person("Ada Admin");
        admin.admin = true;
        input.request.requester = admin;
        input.request.identity.owner.active = false;
        let messages = refused_by(&shipped().decide_submit(&input), &["identity_owner_active"]);
        assert_eq!(
            messages,
            [
                "the owner of `payments-ci`, `Olivia Owner`, is no longer active: transfer the identity to an active owner first"
            ]
        );
        input.request.identity.owner.active = true;
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn a_requester_who_is_not_owner_team_member_or_admin_is_refused() {
        let mut input = grant("1d");
        input.request.requester = person("Sam Stranger");
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["requester_acts_for_identity"],
        );
        assert_eq!(
            messages,
            [
                "`Sam Stranger` may not request for `payments-ci`: only its owner `Olivia Owner`, a member of its team (payments) or an admin may"
            ]
        );
    }

    #[test]
    fn a_member_of_the_identitys_team_may_request() {
        let mut input = grant("1d");
        let mut teammate = person("Tom Teammate");
        teammate.groups = vec!["sre".into(), "payments".into()];
        input.request.requester = teammate;
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn an_admin_may_request_for_any_identity() {
        let mut input = grant("1d");
        let mut admin = person("Ada Admin");
        admin.admin = true;
        input.request.requester = admin;
        input.request.identity.team = None;
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn a_requester_who_left_is_refused() {
        let mut input = grant("1d");
        let mut leaver = person("Lee Leaver");
        leaver.groups = vec!["payments".into()];
        leaver.active = false;
        input.request.requester = leaver;
        let messages = refused_by(&shipped().decide_submit(&input), &["requester_active"]);
        assert_eq!(messages, ["`Lee Leaver` is no longer an active principal"]);
    }

    #[test]
    fn a_grant_completing_an_sod_rule_is_refused_naming_the_rule() {
        let mut input = grant("1d");
        input.sod_conflicts = vec![conflict()];
        let messages = refused_by(&shipped().decide_submit(&input), &["sod_no_conflict"]);
        assert_eq!(
            messages,
            [
                "granting `payments-db:writer` to `payments-ci` would break separation of duties: rule `payments writer vs auditor` (scope owner, severity high)"
            ]
        );
    }

    #[test]
    fn no_grant_while_a_break_glass_review_is_open() {
        let mut input = grant("1d");
        input.open_break_glass_review = true;
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["no_grant_during_break_glass_review"],
        );
        assert_eq!(
            messages,
            [
                "a break-glass post-use review of `payments-db:writer` on `payments-ci` is still open: no new grant until it is closed"
            ]
        );
    }

    #[test]
    fn a_grant_of_an_entitlement_that_is_not_requestable_is_refused() {
        let mut input = grant("1d");
        input.request.entitlement.as_mut().unwrap().requestable = false;
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["entitlement_requestable"],
        );
        assert_eq!(messages, ["`payments-db:writer` is not requestable"]);
    }

    fn break_glass(ttl_text: &str, allowed: Option<&str>) -> SubmitInput {
        let mut input = grant(ttl_text);
        input.request.kind = RequestKind::BreakGlass;
        let entitlement = input.request.entitlement.as_mut().unwrap();
        entitlement.break_glass = allowed.map(|max| BreakGlass { max_ttl: ttl(max) });
        entitlement.requestable = false;
        input
    }

    #[test]
    fn break_glass_within_its_max_ttl_is_allowed_where_the_entitlement_allows_it() {
        assert_allowed(&shipped().decide_submit(&break_glass("30m", Some("1h"))));
    }

    #[test]
    fn break_glass_is_refused_where_the_entitlement_does_not_allow_it() {
        let decision = shipped().decide_submit(&break_glass("30m", None));
        let messages = refused_by(&decision, &["break_glass_allowed"]);
        assert_eq!(
            messages,
            ["`payments-db:writer` does not allow break-glass access"]
        );
    }

    #[test]
    fn break_glass_past_its_max_ttl_is_refused() {
        let decision = shipped().decide_submit(&break_glass("2h", Some("1h")));
        let messages = refused_by(&decision, &["break_glass_within_max_ttl"]);
        assert_eq!(
            messages,
            ["break-glass TTL 2h exceeds the break-glass maximum of 1h for `payments-db:writer`"]
        );
    }

    /// An exception breaking the TTL and an SoD rule, with a security stage, ending in 14 days.
    fn exception() -> SubmitInput {
        let mut input = grant("30d");
        input.request.kind = RequestKind::Exception;
        input.request.end = Some(days(14));
        input.sod_conflicts = vec![conflict()];
        input.security_stage = true;
        input
    }

    #[test]
    fn an_exception_with_a_security_stage_ending_within_30_days_may_break_ttl_and_sod() {
        let decision = shipped().decide_submit(&exception());
        assert_allowed(&decision);
        assert_eq!(
            decision.into_permit().unwrap().kind(),
            RequestKind::Exception
        );
    }

    #[test]
    fn an_exception_without_a_security_stage_is_refused() {
        let mut input = exception();
        input.security_stage = false;
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["exception_needs_security_stage"],
        );
        assert_eq!(
            messages,
            [
                "an exception needs a named security approval stage, and `payments-db:writer` has none"
            ]
        );
    }

    #[test]
    fn an_exception_ending_after_30_days_is_refused() {
        let mut input = exception();
        input.request.end = Some(Timestamp::from_micros(days(30).as_micros() + 1));
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["exception_ends_within_30_days"],
        );
        assert_eq!(
            messages,
            [
                "an exception must end after submission and within 30 days of it (requested end: 1970-01-31T00:00:00.000001Z)"
            ]
        );
        input.request.end = Some(days(30));
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn an_exception_without_an_end_is_refused() {
        let mut input = exception();
        input.request.end = None;
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["exception_ends_within_30_days"],
        );
        assert_eq!(
            messages,
            [
                "an exception must end after submission and within 30 days of it (requested end: none)"
            ]
        );
    }

    #[test]
    fn every_broken_rule_is_reported_in_policy_order() {
        let mut input = grant("30d");
        input.request.requester = person("Sam Stranger");
        input.request.identity.status = IdentityStatus::Suspended;
        input.sod_conflicts = vec![conflict()];
        let decision = shipped().decide_submit(&input);
        refused_by(
            &decision,
            &[
                "requester_acts_for_identity",
                "ttl_within_max",
                "identity_active",
                "sod_no_conflict",
            ],
        );
        assert_eq!(decision.policy_ids().len(), 4);
    }

    #[test]
    fn a_revoke_is_allowed_for_a_suspended_identity_past_any_ttl() {
        let mut input = grant("30d");
        input.request.kind = RequestKind::Revoke;
        input.request.identity.status = IdentityStatus::Suspended;
        input.justification_present = false;
        assert_allowed(&shipped().decide_submit(&input));
    }

    #[test]
    fn a_grant_without_an_entitlement_is_refused_as_malformed() {
        let mut input = grant("1d");
        input.request.entitlement = None;
        let messages = refused_by(&shipped().decide_submit(&input), &[crate::REQUEST_SHAPE]);
        assert_eq!(messages, ["a `grant` request must name an entitlement"]);
    }

    fn change(kind: RequestKind) -> SubmitInput {
        let mut input = grant("1d");
        input.request.kind = kind;
        input.request.entitlement = None;
        input.request.ttl = None;
        input
    }

    #[test]
    fn an_owner_may_rotate_and_offboard_their_identity() {
        assert_allowed(&shipped().decide_submit(&change(RequestKind::Rotate)));
        assert_allowed(&shipped().decide_submit(&change(RequestKind::Offboard)));
    }

    #[test]
    fn a_stranger_may_not_offboard_an_identity() {
        let mut input = change(RequestKind::Offboard);
        input.request.requester = person("Sam Stranger");
        refused_by(
            &shipped().decide_submit(&input),
            &["requester_acts_for_identity"],
        );
    }

    #[test]
    fn a_decommissioned_identity_can_no_longer_rotate() {
        let mut input = change(RequestKind::Rotate);
        input.request.identity.status = IdentityStatus::Decommissioned;
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["identity_not_decommissioned"],
        );
        assert_eq!(
            messages,
            ["`payments-ci` is decommissioned and can no longer change"]
        );
    }

    #[test]
    fn a_transfer_needs_an_active_new_owner() {
        let mut input = change(RequestKind::Transfer);
        let mut leaver = person("Lee Leaver");
        leaver.active = false;
        input.request.new_owner = Some(leaver);
        let messages = refused_by(
            &shipped().decide_submit(&input),
            &["transfer_to_active_owner"],
        );
        assert_eq!(
            messages,
            ["the new owner `Lee Leaver` is not an active principal"]
        );
        input.request.new_owner = Some(person("Nora New"));
        assert_allowed(&shipped().decide_submit(&input));
        input.request.new_owner = None;
        let messages = refused_by(&shipped().decide_submit(&input), &[crate::REQUEST_SHAPE]);
        assert_eq!(messages, ["a `transfer` request must name a new owner"]);
    }
}
