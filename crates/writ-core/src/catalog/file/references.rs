//! What the items of a catalog file say about each other: natural keys declared twice, and
//! names of systems, principals and entitlements that neither the file nor the store knows.

use std::collections::{BTreeMap, BTreeSet};

use writ_domain::{Catalog, Email, EntitlementKey, IdentityStatus, Name};

use super::FileError;
use super::spec::{
    ApproverSpec, CatalogFile, EntitlementSpec, IdentitySpec, PrincipalSpec, SodRuleSpec,
    SystemSpec,
};
use super::walk::{Report, field_path, item_path};

/// Natural keys already stored, which a file may refer to without declaring them: principals
/// usually arrive from the IdP, and one file may build on what another applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownKeys {
    /// Names of stored systems.
    pub systems: BTreeSet<Name>,
    /// E-mail addresses of stored principals who are active.
    pub active_principals: BTreeSet<Email>,
    /// E-mail addresses of stored principals who have left.
    pub inactive_principals: BTreeSet<Email>,
    /// Stored entitlements, by their system's name and their key.
    pub entitlements: BTreeSet<(Name, EntitlementKey)>,
}

impl KnownKeys {
    /// The natural keys of everything in `catalog`, as the store returns it.
    pub fn from_catalog(catalog: &Catalog) -> Self {
        let mut keys = Self::default();
        for principal in &catalog.principals {
            let set = if principal.active {
                &mut keys.active_principals
            } else {
                &mut keys.inactive_principals
            };
            set.insert(principal.email.clone());
        }
        let system_names: BTreeMap<_, _> = catalog
            .systems
            .iter()
            .map(|system| (system.id, system.name.clone()))
            .collect();
        keys.systems = system_names.values().cloned().collect();
        keys.entitlements = catalog
            .entitlements
            .iter()
            .filter_map(|e| Some((system_names.get(&e.system)?.clone(), e.key.clone())))
            .collect();
        keys
    }

    /// Adds every key of `other`.
    pub(super) fn extend(&mut self, other: KnownKeys) {
        self.systems.extend(other.systems);
        self.active_principals.extend(other.active_principals);
        self.inactive_principals.extend(other.inactive_principals);
        self.entitlements.extend(other.entitlements);
    }
}

