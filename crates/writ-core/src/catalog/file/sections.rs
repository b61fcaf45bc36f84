//! Building the typed specs from the YAML tree, one section at a time. Each builder reads
//! every field before combining them, so one bad field does not hide the next one's error.

use serde_norway::Value;
use writ_domain::{
    BreakGlass, ConnectorKind, Criticality, Email, EntitlementKey, Environment, IdentityKind,
    IdentityStatus, Name, ParseError, Risk, Severity, SodScope, Ttl, TtlPolicy,
};

use super::config::connector_config;
use super::references::{KnownKeys, View};
use super::spec::{
    ApprovalStageSpec, ApproverSpec, CatalogFile, EntitlementSpec, IdentitySpec, PrincipalSpec,
    SodRuleSpec, SystemSpec,
};
use super::walk::{Fields, Report, item_path, non_blank, text};

/// The top-level keys of a catalog file.
const SECTIONS: [&str; 5] = [
    "principals",
    "systems",
    "entitlements",
    "sod_rules",
    "identities",
];

/// Every item of every section, `None` where the item was refused, so the survivors keep
/// their position in the file for later messages.
#[derive(Default)]
pub(super) struct Sections {
    principals: Vec<Option<PrincipalSpec>>,
    systems: Vec<Option<SystemSpec>>,
    entitlements: Vec<Option<EntitlementSpec>>,
    sod_rules: Vec<Option<SodRuleSpec>>,
    identities: Vec<Option<IdentitySpec>>,
}

impl Sections {
    /// The items that were built, each with its index in its section.
    pub(super) fn view(&self) -> View<'_> {
        fn built<T>(items: &[Option<T>]) -> Vec<(usize, &T)> {
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| item.as_ref().map(|item| (index, item)))
                .collect()
        }
        View {
            principals: built(&self.principals),
            systems: built(&self.systems),
            entitlements: built(&self.entitlements),
            sod_rules: built(&self.sod_rules),
            identities: built(&self.identities),
        }
    }

    /// The catalog, when every item was built.
    pub(super) fn into_catalog(self, file: &str) -> Option<CatalogFile> {
        Some(CatalogFile {
            file: file.to_owned(),
            principals: self.principals.into_iter().collect::<Option<_>>()?,
            systems: self.systems.into_iter().collect::<Option<_>>()?,
            entitlements: self.entitlements.into_iter().collect::<Option<_>>()?,
            sod_rules: self.sod_rules.into_iter().collect::<Option<_>>()?,
            identities: self.identities.into_iter().collect::<Option<_>>()?,
        })
    }
}

/// Reads every section of the document `root`, reporting each problem.
pub(super) fn read_sections(report: &mut Report, root: &Value) -> Sections {
    if root.is_null() {
        // An empty file declares nothing, which is not an error.
        return Sections::default();
    }
    let Some(fields) = Fields::open(report, "", root, &SECTIONS) else {
        return Sections::default();
    };
    Sections {
        principals: section(report, &fields, "principals", principal),
        systems: section(report, &fields, "systems", system),
        entitlements: section(report, &fields, "entitlements", entitlement),
        sod_rules: section(report, &fields, "sod_rules", sod_rule),
        identities: section(report, &fields, "identities", identity),
    }
}

/// The items of section `key`, each built by `build`; empty when the section is absent.
fn section<T>(
    report: &mut Report,
    fields: &Fields<'_>,
    key: &str,
    build: fn(&mut Report, &str, &Value) -> Option<T>,
) -> Vec<Option<T>> {
    let Some(value) = fields.get(key) else {
        return Vec::new();
    };
    let Value::Sequence(items) = value else {
        report.wrong_type(key, "a list", value);
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| build(report, &item_path(key, index), item))
        .collect()
}

