//! Loading a policy set: parse every file, give each policy its `@id`, apply operator
//! overrides, validate the whole set against the schema in strict mode, slice it by action and
//! system scope, and hash it. Every problem found is reported, each at its file, line and column.
//!
//! The rules files follow and the override rule are in the crate documentation.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Effect, Policy, PolicyId, PolicySet, ResourceConstraint, Schema,
    ValidationMode, Validator,
};
use miette::Diagnostic;
use sha2::{Digest, Sha256};

use crate::action::Action;
use crate::decision::{DEFAULT_DENY, EVALUATION_ERROR, PolicySetHash, REQUEST_SHAPE};
use crate::error::{PolicyError, Problem};
use crate::reason::ReasonTemplate;
use crate::source::{PolicySource, SCHEMA, SCHEMA_FILE};

/// One policy of the loaded set.
#[derive(Debug, Clone)]
pub(crate) struct LoadedPolicy {
    /// The policy's `@id`.
    pub id: String,
    /// The file it came from.
    pub file: String,
    /// Where it starts in that file.
    pub line: usize,
    /// Where it starts in that file.
    pub column: usize,
    /// Permit or forbid.
    pub effect: Effect,
    /// The actions whose slices hold it.
    pub actions: Vec<Action>,
    /// The system its scope names (`resource in System::"…"`), if any.
    pub system: Option<String>,
    /// The `@reason` as written.
    pub reason_text: Option<String>,
    /// The `@reason`, parsed.
    pub reason: Option<ReasonTemplate>,
    /// Whether it replaces a shipped policy of the same id.
    pub overrides_shipped: bool,
    /// The policy, under its `@id`.
    pub policy: Policy,
}

/// A loaded, validated and sliced policy set.
pub(crate) struct LoadedSet {
    /// Every policy, shipped first (overrides in place), then operator additions.
    pub policies: Vec<LoadedPolicy>,
    /// One slice per action, indexed by `Action::index`.
    pub slices: Vec<Slice>,
    /// The hash of the schema and every policy.
    pub hash: PolicySetHash,
    /// Validator warnings, as `file:line:column: message`.
    pub warnings: Vec<String>,
}

/// The policies one action evaluates: those of no particular system, and those scoped to
/// each system.
#[derive(Debug, Default)]
pub(crate) struct Slice {
    /// Policies evaluated for every request of the action.
    pub global: PolicySet,
    /// Policies evaluated only for requests of the system (by name).
    pub by_system: HashMap<String, PolicySet>,
}

impl Slice {
    /// How many policies a request of `system` evaluates.
    pub(crate) fn len_for(&self, system: Option<&str>) -> usize {
        let scoped = system
            .and_then(|s| self.by_system.get(s))
            .map_or(0, |set| set.policies().count());
        self.global.policies().count() + scoped
    }
}

/// A policy parsed from one file, before merging.
struct Parsed {
    policy: LoadedPolicy,
    offset: usize,
    file: usize,
}

/// The files of the set, for turning offsets into positions.
struct Files<'a> {
    sources: Vec<&'a PolicySource>,
}

impl Files<'_> {
    /// `problems` sorted by file (in load order), line and column.
    fn in_order(&self, mut problems: Vec<Problem>) -> Vec<Problem> {
        let rank = |name: &str| self.sources.iter().position(|s| s.name == name);
        problems.sort_by_key(|p| (rank(&p.file), p.line, p.column));
        problems
    }

    fn problem(&self, file: usize, offset: usize, message: impl Into<String>) -> Problem {
        match self.sources.get(file) {
            Some(source) => {
                let (line, column) = position(&source.text, offset);
                Problem {
                    file: source.name.clone(),
                    line,
                    column,
                    message: message.into(),
                }
            }
            None => Problem {
                file: String::from("(unknown)"),
                line: 1,
                column: 1,
                message: message.into(),
            },
        }
    }
}

