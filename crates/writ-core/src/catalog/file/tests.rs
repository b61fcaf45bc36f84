//! Whole files through [`parse_catalog`] and [`check_catalog`], as `writ apply` reads them.

use writ_domain::{
    BreakGlass, ConnectorKind, Email, EntitlementKey, IdentityKind, IdentityStatus, Name, Risk, Ttl,
};

use super::*;

const EXAMPLE: &str = include_str!("../../../../../examples/catalog.yaml");

/// A small valid catalog that tests break in one place at a time.
const BASE: &str = "
principals:
  - external_id: u1
    email: owner@example.com
    name: Owner
systems:
  - name: db
    connector: postgres
    owner: owner@example.com
    environment: production
    criticality: high
entitlements:
  - system: db
    key: writer
    name: Writer
    risk: high
    default_ttl: 1d
    max_ttl: 7d
    owner: owner@example.com
  - system: db
    key: auditor
    name: Auditor
    risk: medium
    default_ttl: 1d
    max_ttl: 7d
    owner: owner@example.com
sod_rules:
  - name: writer vs auditor
    entitlements: ['db:writer', 'db:auditor']
    scope: identity
    severity: high
identities:
  - name: api
    kind: service_account
    owner: owner@example.com
    purpose: serves the api
    environment: production
";

/// `(path, message)` of every error, for exact comparisons.
fn problems(result: Result<CatalogFile, CatalogFileErrors>) -> Vec<(String, String)> {
    match result {
        Ok(catalog) => panic!("expected errors, parsed {catalog:#?}"),
        Err(errors) => errors
            .into_errors()
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect(),
    }
}

fn paths(result: Result<CatalogFile, CatalogFileErrors>) -> Vec<String> {
    problems(result).into_iter().map(|(path, _)| path).collect()
}

#[test]
fn the_example_catalog_parses_and_is_self_contained() {
    let catalog = check_catalog("catalog.yaml", EXAMPLE, &KnownKeys::default())
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(catalog.file, "catalog.yaml");
    assert!(catalog.principals.len() >= 6);
    assert_eq!(catalog.systems.len(), 4);
    assert!(catalog.entitlements.len() >= 12);
    assert!(catalog.identities.len() >= 12);
    let kinds: std::collections::BTreeSet<&str> =
        catalog.identities.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(
        kinds.len(),
        IdentityKind::ALL.len(),
        "every kind: {kinds:?}"
    );

    let db = &catalog.systems[0];
    assert_eq!(db.name.as_str(), "payments-db");
    assert_eq!(db.connector, ConnectorKind::Postgres);
    assert_eq!(
        db.config["password"],
        serde_json::json!({"env": "PAYMENTS_DB_ADMIN_PASSWORD"})
    );

    let find = |system: &str, key: &str| {
        catalog
            .entitlements
            .iter()
            .find(|e| e.system.as_str() == system && e.key.as_str() == key)
            .unwrap_or_else(|| panic!("no {system}:{key}"))
    };
    assert_eq!(find("payments-db", "writer").risk, Risk::High);
    assert_eq!(
        find("ci-pipelines", "deploy-production").ttl.max_ttl(),
        Ttl::parse("7d").unwrap()
    );
    let dba = find("payments-db", "dba");
    assert!(!dba.requestable);
    assert_eq!(
        dba.break_glass,
        Some(BreakGlass {
            max_ttl: Ttl::parse("1h").unwrap()
        })
    );
    let writer_vs_auditor = &catalog.sod_rules[0];
    assert!(writer_vs_auditor.entitlements.contains(&(
        Name::parse("payments-db").unwrap(),
        EntitlementKey::parse("auditor").unwrap()
    )));
}

