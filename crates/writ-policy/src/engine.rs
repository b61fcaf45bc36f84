//! The policy engine: a loaded, validated policy set, sliced by action and system, that
//! decides.

use std::collections::HashMap;
use std::path::Path;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Effect, Entities, EntityUid, Request,
};

use crate::action::Action;
use crate::decision::{DEFAULT_DENY, DecisionRecord, EVALUATION_ERROR, PolicySetHash, Reason};
use crate::entities::{Built, Names};
use crate::error::{PolicyError, Problem};
use crate::load::{LoadedPolicy, Slice, load};
use crate::reason::Placeholder;
use crate::source::{PolicySource, SCHEMA_FILE, read_policy_dir, shipped_sources};

/// A loaded policy set, ready to decide. Cheap to share behind an `Arc`; deciding takes `&self`.
pub struct PolicyEngine {
    policies: Vec<LoadedPolicy>,
    by_id: HashMap<String, usize>,
    slices: Vec<Slice>,
    hash: PolicySetHash,
    warnings: Vec<String>,
    pub(crate) names: Names,
    authorizer: Authorizer,
}

/// Whether a policy permits or forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyEffect {
    /// Allows, unless a forbid applies.
    Permit,
    /// Refuses, whatever permits.
    Forbid,
}

/// One policy of the loaded set, for listing (`writ policy check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo<'a> {
    /// The policy's `@id`.
    pub id: &'a str,
    /// The file it came from.
    pub file: &'a str,
    /// The line it starts on.
    pub line: usize,
    /// Permit or forbid.
    pub effect: PolicyEffect,
    /// The actions it applies to.
    pub actions: &'a [Action],
    /// The system its scope names (`resource in System::"…"`); it is evaluated only for
    /// requests of that system.
    pub system: Option<&'a str>,
    /// Its `@reason` as written.
    pub reason: Option<&'a str>,
    /// Whether an operator policy replaced the shipped policy of this id.
    pub overrides_shipped: bool,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policies", &self.policies.len())
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl PolicyEngine {
    /// Loads the shipped policies plus the operator's `*.cedar` files in `extra_dir`, and
    /// validates the whole set against the schema in strict mode. An invalid set is refused
    /// with every problem, each naming its file, line and column. The crate documentation
    /// gives the rules files follow and how an operator policy overrides a shipped one.
    pub fn load(extra_dir: Option<&Path>) -> Result<PolicyEngine, PolicyError> {
        let operator = match extra_dir {
            Some(dir) => read_policy_dir(dir)?,
            None => Vec::new(),
        };
        Self::from_sources(&operator)
    }

    /// Loads the shipped policies plus `operator` sources (already read).
    pub fn from_sources(operator: &[PolicySource]) -> Result<PolicyEngine, PolicyError> {
        let loaded = load(&shipped_sources(), operator)?;
        let names = Names::new().map_err(|message| {
            PolicyError::Invalid(vec![Problem {
                file: SCHEMA_FILE.to_owned(),
                line: 1,
                column: 1,
                message,
            }])
        })?;
        let by_id = loaded
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        Ok(PolicyEngine {
            policies: loaded.policies,
            by_id,
            slices: loaded.slices,
            hash: loaded.hash,
            warnings: loaded.warnings,
            names,
            authorizer: Authorizer::new(),
        })
    }

    /// The hash of the schema and every policy, stored on each decision.
    pub fn policy_set_hash(&self) -> PolicySetHash {
        self.hash
    }

    /// Every policy of the set, shipped first (overrides in place), then operator additions.
    pub fn policies(&self) -> impl Iterator<Item = PolicyInfo<'_>> {
        self.policies.iter().map(|p| PolicyInfo {
            id: &p.id,
            file: &p.file,
            line: p.line,
            effect: match p.effect {
                Effect::Permit => PolicyEffect::Permit,
                Effect::Forbid => PolicyEffect::Forbid,
            },
            actions: &p.actions,
            system: p.system.as_deref(),
            reason: p.reason_text.as_deref(),
            overrides_shipped: p.overrides_shipped,
        })
    }

    /// How many policies a decision of `action` evaluates for a request of `system` (the
    /// entitlement's system; `None` for requests without one).
    pub fn slice_len(&self, action: Action, system: Option<&str>) -> usize {
        self.slices
            .get(action.index())
            .map_or(0, |s| s.len_for(system))
    }

    /// The validator's warnings (not errors), as `file:line:column: message`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A refusal that no policy made: `id` is one of the reserved reason ids.
    pub(crate) fn refusal(&self, id: &str, message: String) -> DecisionRecord {
        DecisionRecord {
            allowed: false,
            reasons: vec![Reason {
                policy_id: id.to_owned(),
                message,
            }],
            policy_ids: Vec::new(),
            policy_set_hash: self.hash,
        }
    }

    /// Evaluates `action`'s slice (its global policies and those scoped to `system`) for
    /// `principal` on the built request; `value` fills the placeholders of the refusing
    /// policies' reasons. Any evaluation error refuses: a forbid that cannot be evaluated must
    /// not let a request through.
    pub(crate) fn evaluate(
        &self,
        action: Action,
        system: Option<&str>,
        principal: EntityUid,
        built: Built,
        context: Result<Context, String>,
        value: &dyn Fn(Placeholder) -> String,
    ) -> DecisionRecord {
        let fail = |message: String| {
            self.refusal(
                EVALUATION_ERROR,
                format!("the request could not be evaluated: {message}"),
            )
        };
        let (Some(action_uid), Some(slice)) =
            (self.names.action(action), self.slices.get(action.index()))
        else {
            return fail(format!("unknown action `{}`", action.name()));
        };
        let context = match context {
            Ok(context) => context,
            Err(err) => return fail(err),
        };
        let entities = match Entities::from_entities(built.entities, None) {
            Ok(entities) => entities,
            Err(err) => return fail(err.to_string()),
        };
        let request =
            match Request::new(principal, action_uid.clone(), built.resource, context, None) {
                Ok(request) => request,
                Err(err) => return fail(err.to_string()),
            };

        // Each set is decided by Cedar on its own and the outcomes combined as Cedar would
        // combine them in one set: any satisfied forbid refuses, else any satisfied permit
        // allows. (On a deny Cedar reports the satisfied forbids, on an allow the permits.)
        let scoped = system.and_then(|s| slice.by_system.get(s));
        let (mut permits, mut forbids, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        let mut any_allow = false;
        for set in std::iter::once(&slice.global).chain(scoped) {
            let response = self.authorizer.is_authorized(&request, set, &entities);
            let diagnostics = response.diagnostics();
            errors.extend(diagnostics.errors().map(|err| Reason {
                policy_id: EVALUATION_ERROR.to_owned(),
                message: err.to_string(),
            }));
            let ids = diagnostics
                .reason()
                .filter_map(|id| self.by_id.get(AsRef::<str>::as_ref(id)).copied());
            match response.decision() {
                CedarDecision::Allow => {
                    any_allow = true;
                    permits.extend(ids);
                }
                CedarDecision::Deny => forbids.extend(ids),
            }
        }
        if !errors.is_empty() {
            return DecisionRecord {
                allowed: false,
                reasons: errors,
                policy_ids: Vec::new(),
                policy_set_hash: self.hash,
            };
        }
        let ids = |mut indices: Vec<usize>| -> Vec<&LoadedPolicy> {
            indices.sort_unstable();
            indices.dedup();
            indices
                .iter()
                .filter_map(|i| self.policies.get(*i))
                .collect()
        };
        let (allowed, determining, reasons) = if !forbids.is_empty() {
            let forbids = ids(forbids);
            let reasons = forbids
                .iter()
                .map(|p| Reason {
                    policy_id: p.id.clone(),
                    message: p.reason.as_ref().map_or_else(
                        || format!("refused by policy `{}`", p.id),
                        |template| template.render(value),
                    ),
                })
                .collect();
            (false, forbids, reasons)
        } else if any_allow {
            (true, ids(permits), Vec::new())
        } else {
            let message = match action {
                Action::Approve => "no policy permits this approval".to_owned(),
                _ => format!("no policy permits this `{}` request", action.name()),
            };
            let reason = Reason {
                policy_id: DEFAULT_DENY.to_owned(),
                message,
            };
            (false, Vec::new(), vec![reason])
        };
        DecisionRecord {
            allowed,
            reasons,
            policy_ids: determining.iter().map(|p| p.id.clone()).collect(),
            policy_set_hash: self.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use writ_domain::RequestKind;

    use super::*;
    use crate::testing::{
        assert_allowed, ci_token, person, refused_by, request, shipped, submission, writer,
    };

    fn with(name: &str, text: &str) -> Result<PolicyEngine, PolicyError> {
        PolicyEngine::from_sources(&[PolicySource::new(name, text)])
    }

    fn problems(result: Result<PolicyEngine, PolicyError>) -> Vec<Problem> {
        match result {
            Ok(_) => panic!("the policy set loaded"),
            Err(err) => err.problems().to_vec(),
        }
    }

    fn grant(ttl_text: &str) -> crate::SubmitInput {
        let owner = person("Olivia Owner");
        submission(request(
            RequestKind::Grant,
            &owner,
            &ci_token(&owner),
            &writer(),
            ttl_text,
        ))
    }

    #[test]
    fn the_shipped_policies_load_in_strict_mode_without_warnings() {
        let engine = shipped();
        let ids: Vec<&str> = engine.policies().map(|p| p.id).collect();
        assert_eq!(
            ids,
            [
                "submit_base",
                "requester_active",
                "requester_acts_for_identity",
                "ttl_within_max",
                "justification_required",
                "identity_kind_allowed",
                "identity_active",
                "identity_owner_active",
                "entitlement_requestable",
                "sod_no_conflict",
                "break_glass_allowed",
                "break_glass_within_max_ttl",
                "no_grant_during_break_glass_review",
                "exception_needs_security_stage",
                "exception_ends_within_30_days",
                "identity_not_decommissioned",
                "transfer_to_active_owner",
                "approve_base",
                "approver_active",
                "no_self_approval",
                "approver_eligible_for_stage",
                "manager_not_enough_for_nhi",
                "approvers_distinct_across_stages",
                "approval_binds_to_plan",
            ]
        );
        assert_eq!(engine.warnings(), [] as [String; 0]);
        assert!(engine.policies().all(|p| !p.overrides_shipped));
        assert!(
            engine
                .policies()
                .all(|p| p.file.starts_with("shipped/") && p.line > 0)
        );
    }

    #[test]
    fn each_decision_evaluates_only_its_actions_slice() {
        let engine = shipped();
        assert_eq!(engine.slice_len(Action::Grant, None), 11);
        assert_eq!(engine.slice_len(Action::Approve, None), 7);
        assert_eq!(engine.slice_len(Action::Rotate, None), 4);
        let total: usize = Action::ALL.iter().map(|a| engine.slice_len(*a, None)).sum();
        assert!(total > engine.policies().count());
    }

    #[test]
    fn a_syntax_error_in_an_operator_file_is_refused_naming_file_line_and_column() {
        let text = "@id(\"a\")\n@reason(\"no\")\nforbid (principal, action, resource)\nwhen { principal.active && };\n";
        let found = problems(with("/etc/writ/policies/10-acme.cedar", text));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].file, "/etc/writ/policies/10-acme.cedar");
        assert_eq!((found[0].line, found[0].column), (4, 28));
        assert!(found[0].message.contains("unexpected token"), "{found:#?}");
        let err = with("10-acme.cedar", text).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid policy set:\n  10-acme.cedar:4:28: "),
            "{err}"
        );
    }

    #[test]
    fn a_policy_that_fails_strict_validation_is_refused_at_the_offending_attribute() {
        let text = "// acme rules\n\n@id(\"acme_no_big_ttl\")\n@reason(\"too long\")\nforbid (principal, action == Action::\"grant\", resource)\nwhen { resource.ttl_days > 7 };\n";
        let found = problems(with("acme.cedar", text));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].file, "acme.cedar");
        assert_eq!(found[0].line, 6);
        assert_eq!(found[0].column, 8);
        assert!(found[0].message.contains("ttl_days"), "{found:#?}");
    }

    #[test]
    fn a_policy_comparing_values_of_different_types_is_refused() {
        let text = "@id(\"acme\")\n@reason(\"x\")\nforbid (principal, action == Action::\"approve\", resource)\nwhen { context.stage == 2 };\n";
        let found = problems(with("acme.cedar", text));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].line, 4);
    }

    #[test]
    fn every_problem_of_every_file_is_reported_at_once() {
        let sources = [
            PolicySource::new(
                "a.cedar",
                "permit (principal, action, resource);\n\n@id(\"x\")\nforbid (principal, action, resource);\n",
            ),
            PolicySource::new(
                "b.cedar",
                "@id(\"y\")\npermit (principal, action, resource)",
            ),
        ];
        let found = problems(PolicyEngine::from_sources(&sources));
        let at: Vec<(&str, usize)> = found.iter().map(|p| (p.file.as_str(), p.line)).collect();
        assert_eq!(
            at,
            [("a.cedar", 1), ("a.cedar", 3), ("b.cedar", 2)],
            "{found:#?}"
        );
        assert!(found[0].message.contains("no `@id"));
        assert!(found[1].message.contains("has no `@reason"));
    }

    #[test]
    fn reasons_may_only_use_placeholders_the_action_can_fill() {
        let unknown = "@id(\"acme\")\n@reason(\"over {limit}\")\nforbid (principal, action == Action::\"grant\", resource) when { false };\n";
        let found = problems(with("acme.cedar", unknown));
        assert_eq!(
            found[0].message,
            "policy `acme`: reason uses the unknown placeholder `{limit}`"
        );
        let unavailable = "@id(\"acme\")\n@reason(\"no {entitlement}\")\nforbid (principal, action in [Action::\"grant\", Action::\"rotate\"], resource) when { false };\n";
        let found = problems(with("acme.cedar", unavailable));
        assert_eq!(
            found[0].message,
            "policy `acme`: reason uses `{entitlement}`, which has no value for `rotate`"
        );
    }

    #[test]
    fn two_operator_policies_with_one_id_are_refused_naming_both() {
        let sources = [
            PolicySource::new(
                "a.cedar",
                "@id(\"acme\")\npermit (principal, action, resource);\n",
            ),
            PolicySource::new(
                "b.cedar",
                "\n@id(\"acme\")\npermit (principal, action, resource);\n",
            ),
        ];
        let found = problems(PolicyEngine::from_sources(&sources));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].file.as_str(), found[0].line), ("b.cedar", 2));
        assert_eq!(
            found[0].message,
            "policy id `acme` is already used at a.cedar:1:1"
        );
    }

    #[test]
    fn reserved_and_malformed_ids_are_refused() {
        for id in ["default_deny", "Has Space"] {
            let text = format!("@id(\"{id}\")\npermit (principal, action, resource);\n");
            assert_eq!(problems(with("a.cedar", &text)).len(), 1, "{id}");
        }
    }

    #[test]
    fn an_operator_policy_with_a_shipped_id_replaces_the_shipped_policy() {
        let relaxed = r#"
@id("ttl_within_max")
@reason("requested TTL {ttl} exceeds twice the maximum of {max_ttl}")
forbid (principal, action == Action::"grant", resource)
when { resource.ttl_secs > 2 * resource.entitlement.max_ttl_secs };
"#;
        let engine = with("acme.cedar", relaxed).unwrap();
        assert_allowed(&engine.decide_submit(&grant("10d")));
        let messages = refused_by(&engine.decide_submit(&grant("30d")), &["ttl_within_max"]);
        assert_eq!(
            messages,
            ["requested TTL 30d exceeds twice the maximum of 1w"]
        );
        let info = engine
            .policies()
            .find(|p| p.id == "ttl_within_max")
            .unwrap();
        assert!(info.overrides_shipped);
        assert_eq!((info.file, info.line), ("acme.cedar", 2));
        assert_eq!(engine.policies().count(), shipped().policies().count());
    }

    #[test]
    fn an_override_that_never_applies_switches_a_shipped_rule_off() {
        let off = "@id(\"ttl_within_max\")\n@reason(\"off\")\nforbid (principal, action == Action::\"grant\", resource) when { false };\n";
        let engine = with("off.cedar", off).unwrap();
        assert_allowed(&engine.decide_submit(&grant("30d")));
    }

    #[test]
    fn an_operator_policy_adds_a_rule_with_its_own_reason() {
        let no_agents = r#"
@id("acme.no_ai_agents_on_payments")
@reason("AI agents may not hold access to `{system}`")
forbid (principal, action in [Action::"grant", Action::"exception"], resource)
when { resource.identity.kind == "ai_agent" && resource.entitlement.system == "payments-db" };
"#;
        let engine = with("acme.cedar", no_agents).unwrap();
        let mut input = grant("1d");
        assert_allowed(&engine.decide_submit(&input));
        input.request.identity.kind = writ_domain::IdentityKind::AiAgent;
        let messages = refused_by(
            &engine.decide_submit(&input),
            &["acme.no_ai_agents_on_payments"],
        );
        assert_eq!(messages, ["AI agents may not hold access to `payments-db`"]);
        assert_eq!(
            engine.slice_len(Action::Grant, None),
            shipped().slice_len(Action::Grant, None) + 1
        );
        assert_eq!(
            engine.slice_len(Action::Approve, None),
            shipped().slice_len(Action::Approve, None)
        );
    }

    #[test]
    fn a_policy_scoped_to_a_system_is_evaluated_only_for_that_systems_requests() {
        let frozen = r#"
@id("acme.payments_frozen")
@reason("`{system}` is frozen for the audit")
forbid (principal, action == Action::"grant", resource in System::"payments-db");
"#;
        let engine = with("acme.cedar", frozen).unwrap();
        let mut input = grant("1d");
        let messages = refused_by(&engine.decide_submit(&input), &["acme.payments_frozen"]);
        assert_eq!(messages, ["`payments-db` is frozen for the audit"]);
        input.request.entitlement.as_mut().unwrap().system =
            writ_domain::Name::parse("ledger-db").unwrap();
        assert_allowed(&engine.decide_submit(&input));
        let info = engine
            .policies()
            .find(|p| p.id == "acme.payments_frozen")
            .unwrap();
        assert_eq!(info.system, Some("payments-db"));
        let global = engine.slice_len(Action::Grant, None);
        assert_eq!(engine.slice_len(Action::Grant, Some("ledger-db")), global);
        assert_eq!(
            engine.slice_len(Action::Grant, Some("payments-db")),
            global + 1
        );
    }

    #[test]
    fn a_policy_that_fails_to_evaluate_refuses_the_request() {
        let overflow = r#"
@id("acme.overflow")
@reason("never shown")
forbid (principal, action == Action::"grant", resource)
when { resource.ttl_secs * 9223372036854775807 < 0 };
"#;
        let engine = with("acme.cedar", overflow).unwrap();
        let decision = engine.decide_submit(&grant("1d"));
        let messages = refused_by(&decision, &[crate::EVALUATION_ERROR]);
        assert!(messages[0].contains("acme.overflow"), "{messages:?}");
    }

    #[test]
    fn the_engine_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<PolicyEngine>();
    }

    #[test]
    fn without_a_matching_permit_a_request_is_refused_by_default() {
        let base =
            "@id(\"submit_base\")\npermit (principal, action == Action::\"rotate\", resource);\n";
        let engine = with("acme.cedar", base).unwrap();
        let decision = engine.decide_submit(&grant("1d"));
        let messages = refused_by(&decision, &[crate::DEFAULT_DENY]);
        assert_eq!(messages, ["no policy permits this `grant` request"]);
        assert!(decision.policy_ids().is_empty());
    }

    #[test]
    fn the_policy_set_hash_changes_when_a_policy_changes_and_only_then() {
        let a = "@id(\"acme\")\n@reason(\"no\")\nforbid (principal, action == Action::\"grant\", resource) when { resource.ttl_secs > 100 };\n";
        let reformatted = "// the same rule\n@id(\"acme\")   @reason(\"no\")\nforbid(principal,action==Action::\"grant\",resource)\n  when { resource.ttl_secs > 100 };\n";
        let changed = a.replace("100", "101");
        let reworded = a.replace("\"no\"", "\"not allowed\"");
        let hash = |text: &str| with("acme.cedar", text).unwrap().policy_set_hash();
        assert_eq!(hash(a), hash(a));
        assert_eq!(hash(a), hash(reformatted));
        assert_ne!(hash(a), hash(&changed));
        assert_ne!(hash(a), hash(&reworded));
        assert_ne!(hash(a), shipped().policy_set_hash());
        assert_eq!(
            PolicyEngine::load(None).unwrap().policy_set_hash(),
            shipped().policy_set_hash()
        );
    }

    #[test]
    fn load_reads_the_cedar_files_of_a_directory_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let rule = |id: &str| {
            format!("@id(\"{id}\")\npermit (principal, action == Action::\"rotate\", resource);\n")
        };
        std::fs::write(dir.path().join("20-b.cedar"), rule("b")).unwrap();
        std::fs::write(dir.path().join("10-a.cedar"), rule("a")).unwrap();
        std::fs::write(dir.path().join("README.md"), "not policy").unwrap();
        std::fs::create_dir(dir.path().join("old.cedar")).unwrap();
        let engine = PolicyEngine::load(Some(dir.path())).unwrap();
        let added: Vec<&str> = engine.policies().map(|p| p.id).skip(24).collect();
        assert_eq!(added, ["a", "b"]);
        let file = engine.policies().find(|p| p.id == "a").unwrap().file;
        assert!(file.ends_with("10-a.cedar"), "{file}");
    }

    #[test]
    fn a_broken_file_in_the_directory_is_refused_naming_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.cedar"),
            "permit (principal,, action, resource);",
        )
        .unwrap();
        let err = PolicyEngine::load(Some(dir.path())).unwrap_err();
        let found = err.problems();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].file.ends_with("bad.cedar"));
        assert_eq!((found[0].line, found[0].column), (1, 19));
    }

    #[test]
    fn a_missing_directory_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = PolicyEngine::load(Some(&missing)).unwrap_err();
        assert!(matches!(err, PolicyError::ReadDir { .. }));
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
