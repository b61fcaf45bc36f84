//! Planning a `writ apply`: the file's objects resolved to ids against what is stored, and what
//! would change, object by object, before anything is written.

use std::collections::BTreeMap;
use std::fmt;

use writ_domain::{
    Catalog, ConflictSet, Email, Entitlement, EntitlementId, EntitlementKey, Identity, IdentityId,
    Name, Principal, PrincipalId, SodRule, SodRuleId, System, SystemId, Timestamp,
};

use super::file::CatalogFile;

/// What applying the file does to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New: not in the store.
    Create,
    /// In the store, with these fields changed.
    Update(Vec<String>),
    /// In the store exactly as in the file.
    Unchanged,
    /// In the store but not in the file: `writ apply` never deletes, so it stays.
    Kept,
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    /// `principal`, `system`, `entitlement`, `sod_rule` or `identity`.
    pub kind: &'static str,
    /// Its natural key: e-mail, name, or `system:key`.
    pub key: String,
    /// The object's id (new for a creation).
    pub id: String,
    /// What happens to it.
    pub change: Change,
}

impl fmt::Display for PlanItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::Create => write!(f, "  + {} {}", self.kind, self.key),
            Change::Update(fields) => {
                write!(f, "  ~ {} {} ({})", self.kind, self.key, fields.join(", "))
            }
            Change::Unchanged => write!(f, "  = {} {}", self.kind, self.key),
            Change::Kept => write!(
                f,
                "  ! {} {} (not in the file; kept, never deleted)",
                self.kind, self.key
            ),
        }
    }
}

/// The plan of a `writ apply`, and the objects it would write.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPlan {
    /// Every object of the file and every stored object the file leaves out.
    pub items: Vec<PlanItem>,
    /// The created and updated objects, ready to upsert.
    pub changes: Catalog,
}

impl CatalogPlan {
    /// Whether applying would write anything.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// How many items have a change of each kind: `(create, update, unchanged, kept)`.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let count = |f: fn(&Change) -> bool| self.items.iter().filter(|i| f(&i.change)).count();
        (
            count(|c| matches!(c, Change::Create)),
            count(|c| matches!(c, Change::Update(_))),
            count(|c| matches!(c, Change::Unchanged)),
            count(|c| matches!(c, Change::Kept)),
        )
    }
}

/// A reference the file makes that neither the file nor the store holds. The file check
/// reports these first; this is the last line of defence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is referenced but neither in the file nor in the store")]
pub struct Unresolved(pub String);