/// Loads the shipped policies and the operator's `operator` sources.
pub(crate) fn load(
    shipped: &[PolicySource],
    operator: &[PolicySource],
) -> Result<LoadedSet, PolicyError> {
    let schema = parse_schema()?;
    let files = Files {
        sources: shipped.iter().chain(operator).collect(),
    };
    let mut problems = Vec::new();

    let mut parsed = Vec::new();
    for (index, source) in files.sources.iter().enumerate() {
        parse_file(&files, index, source, &mut parsed, &mut problems);
    }
    let policies = merge(&files, parsed, shipped.len(), &mut problems);
    let offsets: HashMap<String, (usize, usize)> = policies
        .iter()
        .map(|(p, file, offset)| (p.id.clone(), (*file, *offset)))
        .collect();

    let mut whole = PolicySet::new();
    for (policy, file, offset) in &policies {
        if let Err(err) = whole.add(policy.policy.clone()) {
            problems.push(files.problem(*file, *offset, err.to_string()));
        }
    }
    let result = Validator::new(schema.clone()).validate(&whole, ValidationMode::Strict);
    let locate = |id: &PolicyId, label: Option<usize>| -> (usize, usize) {
        let (file, start) = offsets
            .get(id.to_string().as_str())
            .copied()
            .unwrap_or((usize::MAX, 0));
        (file, label.unwrap_or(start))
    };
    for err in result.validation_errors() {
        let (file, offset) = locate(err.policy_id(), first_label(err));
        problems.push(files.problem(file, offset, message(err)));
    }
    let warnings = result
        .validation_warnings()
        .map(|w| {
            let (file, offset) = locate(w.policy_id(), first_label(w));
            files.problem(file, offset, message(w)).to_string()
        })
        .collect();

    for (policy, file, offset) in &policies {
        check_placeholders(&files, policy, *file, *offset, &mut problems);
    }
    if !problems.is_empty() {
        return Err(PolicyError::Invalid(files.in_order(problems)));
    }

    let mut slices: Vec<Slice> = Action::ALL.iter().map(|_| Slice::default()).collect();
    for (policy, file, offset) in &policies {
        let sliced = without_action_scope(&policy.policy);
        for action in &policy.actions {
            let Some(slice) = slices.get_mut(action.index()) else {
                continue;
            };
            let set = match &policy.system {
                Some(system) => slice.by_system.entry(system.clone()).or_default(),
                None => &mut slice.global,
            };
            if let Err(err) = set.add(sliced.clone()) {
                problems.push(files.problem(*file, *offset, err.to_string()));
            }
        }
    }
    if !problems.is_empty() {
        return Err(PolicyError::Invalid(files.in_order(problems)));
    }
    let hash = hash(policies.iter().map(|(p, _, _)| p));
    Ok(LoadedSet {
        policies: policies.into_iter().map(|(p, _, _)| p).collect(),
        slices,
        hash,
        warnings,
    })
}

fn parse_schema() -> Result<Schema, PolicyError> {
    match Schema::from_cedarschema_str(SCHEMA) {
        Ok((schema, _warnings)) => Ok(schema),
        Err(err) => {
            let (line, column) = position(SCHEMA, first_label(&err).unwrap_or(0));
            Err(PolicyError::Invalid(vec![Problem {
                file: SCHEMA_FILE.to_owned(),
                line,
                column,
                message: message(&err),
            }]))
        }
    }
}