/// The keys that the file declares, read leniently from items whether or not they were built,
/// so a reference to a refused item is not reported a second time as unknown.
pub(super) fn declared_keys(root: &Value) -> KnownKeys {
    let items = |section: &str| {
        root.get(section)
            .and_then(Value::as_sequence)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let field = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut keys = KnownKeys::default();
    for item in items("principals") {
        if let Some(Ok(email)) = field(item, "email").map(|e| Email::parse(&e)) {
            keys.active_principals.insert(email);
        }
    }
    for item in items("systems") {
        if let Some(Ok(name)) = field(item, "name").map(|n| Name::parse(&n)) {
            keys.systems.insert(name);
        }
    }
    for item in items("entitlements") {
        if let (Some(system), Some(key)) = (field(item, "system"), field(item, "key"))
            && let (Ok(system), Ok(key)) = (Name::parse(&system), EntitlementKey::parse(&key))
        {
            keys.entitlements.insert((system, key));
        }
    }
    keys
}

fn principal(report: &mut Report, path: &str, value: &Value) -> Option<PrincipalSpec> {
    const FIELDS: [&str; 6] = [
        "external_id",
        "email",
        "name",
        "manager",
        "groups",
        "active",
    ];
    let f = Fields::open(report, path, value, &FIELDS)?;
    let external_id = f.required(report, "external_id", |t| non_blank("external id", t));
    let email = f.required(report, "email", Email::parse);
    let name = f.required(report, "name", Name::parse);
    let manager = f.optional(report, "manager", Email::parse);
    let groups = f.list(report, "groups", |report, path, value| {
        text(report, path, value, |t| non_blank("group", t))
    });
    let active = f.flag(report, "active", true);
    Some(PrincipalSpec {
        external_id: external_id?,
        email: email?,
        name: name?,
        manager: manager?,
        groups: groups?,
        active: active?,
    })
}

fn system(report: &mut Report, path: &str, value: &Value) -> Option<SystemSpec> {
    const FIELDS: [&str; 6] = [
        "name",
        "connector",
        "config",
        "owner",
        "environment",
        "criticality",
    ];
    let f = Fields::open(report, path, value, &FIELDS)?;
    let name = f.required(report, "name", Name::parse);
    let connector = f.required(report, "connector", str::parse::<ConnectorKind>);
    let config = f.optional_with(report, "config", connector_config);
    let owner = f.required(report, "owner", Email::parse);
    let environment = f.required(report, "environment", str::parse::<Environment>);
    let criticality = f.required(report, "criticality", str::parse::<Criticality>);
    Some(SystemSpec {
        name: name?,
        connector: connector?,
        config: config?.unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new())),
        owner: owner?,
        environment: environment?,
        criticality: criticality?,
    })
}

fn entitlement(report: &mut Report, path: &str, value: &Value) -> Option<EntitlementSpec> {
    const FIELDS: [&str; 13] = [
        "system",
        "key",
        "name",
        "description",
        "risk",
        "environment",
        "default_ttl",
        "max_ttl",
        "requestable",
        "allowed_identity_kinds",
        "approval_stages",
        "break_glass",
        "owner",
    ];
    let f = Fields::open(report, path, value, &FIELDS)?;
    let system = f.required(report, "system", Name::parse);
    let key = f.required(report, "key", EntitlementKey::parse);
    let name = f.required(report, "name", Name::parse);
    let description = f.optional(report, "description", |t| Ok(t.trim().to_owned()));
    let risk = f.required(report, "risk", str::parse::<Risk>);
    let environment = f.optional(report, "environment", str::parse::<Environment>);
    let ttl = ttl_policy(report, &f);
    let requestable = f.flag(report, "requestable", true);
    let kinds = f.list(report, "allowed_identity_kinds", |report, path, value| {
        text(report, path, value, str::parse::<IdentityKind>)
    });
    if let Some(kinds) = &kinds {
        report_repeats(report, &f.path("allowed_identity_kinds"), kinds, |k| {
            k.to_string()
        });
    }
    let stages = f.list(report, "approval_stages", approval_stage);
    if let Some(stages) = &stages {
        let names: Vec<&Name> = stages.iter().map(|s| &s.name).collect();
        report_repeats(report, &f.path("approval_stages"), &names, |n| {
            n.to_string()
        });
    }
    let break_glass = f.optional_with(report, "break_glass", |report, path, value| {
        let f = Fields::open(report, path, value, &["max_ttl"])?;
        let max_ttl = f.required(report, "max_ttl", Ttl::parse)?;
        Some(BreakGlass { max_ttl })
    });
    let owner = f.required(report, "owner", Email::parse);
    Some(EntitlementSpec {
        system: system?,
        key: key?,
        name: name?,
        description: description?.unwrap_or_default(),
        risk: risk?,
        environment: environment?,
        ttl: ttl?,
        requestable: requestable?,
        allowed_identity_kinds: kinds?,
        approval_stages: stages?,
        break_glass: break_glass?,
        owner: owner?,
    })
}

/// `default_ttl` and `max_ttl`, both required, the default no longer than the maximum.
fn ttl_policy(report: &mut Report, f: &Fields<'_>) -> Option<TtlPolicy> {
    let default = f.required(report, "default_ttl", Ttl::parse);
    let max = f.required(report, "max_ttl", Ttl::parse);
    let (default, max) = (default?, max?);
    TtlPolicy::new(default, max)
        .map_err(|_| {
            // Quote the file's own text: `Ttl`'s display would turn `7d` into `1w`.
            let given = |key| f.get(key).and_then(Value::as_str).unwrap_or_default();
            report.error(
                &f.path("default_ttl"),
                format!(
                    "default ttl `{}` must not be longer than max ttl `{}`",
                    given("default_ttl"),
                    given("max_ttl"),
                ),
            );
        })
        .ok()
}

fn approval_stage(report: &mut Report, path: &str, value: &Value) -> Option<ApprovalStageSpec> {
    let f = Fields::open(report, path, value, &["name", "approvers"])?;
    let name = f.required(report, "name", Name::parse);
    let approvers = f.required_with(report, "approvers", approver);
    Some(ApprovalStageSpec {
        name: name?,
        approvers: approvers?,
    })
}