/// Resolves the file against `current` and works out every change. Pure.
pub fn plan(
    current: &Catalog,
    file: &CatalogFile,
    now: Timestamp,
) -> Result<CatalogPlan, Unresolved> {
    let mut plan = Planner::default();

    // Ids first, so principals may name managers declared later in the file. A new id is an
    // id's `Default`.
    let stored_principals: BTreeMap<&Email, &Principal> =
        current.principals.iter().map(|p| (&p.email, p)).collect();
    let mut principal_ids: BTreeMap<Email, PrincipalId> = current
        .principals
        .iter()
        .map(|p| (p.email.clone(), p.id))
        .collect();
    for spec in &file.principals {
        principal_ids.entry(spec.email.clone()).or_default();
    }
    let principal_id = |email: &Email| {
        principal_ids
            .get(email)
            .copied()
            .ok_or_else(|| Unresolved(email.to_string()))
    };
    for spec in &file.principals {
        let principal = Principal {
            id: principal_id(&spec.email)?,
            external_id: spec.external_id.clone(),
            email: spec.email.clone(),
            name: spec.name.clone(),
            manager: spec.manager.as_ref().map(principal_id).transpose()?,
            groups: spec.groups.clone(),
            active: spec.active,
        };
        let stored = stored_principals.get(&spec.email).copied();
        plan.object(
            "principal",
            spec.email.to_string(),
            stored,
            principal,
            |c| &mut c.principals,
        );
    }
    plan.kept(
        "principal",
        current
            .principals
            .iter()
            .map(|p| (p.email.to_string(), p.id.to_string())),
    );

    let stored_systems: BTreeMap<&Name, &System> =
        current.systems.iter().map(|s| (&s.name, s)).collect();
    let mut system_ids: BTreeMap<Name, SystemId> = current
        .systems
        .iter()
        .map(|s| (s.name.clone(), s.id))
        .collect();
    for spec in &file.systems {
        let stored = stored_systems.get(&spec.name).copied();
        let system = System {
            id: *system_ids.entry(spec.name.clone()).or_default(),
            name: spec.name.clone(),
            connector: spec.connector,
            config: spec.config.clone(),
            owner: principal_id(&spec.owner)?,
            environment: spec.environment,
            criticality: spec.criticality,
        };
        plan.object("system", spec.name.to_string(), stored, system, |c| {
            &mut c.systems
        });
    }
    plan.kept(
        "system",
        current
            .systems
            .iter()
            .map(|s| (s.name.to_string(), s.id.to_string())),
    );

    let system_names: BTreeMap<SystemId, &Name> =
        system_ids.iter().map(|(name, id)| (*id, name)).collect();
    let entitlement_key = |e: &Entitlement| {
        let system = system_names
            .get(&e.system)
            .map_or_else(|| e.system.to_string(), |n| n.to_string());
        (system, e.key.clone())
    };
    let stored_entitlements: BTreeMap<(String, EntitlementKey), &Entitlement> = current
        .entitlements
        .iter()
        .map(|e| (entitlement_key(e), e))
        .collect();
    let mut entitlement_ids: BTreeMap<(String, EntitlementKey), EntitlementId> =
        stored_entitlements
            .iter()
            .map(|(key, e)| (key.clone(), e.id))
            .collect();
    for spec in &file.entitlements {
        let key = (spec.system.to_string(), spec.key.clone());
        let stored = stored_entitlements.get(&key).copied();
        let stages = spec
            .approval_stages
            .iter()
            .map(|stage| {
                let approvers = stage
                    .approvers
                    .to_rule(|email| principal_ids.get(email).copied())
                    .ok_or_else(|| Unresolved(format!("{:?}", stage.approvers)))?;
                Ok(writ_domain::ApprovalStage {
                    name: stage.name.clone(),
                    approvers,
                })
            })
            .collect::<Result<Vec<_>, Unresolved>>()?;
        let entitlement = Entitlement {
            id: *entitlement_ids.entry(key).or_default(),
            system: *system_ids
                .get(&spec.system)
                .ok_or_else(|| Unresolved(spec.system.to_string()))?,
            key: spec.key.clone(),
            name: spec.name.clone(),
            description: spec.description.clone(),
            risk: spec.risk,
            environment: spec.environment,
            ttl: spec.ttl,
            requestable: spec.requestable,
            allowed_identity_kinds: spec.allowed_identity_kinds.clone(),
            approval_stages: stages,
            break_glass: spec.break_glass,
            owner: principal_id(&spec.owner)?,
        };
        plan.object("entitlement", spec.reference(), stored, entitlement, |c| {
            &mut c.entitlements
        });
    }
    plan.kept(
        "entitlement",
        current.entitlements.iter().map(|e| {
            let (system, key) = entitlement_key(e);
            (format!("{system}:{key}"), e.id.to_string())
        }),
    );

    let stored_rules: BTreeMap<&Name, &SodRule> =
        current.sod_rules.iter().map(|r| (&r.name, r)).collect();
    for spec in &file.sod_rules {
        let stored = stored_rules.get(&spec.name).copied();
        let members = spec
            .entitlements
            .iter()
            .map(|(system, key)| {
                entitlement_ids
                    .get(&(system.to_string(), key.clone()))
                    .copied()
                    .ok_or_else(|| Unresolved(format!("{system}:{key}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rule = SodRule {
            id: stored.map_or_else(SodRuleId::new, |r| r.id),
            name: spec.name.clone(),
            entitlements: ConflictSet::new(members).map_err(|e| Unresolved(e.to_string()))?,
            scope: spec.scope,
            severity: spec.severity,
        };
        plan.object("sod_rule", spec.name.to_string(), stored, rule, |c| {
            &mut c.sod_rules
        });
    }
    plan.kept(
        "sod_rule",
        current
            .sod_rules
            .iter()
            .map(|r| (r.name.to_string(), r.id.to_string())),
    );

    let stored_identities: BTreeMap<&Name, &Identity> =
        current.identities.iter().map(|i| (&i.name, i)).collect();
    for spec in &file.identities {
        let stored = stored_identities.get(&spec.name).copied();
        let identity = Identity {
            id: stored.map_or_else(IdentityId::new, |i| i.id),
            name: spec.name.clone(),
            kind: spec.kind,
            owner: principal_id(&spec.owner)?,
            team: spec.team.clone(),
            purpose: spec.purpose.clone(),
            environment: spec.environment,
            status: spec.status,
            created_at: stored.map_or(now, |i| i.created_at),
        };
        plan.object("identity", spec.name.to_string(), stored, identity, |c| {
            &mut c.identities
        });
    }
    plan.kept(
        "identity",
        current
            .identities
            .iter()
            .map(|i| (i.name.to_string(), i.id.to_string())),
    );

    Ok(CatalogPlan {
        items: plan.items,
        changes: plan.changes,
    })
}

#[derive(Default)]
struct Planner {
    items: Vec<PlanItem>,
    changes: Catalog,
}

impl Planner {
    /// Records `new` against its `stored` version and queues it for writing if it differs.
    fn object<T>(
        &mut self,
        kind: &'static str,
        key: String,
        stored: Option<&T>,
        new: T,
        section: fn(&mut Catalog) -> &mut Vec<T>,
    ) where
        T: PartialEq + serde::Serialize + HasId,
    {
        let change = match stored {
            None => Change::Create,
            Some(stored) if *stored == new => Change::Unchanged,
            Some(stored) => Change::Update(changed_fields(stored, &new)),
        };
        let id = new.id_text();
        if change != Change::Unchanged {
            section(&mut self.changes).push(new);
        }
        self.items.push(PlanItem {
            kind,
            key,
            id,
            change,
        });
    }

    /// Adds every stored object of `kind` that the file did not name.
    fn kept(&mut self, kind: &'static str, stored: impl Iterator<Item = (String, String)>) {
        for (key, id) in stored {
            let named = self.items.iter().any(|i| i.kind == kind && i.id == id);
            if !named {
                self.items.push(PlanItem {
                    kind,
                    key,
                    id,
                    change: Change::Kept,
                });
            }
        }
    }
}

/// The top-level fields whose values differ, by their serialized names.
fn changed_fields<T: serde::Serialize>(old: &T, new: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return vec!["(all)".into()];
    };
    new.iter()
        .filter(|(field, value)| old.get(*field) != Some(value))
        .map(|(field, _)| field.clone())
        .collect()
}

/// Catalog objects know their id, to match plan lines with stored objects.
trait HasId {
    fn id_text(&self) -> String;
}

macro_rules! has_id {
    ($($t:ty),+) => {$(
        impl HasId for $t {
            fn id_text(&self) -> String {
                self.id.to_string()
            }
        }
    )+};
}

has_id!(Principal, System, Entitlement, SodRule, Identity);