/// Parses one file into `out`, recording what is wrong in `problems`.
fn parse_file(
    files: &Files<'_>,
    index: usize,
    source: &PolicySource,
    out: &mut Vec<Parsed>,
    problems: &mut Vec<Problem>,
) {
    let set = match PolicySet::from_str(&source.text) {
        Ok(set) => set,
        Err(errs) => {
            for err in errs.iter() {
                let offset = first_label(err).unwrap_or(0);
                problems.push(files.problem(index, offset, message(err)));
            }
            return;
        }
    };
    for template in set.templates() {
        let offset = source.text.find(&template.to_string()).unwrap_or(0);
        problems.push(files.problem(
            index,
            offset,
            "policy templates (`?principal`, `?resource`) are not supported",
        ));
    }
    // Cedar names the policies of a file `policy0`, `policy1`, … in source order.
    let mut in_order: Vec<(usize, &Policy)> = set
        .policies()
        .map(|p| {
            let n = p
                .id()
                .to_string()
                .trim_start_matches("policy")
                .parse()
                .unwrap_or(usize::MAX);
            (n, p)
        })
        .collect();
    in_order.sort_by_key(|(n, _)| *n);
    let mut cursor = 0;
    for (_, policy) in in_order {
        let text = policy.to_string();
        let offset = source
            .text
            .get(cursor..)
            .and_then(|rest| rest.find(&text))
            .map_or(cursor, |at| cursor + at);
        cursor = offset + text.len();
        let at = |message: String| files.problem(index, offset, message);

        let Some(id) = policy.annotation("id").map(str::to_owned) else {
            problems.push(at(
                "policy has no `@id(\"…\")`: every policy needs a stable id".into(),
            ));
            continue;
        };
        if !valid_id(&id) {
            problems.push(at(format!(
                "policy id `{id}` must be 1 to 100 lowercase letters, digits, `_`, `-` or `.`"
            )));
            continue;
        }
        if [DEFAULT_DENY, REQUEST_SHAPE, EVALUATION_ERROR].contains(&id.as_str()) {
            problems.push(at(format!("policy id `{id}` is reserved by writ")));
            continue;
        }
        let reason_text = policy.annotation("reason").map(str::to_owned);
        let reason = match reason_text.as_deref().map(ReasonTemplate::parse) {
            None => None,
            Some(Ok(template)) => Some(template),
            Some(Err(err)) => {
                problems.push(at(format!("policy `{id}`: {err}")));
                continue;
            }
        };
        let effect = policy.effect();
        if effect == Effect::Forbid && reason.is_none() {
            problems.push(at(format!(
                "forbid policy `{id}` has no `@reason(\"…\")`: a refusal must say why in plain words"
            )));
            continue;
        }
        let (line, column) = position(&source.text, offset);
        out.push(Parsed {
            policy: LoadedPolicy {
                actions: actions_of(policy),
                system: system_of(policy),
                policy: policy.new_id(PolicyId::new(&id)),
                id,
                file: source.name.clone(),
                line,
                column,
                effect,
                reason_text,
                reason,
                overrides_shipped: false,
            },
            offset,
            file: index,
        });
    }
}

/// Applies the override rule; returns each policy with its file index and offset.
fn merge(
    files: &Files<'_>,
    parsed: Vec<Parsed>,
    shipped_files: usize,
    problems: &mut Vec<Problem>,
) -> Vec<(LoadedPolicy, usize, usize)> {
    let mut merged: Vec<(LoadedPolicy, usize, usize)> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for Parsed {
        mut policy,
        offset,
        file,
    } in parsed
    {
        match by_id.get(&policy.id).copied() {
            None => {
                by_id.insert(policy.id.clone(), merged.len());
                merged.push((policy, file, offset));
            }
            Some(at) => {
                let Some(slot) = merged.get_mut(at) else {
                    continue;
                };
                let (earlier, earlier_file, _) = &*slot;
                if *earlier_file < shipped_files && file >= shipped_files {
                    policy.overrides_shipped = true;
                    *slot = (policy, file, offset);
                } else {
                    let message = format!(
                        "policy id `{}` is already used at {}:{}:{}",
                        policy.id, earlier.file, earlier.line, earlier.column
                    );
                    problems.push(files.problem(file, offset, message));
                }
            }
        }
    }
    merged
}

/// Refuses reasons naming a value that some action of the policy cannot fill.
fn check_placeholders(
    files: &Files<'_>,
    policy: &LoadedPolicy,
    file: usize,
    offset: usize,
    problems: &mut Vec<Problem>,
) {
    let Some(reason) = &policy.reason else { return };
    for placeholder in reason.placeholders() {
        let missing: Vec<&str> = policy
            .actions
            .iter()
            .filter(|a| !a.placeholders().contains(&placeholder))
            .map(|a| a.name())
            .collect();
        if !missing.is_empty() {
            problems.push(files.problem(
                file,
                offset,
                format!(
                    "policy `{}`: reason uses `{{{}}}`, which has no value for `{}`",
                    policy.id,
                    placeholder.name(),
                    missing.join("`, `")
                ),
            ));
        }
    }
}