#[test]
fn a_bad_file_reports_every_problem_at_once_with_exact_paths() {
    let text = "
systems:
  - name: db
    connector: mysql
    owner: not-an-email
    environment: production
    criticality: high
entitlements:
  - {system: db, key: a, name: A, risk: low, default_ttl: 1h, max_ttl: 1d, owner: o@x.io}
  - {system: db, key: b, name: B, risk: low, default_ttl: 1h, max_ttl: 1d, owner: o@x.io}
  - {system: db, key: c, name: C, risk: low, default_ttl: 1h, max_ttl: 1d, owner: o@x.io}
  - system: db
    key: d
    name: D
    risk: extreme
    default_ttl: 1h
    max_ttl: 9x
    owner: o@x.io
";
    let errors = problems(parse_catalog("catalog.yaml", text));
    assert_eq!(
        errors,
        [
            (
                "systems[0].connector".to_owned(),
                "invalid connector kind `mysql`: expected one of `local`, `postgres`, `ldap`, \
                 `scim`, `redis`, `http`"
                    .to_owned()
            ),
            (
                "systems[0].owner".to_owned(),
                "invalid email `not-an-email`: must be one `@` between a local part and a domain"
                    .to_owned()
            ),
            (
                "entitlements[3].risk".to_owned(),
                "invalid risk `extreme`: expected one of `low`, `medium`, `high`, `critical`"
                    .to_owned()
            ),
            (
                "entitlements[3].max_ttl".to_owned(),
                "invalid ttl `9x`: must end in a unit: `s`, `m`, `h`, `d` or `w`".to_owned()
            ),
        ]
    );
}

#[test]
fn each_error_displays_as_file_path_and_message() {
    let text = BASE.replacen("max_ttl: 7d\n    owner", "max_ttl: 9x\n    owner", 1);
    let errors = parse_catalog("catalog.yaml", &text).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "catalog.yaml: entitlements[0].max_ttl: invalid ttl `9x`: must end in a unit: `s`, `m`, \
         `h`, `d` or `w`"
    );
}

#[test]
fn an_unknown_key_is_named_with_the_fields_expected_there() {
    let text = BASE.replace(
        "    owner: owner@example.com\n    environment: production\n    criticality",
        "    onwer: owner@example.com\n    environment: production\n    criticality",
    );
    let errors = problems(parse_catalog("catalog.yaml", &text));
    assert_eq!(
        errors,
        [
            (
                "systems[0].onwer".to_owned(),
                "unknown field; expected one of `name`, `connector`, `config`, `owner`, \
                 `environment`, `criticality`"
                    .to_owned()
            ),
            (
                "systems[0].owner".to_owned(),
                "missing required field".to_owned()
            ),
        ]
    );
}

#[test]
fn an_unknown_section_is_refused() {
    let text = format!("{BASE}policies: []\n");
    let errors = problems(parse_catalog("catalog.yaml", &text));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "policies");
    assert!(
        errors[0]
            .1
            .starts_with("unknown field; expected one of `principals`")
    );
}

#[test]
fn a_value_of_the_wrong_type_names_the_expected_type() {
    let text = BASE
        .replace("criticality: high", "criticality: [high]")
        .replace("purpose: serves the api", "purpose: {text: x}");
    let errors = problems(parse_catalog("catalog.yaml", &text));
    assert_eq!(
        errors,
        [
            (
                "systems[0].criticality".to_owned(),
                "expected a string, found a list".to_owned()
            ),
            (
                "identities[0].purpose".to_owned(),
                "expected a string, found a mapping".to_owned()
            ),
        ]
    );
    let errors = problems(parse_catalog("catalog.yaml", "systems: {name: db}\n"));
    assert_eq!(
        errors,
        [(
            "systems".to_owned(),
            "expected a list, found a mapping".to_owned()
        )]
    );
}

#[test]
fn a_natural_key_declared_twice_is_reported_at_the_second_declaration() {
    let text = BASE.replace(
        "    key: auditor\n    name: Auditor",
        "    key: writer\n    name: Auditor",
    );
    let errors = problems(parse_catalog("catalog.yaml", &text));
    assert_eq!(
        errors[0],
        (
            "entitlements[1].key".to_owned(),
            "duplicate entitlement `db:writer`; first declared at entitlements[0]".to_owned()
        )
    );

    let twice = format!(
        "{BASE}  - name: api\n    kind: workload\n    owner: owner@example.com\n    \
         purpose: x\n    environment: staging\n"
    );
    assert_eq!(
        problems(parse_catalog("catalog.yaml", &twice)),
        [(
            "identities[1].name".to_owned(),
            "duplicate identity `api`; first declared at identities[0]".to_owned()
        )]
    );
}