/// The items of a file that were built, each with its index in its section, so that messages
/// name the item's place in the file even when items before it were refused.
pub(super) struct View<'a> {
    pub(super) principals: Vec<(usize, &'a PrincipalSpec)>,
    pub(super) systems: Vec<(usize, &'a SystemSpec)>,
    pub(super) entitlements: Vec<(usize, &'a EntitlementSpec)>,
    pub(super) sod_rules: Vec<(usize, &'a SodRuleSpec)>,
    pub(super) identities: Vec<(usize, &'a IdentitySpec)>,
}

impl<'a> View<'a> {
    /// Every item of `catalog`.
    pub(super) fn of(catalog: &'a CatalogFile) -> Self {
        fn all<T>(items: &[T]) -> Vec<(usize, &T)> {
            items.iter().enumerate().collect()
        }
        Self {
            principals: all(&catalog.principals),
            systems: all(&catalog.systems),
            entitlements: all(&catalog.entitlements),
            sod_rules: all(&catalog.sod_rules),
            identities: all(&catalog.identities),
        }
    }
}

/// Every reference in `catalog` to a system, principal or entitlement that neither the file
/// nor `known` holds, and every active identity whose owner has left. Pass an empty
/// [`KnownKeys`] to require a self-contained file.
pub fn check_references(catalog: &CatalogFile, known: &KnownKeys) -> Vec<FileError> {
    let mut report = Report::new(&catalog.file);
    report_unknown_references(&mut report, &View::of(catalog), known);
    report.into_errors()
}

/// Reports each natural key declared a second time, at the second declaration.
pub(super) fn report_duplicates(report: &mut Report, view: &View<'_>) {
    let mut first = FirstSeen::new(report, "principals");
    for (index, principal) in &view.principals {
        first.check(*index, "email", "principal", principal.email.to_string());
    }
    let mut first = FirstSeen::new(report, "principals");
    for (index, principal) in &view.principals {
        let id = principal.external_id.clone();
        first.check(*index, "external_id", "external id", id);
    }
    let mut first = FirstSeen::new(report, "systems");
    for (index, system) in &view.systems {
        first.check(*index, "name", "system", system.name.to_string());
    }
    let mut first = FirstSeen::new(report, "entitlements");
    for (index, entitlement) in &view.entitlements {
        first.check(*index, "key", "entitlement", entitlement.reference());
    }
    let mut first = FirstSeen::new(report, "sod_rules");
    for (index, rule) in &view.sod_rules {
        first.check(*index, "name", "sod rule", rule.name.to_string());
    }
    let mut first = FirstSeen::new(report, "identities");
    for (index, identity) in &view.identities {
        first.check(*index, "name", "identity", identity.name.to_string());
    }
}

/// Where each key of one section was first declared.
struct FirstSeen<'r> {
    report: &'r mut Report,
    section: &'static str,
    seen: BTreeMap<String, usize>,
}

impl<'r> FirstSeen<'r> {
    fn new(report: &'r mut Report, section: &'static str) -> Self {
        Self {
            report,
            section,
            seen: BTreeMap::new(),
        }
    }

    /// Records `key` of item `index`, reporting it at `field` when an earlier item had it.
    fn check(&mut self, index: usize, field: &str, what: &str, key: String) {
        let item = item_path(self.section, index);
        if let Some(first) = self.seen.get(&key) {
            let first = item_path(self.section, *first);
            self.report.error(
                &field_path(&item, field),
                format!("duplicate {what} `{key}`; first declared at {first}"),
            );
        } else {
            self.seen.insert(key, index);
        }
    }
}

/// Reports every reference that neither `view` nor `known` resolves.
pub(super) fn report_unknown_references(report: &mut Report, view: &View<'_>, known: &KnownKeys) {
    let lookup = Lookup::new(view, known);
    for (index, principal) in &view.principals {
        let path = item_path("principals", *index);
        if let Some(manager) = &principal.manager {
            let path = field_path(&path, "manager");
            if *manager == principal.email {
                report.error(&path, "a principal cannot be their own manager");
            } else {
                lookup.principal(report, &path, manager);
            }
        }
    }
    for (index, system) in &view.systems {
        let path = field_path(&item_path("systems", *index), "owner");
        lookup.principal(report, &path, &system.owner);
    }
    for (index, entitlement) in &view.entitlements {
        let path = item_path("entitlements", *index);
        if !lookup.has_system(&entitlement.system) {
            report.error(
                &field_path(&path, "system"),
                format!(
                    "no system named `{}` in this file or already stored",
                    entitlement.system
                ),
            );
        }
        lookup.principal(report, &field_path(&path, "owner"), &entitlement.owner);
        for (stage_index, stage) in entitlement.approval_stages.iter().enumerate() {
            if let ApproverSpec::Principal(email) = &stage.approvers {
                let stage_path = item_path(&field_path(&path, "approval_stages"), stage_index);
                lookup.principal(report, &field_path(&stage_path, "approvers"), email);
            }
        }
    }
    for (index, rule) in &view.sod_rules {
        let path = field_path(&item_path("sod_rules", *index), "entitlements");
        for (member_index, (system, key)) in rule.entitlements.iter().enumerate() {
            if !lookup.has_entitlement(system, key) {
                report.error(
                    &item_path(&path, member_index),
                    format!("no entitlement `{system}:{key}` in this file or already stored"),
                );
            }
        }
    }
    for (index, identity) in &view.identities {
        let path = field_path(&item_path("identities", *index), "owner");
        let owner_active = lookup.principal(report, &path, &identity.owner);
        if owner_active == Some(false) && identity.status == IdentityStatus::Active {
            report.error(
                &path,
                format!(
                    "owner `{}` is not active; an active identity needs an active owner",
                    identity.owner
                ),
            );
        }
    }
}

/// Resolves natural keys against the file first (it is about to be applied, so it wins), then
/// the store.
struct Lookup<'a> {
    principals: BTreeMap<&'a Email, bool>,
    systems: BTreeSet<&'a Name>,
    entitlements: BTreeSet<(&'a Name, &'a EntitlementKey)>,
    known: &'a KnownKeys,
}

impl<'a> Lookup<'a> {
    fn new(view: &View<'a>, known: &'a KnownKeys) -> Self {
        let mut principals = BTreeMap::new();
        for (_, principal) in &view.principals {
            // A repeated address is reported as a duplicate; the first declaration counts.
            principals
                .entry(&principal.email)
                .or_insert(principal.active);
        }
        Self {
            principals,
            systems: view.systems.iter().map(|(_, s)| &s.name).collect(),
            entitlements: view
                .entitlements
                .iter()
                .map(|(_, e)| (&e.system, &e.key))
                .collect(),
            known,
        }
    }

    /// Whether the principal at `email` is active; reports it and answers `None` when unknown.
    fn principal(&self, report: &mut Report, path: &str, email: &Email) -> Option<bool> {
        let active = if let Some(active) = self.principals.get(email) {
            Some(*active)
        } else if self.known.active_principals.contains(email) {
            Some(true)
        } else if self.known.inactive_principals.contains(email) {
            Some(false)
        } else {
            None
        };
        if active.is_none() {
            report.error(
                path,
                format!("no principal with email `{email}` in this file or already stored"),
            );
        }
        active
    }

    fn has_system(&self, name: &Name) -> bool {
        self.systems.contains(name) || self.known.systems.contains(name)
    }

    fn has_entitlement(&self, system: &Name, key: &EntitlementKey) -> bool {
        self.entitlements.contains(&(system, key))
            || self
                .known
                .entitlements
                .contains(&(system.clone(), key.clone()))
    }
}
