//! Turning facts into Cedar entities, cheaply: type names and action ids are parsed once at
//! load, and each decision builds only the handful of entities its request touches.

use std::collections::HashMap;
use std::hash::Hash;
use std::str::FromStr;
use std::sync::RwLock;

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use writ_domain::{EntitlementId, IdentityId, IdentityKind, PrincipalId};

use crate::action::{Action, Shape};
use crate::facts::{EntitlementFacts, IdentityFacts, PrincipalFacts, RequestFacts, risk_rank};

/// Entities already built, reused while their facts are unchanged: most decisions concern
/// principals, identities and entitlements seen before, and cloning an entity costs a fraction
/// of building it. Bounded: a full memo starts over.
#[derive(Debug)]
struct Memo<K, F> {
    entries: RwLock<HashMap<K, (F, Entity)>>,
}

impl<K: Hash + Eq + Copy, F: PartialEq + Clone> Memo<K, F> {
    const CAPACITY: usize = 16_384;

    fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The entity of `facts` under `key`: the one built before from equal facts, else
    /// `build()`'s. A poisoned lock only costs the reuse.
    fn entity(
        &self,
        key: K,
        facts: &F,
        build: impl FnOnce() -> Result<Entity, String>,
    ) -> Result<Entity, String> {
        if let Ok(entries) = self.entries.read()
            && let Some((known, entity)) = entries.get(&key)
            && known == facts
        {
            return Ok(entity.clone());
        }
        let entity = build()?;
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
            entries.insert(key, (facts.clone(), entity.clone()));
        }
        Ok(entity)
    }
}

/// The schema's entity type names and action ids, parsed once, and the memo of built
/// entities.
#[derive(Debug)]
pub(crate) struct Names {
    principal: EntityTypeName,
    identity: EntityTypeName,
    entitlement: EntityTypeName,
    access_request: EntityTypeName,
    identity_change: EntityTypeName,
    ownership_transfer: EntityTypeName,
    system: EntityTypeName,
    actions: Vec<EntityUid>,
    principals: Memo<PrincipalId, PrincipalFacts>,
    identities: Memo<IdentityId, IdentityFacts>,
    entitlements: Memo<EntitlementId, EntitlementFacts>,
}

/// A request's resource and the entities it refers to.
pub(crate) struct Built {
    pub resource: EntityUid,
    pub entities: Vec<Entity>,
}