#[test]
fn principals_are_unique_by_email_whatever_its_case() {
    let text = BASE.replace(
        "systems:",
        "  - external_id: u2\n    email: Owner@Example.com\n    name: Other\nsystems:",
    );
    assert_eq!(
        paths(parse_catalog("catalog.yaml", &text)),
        ["principals[1].email"]
    );
}

#[test]
fn a_default_ttl_longer_than_the_max_is_refused() {
    let text = BASE.replace(
        "default_ttl: 1d\n    max_ttl: 7d",
        "default_ttl: 8d\n    max_ttl: 7d",
    );
    assert_eq!(
        problems(parse_catalog("catalog.yaml", &text))[0],
        (
            "entitlements[0].default_ttl".to_owned(),
            "default ttl `8d` must not be longer than max ttl `7d`".to_owned()
        )
    );
}

#[test]
fn a_plain_text_secret_in_a_connector_config_is_refused() {
    let text = BASE.replace(
        "    criticality: high\n",
        "    criticality: high\n    config:\n      host: db\n      password: hunter2\n",
    );
    let errors = parse_catalog("catalog.yaml", &text).unwrap_err();
    let [error] = errors.errors() else {
        panic!("expected one error: {errors}");
    };
    assert_eq!(error.path, "systems[0].config.password");
    assert!(
        error.message.contains("{env: VARIABLE}"),
        "{}",
        error.message
    );
    assert!(!errors.to_string().contains("hunter2"));
}

#[test]
fn a_yaml_syntax_error_is_one_error_with_its_line() {
    let text = "systems:\n  - name: db\n    connector: [postgres\n  owner: x\n";
    let errors = parse_catalog("catalog.yaml", text).unwrap_err();
    let [error] = errors.errors() else {
        panic!("expected one error: {errors}");
    };
    assert_eq!(error.path, "");
    assert!(
        error.message.starts_with("invalid yaml: "),
        "{}",
        error.message
    );
    assert!(error.message.contains("line 4"), "{}", error.message);
    assert!(
        errors
            .to_string()
            .starts_with("catalog.yaml: invalid yaml: ")
    );
}

#[test]
fn a_key_given_twice_in_one_mapping_is_a_yaml_error() {
    let text = "systems:\n  - name: db\n    name: other\n";
    let errors = problems(parse_catalog("catalog.yaml", text));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "");
    assert_eq!(
        errors[0].1,
        "invalid yaml: systems[0]: duplicate entry with key \"name\" at line 2 column 5"
    );
}

#[test]
fn an_empty_file_is_an_empty_catalog() {
    for text in ["", "# nothing yet\n", "systems: ~\n"] {
        let catalog = parse_catalog("catalog.yaml", text).unwrap();
        assert!(catalog.systems.is_empty() && catalog.identities.is_empty());
    }
}

#[test]
fn a_document_that_is_not_a_mapping_is_refused() {
    assert_eq!(
        problems(parse_catalog("catalog.yaml", "- systems\n")),
        [(String::new(), "expected a mapping, found a list".to_owned())]
    );
}

#[test]
fn defaults_fill_in_what_the_file_leaves_out() {
    let catalog = parse_catalog("catalog.yaml", BASE).unwrap();
    assert!(catalog.principals[0].active);
    assert!(catalog.principals[0].groups.is_empty());
    assert_eq!(catalog.systems[0].config, serde_json::json!({}));
    let writer = &catalog.entitlements[0];
    assert!(writer.requestable);
    assert!(writer.allowed_identity_kinds.is_empty());
    assert_eq!(writer.description, "");
    assert_eq!(writer.environment, None);
    assert_eq!(writer.break_glass, None);
    assert_eq!(catalog.identities[0].status, IdentityStatus::Active);
    assert_eq!(catalog.identities[0].team, None);
}