/// `identity_owner`, `system_owner`, `entitlement_owner`, `{group: NAME}` or
/// `{principal: EMAIL}`.
fn approver(report: &mut Report, path: &str, value: &Value) -> Option<ApproverSpec> {
    const EXPECTED: &str = "expected `identity_owner`, `system_owner`, `entitlement_owner`, \
                            `{group: NAME}` or `{principal: EMAIL}`";
    match value {
        Value::String(rule) => match rule.as_str() {
            "identity_owner" => Some(ApproverSpec::IdentityOwner),
            "system_owner" => Some(ApproverSpec::SystemOwner),
            "entitlement_owner" => Some(ApproverSpec::EntitlementOwner),
            other => {
                report.error(path, format!("unknown approver `{other}`; {EXPECTED}"));
                None
            }
        },
        Value::Mapping(_) => {
            let f = Fields::open(report, path, value, &["group", "principal"])?;
            let group = f.optional(report, "group", |t| non_blank("group", t));
            let principal = f.optional(report, "principal", Email::parse);
            match (group?, principal?) {
                (Some(group), None) => Some(ApproverSpec::Group(group)),
                (None, Some(email)) => Some(ApproverSpec::Principal(email)),
                _ => {
                    report.error(path, "expected exactly one of `group` or `principal`");
                    None
                }
            }
        }
        other => {
            report.wrong_type(path, "a string or a mapping", other);
            None
        }
    }
}

fn sod_rule(report: &mut Report, path: &str, value: &Value) -> Option<SodRuleSpec> {
    const FIELDS: [&str; 4] = ["name", "entitlements", "scope", "severity"];
    let f = Fields::open(report, path, value, &FIELDS)?;
    let name = f.required(report, "name", Name::parse);
    let entitlements = f.required_with(report, "entitlements", conflict_set);
    let scope = f.required(report, "scope", str::parse::<SodScope>);
    let severity = f.required(report, "severity", str::parse::<Severity>);
    Some(SodRuleSpec {
        name: name?,
        entitlements: entitlements?,
        scope: scope?,
        severity: severity?,
    })
}

/// At least two distinct `system:key` references.
fn conflict_set(
    report: &mut Report,
    path: &str,
    value: &Value,
) -> Option<Vec<(Name, EntitlementKey)>> {
    let members = super::walk::list(report, path, value, |report, path, value| {
        text(report, path, value, entitlement_reference)
    })?;
    let repeated = report_repeats(report, path, &members, |(system, key)| {
        format!("{system}:{key}")
    });
    if members.len() - repeated < 2 {
        report.error(path, "must name at least two distinct entitlements");
        return None;
    }
    Some(members)
}

/// `system:key`, split at the first colon: system names have none, native keys may.
fn entitlement_reference(text: &str) -> Result<(Name, EntitlementKey), ParseError> {
    let Some((system, key)) = text.split_once(':') else {
        return Err(ParseError::new(
            "entitlement reference",
            text,
            "must be `system:key`, e.g. `payments-db:writer`",
        ));
    };
    Ok((Name::parse(system)?, EntitlementKey::parse(key)?))
}

fn identity(report: &mut Report, path: &str, value: &Value) -> Option<IdentitySpec> {
    const FIELDS: [&str; 7] = [
        "name",
        "kind",
        "owner",
        "team",
        "purpose",
        "environment",
        "status",
    ];
    let f = Fields::open(report, path, value, &FIELDS)?;
    let name = f.required(report, "name", Name::parse);
    let kind = f.required(report, "kind", str::parse::<IdentityKind>);
    let owner = f.required(report, "owner", Email::parse);
    let team = f.optional(report, "team", |t| non_blank("team", t));
    let purpose = f.required(report, "purpose", |t| non_blank("purpose", t));
    let environment = f.required(report, "environment", str::parse::<Environment>);
    let status = f.optional(report, "status", str::parse::<IdentityStatus>);
    Some(IdentitySpec {
        name: name?,
        kind: kind?,
        owner: owner?,
        team: team?,
        purpose: purpose?,
        environment: environment?,
        status: status?.unwrap_or(IdentityStatus::Active),
    })
}

/// Reports each item of the list at `path` that repeats an earlier one (by `shown`), at the
/// repeat's own path; returns how many repeats there were.
fn report_repeats<T>(
    report: &mut Report,
    path: &str,
    items: &[T],
    shown: impl Fn(&T) -> String,
) -> usize {
    let mut seen: Vec<String> = Vec::with_capacity(items.len());
    let mut repeats = 0;
    for (index, item) in items.iter().enumerate() {
        let text = shown(item);
        if let Some(first) = seen.iter().position(|s| *s == text) {
            repeats += 1;
            report.error(
                &item_path(path, index),
                format!("`{text}` is already listed at {}", item_path(path, first)),
            );
        }
        seen.push(text);
    }
    repeats
}