fn type_name(name: &str) -> Result<EntityTypeName, String> {
    EntityTypeName::from_str(name).map_err(|e| format!("entity type `{name}`: {e}"))
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

/// An entity with `attrs` and at most one parent; an array of attributes spares building a
/// map that Cedar would rebuild anyway.
fn entity<const N: usize>(
    uid_: EntityUid,
    attrs: [(&str, RestrictedExpression); N],
    parent: Option<EntityUid>,
) -> Result<Entity, String> {
    Entity::new_with_tags(uid_, attrs.map(|(k, v)| (k.to_owned(), v)), parent, [])
        .map_err(|e| e.to_string())
}

fn text(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

fn secs(value: u64) -> RestrictedExpression {
    RestrictedExpression::new_long(i64::try_from(value).unwrap_or(i64::MAX))
}

fn boolean(value: bool) -> RestrictedExpression {
    RestrictedExpression::new_bool(value)
}

impl Names {
    /// Parses the names used by the schema.
    pub(crate) fn new() -> Result<Self, String> {
        let action = type_name("Action")?;
        Ok(Self {
            principal: type_name("Principal")?,
            identity: type_name("Identity")?,
            entitlement: type_name("Entitlement")?,
            access_request: type_name("AccessRequest")?,
            identity_change: type_name("IdentityChange")?,
            ownership_transfer: type_name("OwnershipTransfer")?,
            system: type_name("System")?,
            actions: Action::ALL.iter().map(|a| uid(&action, a.name())).collect(),
            principals: Memo::new(),
            identities: Memo::new(),
            entitlements: Memo::new(),
        })
    }

    /// The id of `action`.
    pub(crate) fn action(&self, action: Action) -> Option<&EntityUid> {
        self.actions.get(action.index())
    }

    /// The id of the principal `id`.
    pub(crate) fn principal(&self, id: PrincipalId) -> EntityUid {
        uid(&self.principal, &id.to_string())
    }

    fn principal_entity(&self, p: &PrincipalFacts) -> Result<Entity, String> {
        let groups = RestrictedExpression::new_set(p.groups.iter().map(|g| text(g)));
        entity(
            self.principal(p.id),
            [
                ("active", boolean(p.active)),
                ("admin", boolean(p.admin)),
                ("groups", groups),
            ],
            None,
        )
    }

    fn identity_entity(&self, uid_: EntityUid, identity: &IdentityFacts) -> Result<Entity, String> {
        let owner = RestrictedExpression::new_entity_uid(self.principal(identity.owner.id));
        let name = ("name", text(identity.name.as_str()));
        let kind = ("kind", text(identity.kind.as_str()));
        let status = ("status", text(identity.status.as_str()));
        let environment = ("environment", text(identity.environment.as_str()));
        let owner = ("owner", owner);
        match &identity.team {
            Some(team) => entity(
                uid_,
                [name, kind, status, environment, owner, ("team", text(team))],
                None,
            ),
            None => entity(uid_, [name, kind, status, environment, owner], None),
        }
    }

    fn entitlement_entity(&self, uid_: EntityUid, e: &EntitlementFacts) -> Result<Entity, String> {
        let kinds: &[IdentityKind] = e.allowed_kinds_or_all();
        let allowed_kinds = RestrictedExpression::new_set(kinds.iter().map(|k| text(k.as_str())));
        let break_glass_max = e.break_glass.map_or(0, |b| b.max_ttl.as_secs());
        entity(
            uid_,
            [
                ("name", text(e.name.as_str())),
                ("system", text(e.system.as_str())),
                ("risk", text(e.risk.as_str())),
                (
                    "risk_rank",
                    RestrictedExpression::new_long(risk_rank(e.risk)),
                ),
                ("environment", text(e.environment.as_str())),
                ("requestable", boolean(e.requestable)),
                ("default_ttl_secs", secs(e.ttl.default_ttl().as_secs())),
                ("max_ttl_secs", secs(e.ttl.max_ttl().as_secs())),
                ("allowed_kinds", allowed_kinds),
                ("break_glass_allowed", boolean(e.break_glass.is_some())),
                ("break_glass_max_ttl_secs", secs(break_glass_max)),
            ],
            None,
        )
    }

    /// The resource of `request` and every entity it refers to; `also` adds another principal
    /// (the approver). Fails when the request lacks what its kind needs.
    pub(crate) fn request(
        &self,
        request: &RequestFacts,
        also: Option<&PrincipalFacts>,
    ) -> Result<Built, String> {
        let mut principals: Vec<&PrincipalFacts> = Vec::with_capacity(4);
        for p in [Some(&request.requester), Some(&request.identity.owner)]
            .into_iter()
            .chain([request.new_owner.as_ref(), also])
            .flatten()
        {
            if !principals.iter().any(|q| q.id == p.id) {
                principals.push(p);
            }
        }
        let mut entities = Vec::with_capacity(principals.len() + 3);
        for p in principals {
            entities.push(
                self.principals
                    .entity(p.id, p, || self.principal_entity(p))?,
            );
        }
        let identity = uid(&self.identity, &request.identity.id.to_string());
        entities.push(
            self.identities
                .entity(request.identity.id, &request.identity, || {
                    self.identity_entity(identity.clone(), &request.identity)
                })?,
        );
        let requester = (
            "requester",
            RestrictedExpression::new_entity_uid(self.principal(request.requester.id)),
        );
        let identity = ("identity", RestrictedExpression::new_entity_uid(identity));
        let resource = match Shape::of(request.kind) {
            Shape::Access => {
                let e = request
                    .entitlement
                    .as_ref()
                    .ok_or_else(|| missing(request, "an entitlement"))?;
                let entitlement = uid(&self.entitlement, &e.id.to_string());
                entities.push(
                    self.entitlements
                        .entity(e.id, e, || self.entitlement_entity(entitlement.clone(), e))?,
                );
                let ttl = request.effective_ttl().map_or(0, |t| t.as_secs());
                let resource = uid(&self.access_request, "request");
                let system = uid(&self.system, e.system.as_str());
                entities.push(entity(
                    resource.clone(),
                    [
                        requester,
                        identity,
                        (
                            "entitlement",
                            RestrictedExpression::new_entity_uid(entitlement),
                        ),
                        ("ttl_secs", secs(ttl)),
                    ],
                    Some(system),
                )?);
                resource
            }
            Shape::Change => {
                let resource = uid(&self.identity_change, "request");
                entities.push(entity(resource.clone(), [requester, identity], None)?);
                resource
            }
            Shape::Transfer => {
                let new_owner = request
                    .new_owner
                    .as_ref()
                    .ok_or_else(|| missing(request, "a new owner"))?;
                let new_owner = RestrictedExpression::new_entity_uid(self.principal(new_owner.id));
                let resource = uid(&self.ownership_transfer, "request");
                entities.push(entity(
                    resource.clone(),
                    [requester, identity, ("new_owner", new_owner)],
                    None,
                )?);
                resource
            }
        };
        Ok(Built { resource, entities })
    }
}

fn missing(request: &RequestFacts, what: &str) -> String {
    format!("a `{}` request must name {what}", request.kind)
}

/// What is missing from a request for its kind, if anything.
pub(crate) fn shape_problem(request: &RequestFacts) -> Option<String> {
    match Shape::of(request.kind) {
        Shape::Access if request.entitlement.is_none() => Some(missing(request, "an entitlement")),
        Shape::Transfer if request.new_owner.is_none() => Some(missing(request, "a new owner")),
        Shape::Access | Shape::Change | Shape::Transfer => None,
    }
}

#[cfg(test)]
mod tests {
    use cedar_policy::{Entities, Request, Schema};
    use writ_domain::{BreakGlass, RequestKind};

    use super::*;
    use crate::approve::approval_context;
    use crate::approve::tests::owner_approves;
    use crate::submit::submit_context;
    use crate::testing::{ci_token, person, request, submission, ttl, writer};

    /// Builds the entities of a request of every kind, as a submission and as an approval,
    /// and checks them against the schema: what Rust builds is what policies were validated
    /// against.
    #[test]
    fn built_entities_conform_to_the_schema_for_every_kind() {
        let (schema, _) = Schema::from_cedarschema_str(crate::SCHEMA).unwrap();
        let names = Names::new().unwrap();
        let owner = person("Olivia Owner");
        let mut identity = ci_token(&owner);
        let mut entitlement = writer();
        entitlement.break_glass = Some(BreakGlass { max_ttl: ttl("1h") });
        for kind in RequestKind::ALL {
            for team in [Some("payments".to_owned()), None] {
                identity.team = team;
                let mut facts = request(*kind, &owner, &identity, &entitlement, "1d");
                facts.new_owner = Some(person("Nora New"));
                let approver = person("Sec Ops");
                for also in [None, Some(&approver)] {
                    let built = names.request(&facts, also).unwrap();
                    Entities::from_entities(built.entities, Some(&schema))
                        .unwrap_or_else(|e| panic!("{kind}: {e}"));
                }
            }
        }
    }

    #[test]
    fn a_remembered_entity_is_rebuilt_when_its_facts_change() {
        let names = Names::new().unwrap();
        let owner = person("Olivia Owner");
        let mut facts = request(
            RequestKind::Grant,
            &owner,
            &ci_token(&owner),
            &writer(),
            "1d",
        );
        let status = |built: Built| -> String {
            let identity = built
                .entities
                .iter()
                .find(|e| e.uid().type_name().to_string() == "Identity")
                .unwrap();
            identity.attr("status").unwrap().unwrap().to_string()
        };
        assert_eq!(status(names.request(&facts, None).unwrap()), "\"active\"");
        facts.identity.status = writ_domain::IdentityStatus::Suspended;
        assert_eq!(
            status(names.request(&facts, None).unwrap()),
            "\"suspended\""
        );
    }

    #[test]
    fn submit_and_approval_contexts_conform_to_the_schema() {
        let (schema, _) = Schema::from_cedarschema_str(crate::SCHEMA).unwrap();
        let names = Names::new().unwrap();
        let owner = person("Olivia Owner");
        let facts = request(
            RequestKind::Grant,
            &owner,
            &ci_token(&owner),
            &writer(),
            "1d",
        );
        for kind in RequestKind::ALL {
            let mut input = submission(facts.clone());
            input.request.kind = *kind;
            input.request.new_owner = Some(person("Nora New"));
            let built = names.request(&input.request, None).unwrap();
            let action = names.action(Action::submit(*kind)).unwrap().clone();
            let context = submit_context(&input).unwrap();
            Request::new(
                names.principal(owner.id),
                action,
                built.resource,
                context,
                Some(&schema),
            )
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
        let input = owner_approves();
        let built = names
            .request(&input.request, Some(&input.approver))
            .unwrap();
        let action = names.action(Action::Approve).unwrap().clone();
        let context = approval_context(&input).unwrap();
        Request::new(
            names.principal(input.approver.id),
            action,
            built.resource,
            context,
            Some(&schema),
        )
        .unwrap();
    }
}