#[test]
fn approvers_take_every_documented_form() {
    let stages = "    approval_stages:
      - {name: one, approvers: identity_owner}
      - {name: two, approvers: system_owner}
      - {name: three, approvers: entitlement_owner}
      - {name: four, approvers: {group: security}}
      - {name: five, approvers: {principal: Owner@example.com}}
    owner: owner@example.com
  - system: db
    key: auditor";
    let text = BASE.replacen(
        "    owner: owner@example.com\n  - system: db\n    key: auditor",
        stages,
        1,
    );
    let catalog = parse_catalog("catalog.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let approvers: Vec<ApproverSpec> = catalog.entitlements[0]
        .approval_stages
        .iter()
        .map(|s| s.approvers.clone())
        .collect();
    assert_eq!(
        approvers,
        [
            ApproverSpec::IdentityOwner,
            ApproverSpec::SystemOwner,
            ApproverSpec::EntitlementOwner,
            ApproverSpec::Group("security".into()),
            ApproverSpec::Principal(Email::parse("owner@example.com").unwrap()),
        ]
    );
}

#[test]
fn a_malformed_approver_names_the_stage() {
    let stages = "    approval_stages:
      - {name: one, approvers: manager}
      - {name: two, approvers: {group: security, principal: a@b.c}}
    owner: owner@example.com
  - system: db
    key: auditor";
    let text = BASE.replacen(
        "    owner: owner@example.com\n  - system: db\n    key: auditor",
        stages,
        1,
    );
    assert_eq!(
        paths(parse_catalog("catalog.yaml", &text)),
        [
            "entitlements[0].approval_stages[0].approvers",
            "entitlements[0].approval_stages[1].approvers",
        ]
    );
}

#[test]
fn a_stage_name_given_twice_in_one_entitlement_is_refused() {
    let stages = "    approval_stages:
      - {name: owner, approvers: identity_owner}
      - {name: owner, approvers: system_owner}
    owner: owner@example.com
  - system: db
    key: auditor";
    let text = BASE.replacen(
        "    owner: owner@example.com\n  - system: db\n    key: auditor",
        stages,
        1,
    );
    assert_eq!(
        problems(parse_catalog("catalog.yaml", &text)),
        [(
            "entitlements[0].approval_stages[1]".to_owned(),
            "`owner` is already listed at entitlements[0].approval_stages[0]".to_owned()
        )]
    );
}

#[test]
fn an_sod_rule_needs_two_distinct_entitlements() {
    let text = BASE.replace(
        "['db:writer', 'db:auditor']",
        "['db:writer', 'db:writer', 'dbwriter']",
    );
    assert_eq!(
        problems(parse_catalog("catalog.yaml", &text)),
        [(
            "sod_rules[0].entitlements[2]".to_owned(),
            "invalid entitlement reference `dbwriter`: must be `system:key`, e.g. \
             `payments-db:writer`"
                .to_owned()
        )]
    );
    let text = BASE.replace("['db:writer', 'db:auditor']", "['db:writer', 'db:writer']");
    assert_eq!(
        paths(parse_catalog("catalog.yaml", &text)),
        ["sod_rules[0].entitlements[1]", "sod_rules[0].entitlements"]
    );
}

#[test]
fn parsing_alone_leaves_references_to_the_store() {
    let text = BASE.replace(
        "owner: owner@example.com\n    purpose",
        "owner: elsewhere@example.com\n    purpose",
    );
    assert!(parse_catalog("catalog.yaml", &text).is_ok());
    assert_eq!(
        problems(check_catalog("catalog.yaml", &text, &KnownKeys::default())),
        [(
            "identities[0].owner".to_owned(),
            "no principal with email `elsewhere@example.com` in this file or already stored"
                .to_owned()
        )]
    );
    let mut known = KnownKeys::default();
    known
        .active_principals
        .insert(Email::parse("elsewhere@example.com").unwrap());
    assert!(check_catalog("catalog.yaml", &text, &known).is_ok());
}

#[test]
fn references_to_systems_entitlements_and_principals_outside_the_file_are_reported() {
    let text = BASE
        .replace(
            "  - system: db\n    key: auditor",
            "  - system: dbx\n    key: auditor",
        )
        .replace("'db:auditor'", "'db:reader'")
        .replace(
            "    name: Owner\n",
            "    name: Owner\n    manager: boss@example.com\n",
        );
    let catalog = parse_catalog("catalog.yaml", &text).unwrap();
    let errors = check_references(&catalog, &KnownKeys::default());
    let found: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "catalog.yaml: principals[0].manager: no principal with email `boss@example.com` in \
             this file or already stored",
            "catalog.yaml: entitlements[1].system: no system named `dbx` in this file or already \
             stored",
            "catalog.yaml: sod_rules[0].entitlements[1]: no entitlement `db:reader` in this file \
             or already stored",
        ]
    );
    let mut known = KnownKeys::default();
    known.systems.insert(Name::parse("dbx").unwrap());
    known
        .active_principals
        .insert(Email::parse("boss@example.com").unwrap());
    known.entitlements.insert((
        Name::parse("db").unwrap(),
        EntitlementKey::parse("reader").unwrap(),
    ));
    assert_eq!(check_references(&catalog, &known), []);
}