/// The actions a policy's scope can match.
fn actions_of(policy: &Policy) -> Vec<Action> {
    let named = |uids: Vec<cedar_policy::EntityUid>| -> Vec<Action> {
        let mut actions: Vec<Action> = uids
            .iter()
            .filter(|uid| uid.type_name().to_string() == "Action")
            .filter_map(|uid| Action::from_name(uid.id().unescaped()))
            .collect();
        actions.sort();
        actions.dedup();
        actions
    };
    match policy.action_constraint() {
        ActionConstraint::Any => Action::ALL.to_vec(),
        ActionConstraint::Eq(uid) => named(vec![uid]),
        ActionConstraint::In(uids) => named(uids),
    }
}

/// The system a policy's resource scope names: `resource in System::"…"`.
fn system_of(policy: &Policy) -> Option<String> {
    match policy.resource_constraint() {
        ResourceConstraint::In(uid) | ResourceConstraint::IsIn(_, uid)
            if uid.type_name().to_string() == "System" =>
        {
            Some(uid.id().unescaped().to_owned())
        }
        ResourceConstraint::Any
        | ResourceConstraint::In(_)
        | ResourceConstraint::IsIn(_, _)
        | ResourceConstraint::Eq(_)
        | ResourceConstraint::Is(_) => None,
    }
}

/// `policy` with its action scope dropped, for a slice of actions the scope matches: there it
/// always holds, and Cedar would otherwise rebuild and test `action in [...]` per decision.
/// Falls back to `policy` itself should the rewrite fail.
fn without_action_scope(policy: &Policy) -> Policy {
    if matches!(policy.action_constraint(), ActionConstraint::Any) {
        return policy.clone();
    }
    let Ok(mut json) = policy.to_json() else {
        return policy.clone();
    };
    if let Some(fields) = json.as_object_mut() {
        fields.insert("action".to_owned(), serde_json::json!({ "op": "All" }));
    }
    Policy::from_json(Some(policy.id().clone()), json).unwrap_or_else(|_| policy.clone())
}

fn valid_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        })
}

/// The offset of the first labelled span of a Cedar diagnostic.
fn first_label(diagnostic: &dyn Diagnostic) -> Option<usize> {
    diagnostic
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|label| label.offset())
}

/// A Cedar diagnostic's message, with its help when it has one.
fn message<D: Diagnostic + Display + ?Sized>(diagnostic: &D) -> String {
    match diagnostic.help() {
        Some(help) => format!("{diagnostic}; {help}"),
        None => diagnostic.to_string(),
    }
}

/// The 1-based line and character column of byte `offset` in `text`.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// SHA-256 over a version tag, the schema and every policy sorted by id, each part
/// length-prefixed. A policy enters as Cedar's JSON form, so reformatting or re-commenting a
/// file keeps the hash while any change to what a policy says (annotations included) changes
/// it.
fn hash<'a>(policies: impl Iterator<Item = &'a LoadedPolicy>) -> PolicySetHash {
    let mut sorted: Vec<&LoadedPolicy> = policies.collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut hasher = Sha256::new();
    let mut put = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    put(b"writ-policy-set-v1");
    put(SCHEMA.as_bytes());
    for policy in sorted {
        put(policy.id.as_bytes());
        let canonical = match policy.policy.to_json() {
            Ok(json) => json.to_string(),
            Err(_) => policy.policy.to_string(),
        };
        put(canonical.as_bytes());
    }
    PolicySetHash::from_bytes(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 4), (2, 2));
        assert_eq!(position(text, text.len()), (3, 2));
        assert_eq!(position(text, 999), (3, 2));
    }

    #[test]
    fn policy_ids_are_plain_lowercase_words() {
        assert!(valid_id("ttl_within_max"));
        assert!(valid_id("acme.no-ai-agents-2"));
        assert!(!valid_id(""));
        assert!(!valid_id("TTL"));
        assert!(!valid_id("has space"));
    }
}