#[test]
fn an_active_identity_needs_an_active_owner() {
    let text = BASE.replace("    name: Owner\n", "    name: Owner\n    active: false\n");
    assert_eq!(
        paths(check_catalog("catalog.yaml", &text, &KnownKeys::default())),
        ["identities[0].owner"]
    );
    let suspended = format!("{text}    status: suspended\n");
    assert!(check_catalog("catalog.yaml", &suspended, &KnownKeys::default()).is_ok());
}

#[test]
fn shape_and_reference_errors_come_together_without_echoes() {
    // The system is refused for its criticality, but its name still counts as declared, so
    // the entitlements naming it are not reported a second time.
    let text = BASE
        .replace("criticality: high", "criticality: extreme")
        .replace(
            "owner: owner@example.com\n    purpose",
            "owner: ghost@example.com\n    purpose",
        );
    assert_eq!(
        paths(check_catalog("catalog.yaml", &text, &KnownKeys::default())),
        ["systems[0].criticality", "identities[0].owner"]
    );
}

#[test]
fn known_keys_come_from_a_stored_catalog() {
    use writ_domain::{Catalog, Principal, PrincipalId, System, SystemId};
    let system = System {
        id: SystemId::new(),
        name: Name::parse("db").unwrap(),
        connector: ConnectorKind::Postgres,
        config: serde_json::json!({}),
        owner: PrincipalId::new(),
        environment: writ_domain::Environment::Production,
        criticality: writ_domain::Criticality::High,
    };
    let leaver = Principal {
        id: PrincipalId::new(),
        external_id: "u9".into(),
        email: Email::parse("left@example.com").unwrap(),
        name: Name::parse("Left").unwrap(),
        manager: None,
        groups: vec![],
        active: false,
    };
    let catalog = Catalog {
        principals: vec![leaver.clone()],
        systems: vec![system],
        ..Catalog::default()
    };
    let known = KnownKeys::from_catalog(&catalog);
    assert!(known.systems.contains(&Name::parse("db").unwrap()));
    assert!(known.inactive_principals.contains(&leaver.email));
    assert!(known.active_principals.is_empty());
}

#[test]
fn merge_keys_share_settings_between_items() {
    let text = "
x-defaults: &defaults
  risk: low
  default_ttl: 1h
  max_ttl: 1d
  owner: owner@example.com
";
    // Unknown top-level keys are errors, so anchors live inside a section item instead.
    assert_eq!(paths(parse_catalog("catalog.yaml", text)), ["x-defaults"]);
    let text = BASE
        .replace(
            "  - system: db\n    key: auditor\n    name: Auditor\n    risk: medium\n    \
         default_ttl: 1d\n    max_ttl: 7d\n    owner: owner@example.com\n",
            "  - <<: *writer\n    key: auditor\n    name: Auditor\n",
        )
        .replace(
            "  - system: db\n    key: writer",
            "  - &writer\n    system: db\n    key: writer",
        );
    let catalog = parse_catalog("catalog.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.entitlements[1].key.as_str(), "auditor");
    assert_eq!(catalog.entitlements[1].risk, Risk::High);
}
