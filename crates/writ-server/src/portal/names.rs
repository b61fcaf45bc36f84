//! Ids shown as the names people know: principals by name, identities by name, entitlements
//! as `system/key`. A page collects the ids it shows and reads their names in one go
//! ([`Names::lookup`]), so its cost does not grow with the catalog; pages that read the whole
//! catalog anyway take the names from it ([`Names::of`]).

use std::collections::{BTreeSet, HashMap};

use writ_domain::{Catalog, EntitlementId, Grant, IdentityId, PrincipalId, Request, SystemId};
use writ_store::{Store, StoreResult};

/// The ids a page shows, to look their names up together.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    principals: BTreeSet<PrincipalId>,
    identities: BTreeSet<IdentityId>,
    entitlements: BTreeSet<EntitlementId>,
}

impl Wanted {
    /// A principal.
    pub fn principal(&mut self, id: PrincipalId) {
        self.principals.insert(id);
    }

    /// An audit actor, when it is a principal (`principal:<id>`).
    pub fn actor(&mut self, actor: &str) {
        if let Some(id) = principal_of_actor(actor) {
            self.principals.insert(id);
        }
    }

    /// An identity.
    pub fn identity(&mut self, id: IdentityId) {
        self.identities.insert(id);
    }

    /// Who and what a request names.
    pub fn request(&mut self, r: &Request) {
        self.principals.insert(r.requester);
        self.identities.insert(r.identity);
        self.entitlements.extend(r.entitlement);
    }

    /// The identity and entitlement of a grant.
    pub fn grant(&mut self, g: &Grant) {
        self.identities.insert(g.identity);
        self.entitlements.insert(g.entitlement);
    }
}

/// The names of everything a page may mention.
pub(crate) struct Names {
    principals: HashMap<PrincipalId, String>,
    identities: HashMap<IdentityId, String>,
    entitlements: HashMap<EntitlementId, String>,
}

impl Names {
    /// The names of the `wanted` ids, read from the store for them alone.
    pub async fn lookup(store: &dyn Store, wanted: Wanted) -> StoreResult<Self> {
        let found = store
            .display_names(
                &Vec::from_iter(wanted.principals),
                &Vec::from_iter(wanted.identities),
                &Vec::from_iter(wanted.entitlements),
            )
            .await?;
        Ok(Self {
            principals: found.principals,
            identities: found.identities,
            entitlements: found.entitlements,
        })
    }

    /// The names in `catalog`.
    pub fn of(catalog: &Catalog) -> Self {
        let systems: HashMap<SystemId, String> = catalog
            .systems
            .iter()
            .map(|s| (s.id, s.name.to_string()))
            .collect();
        Self {
            principals: catalog
                .principals
                .iter()
                .map(|p| (p.id, p.name.to_string()))
                .collect(),
            identities: catalog
                .identities
                .iter()
                .map(|i| (i.id, i.name.to_string()))
                .collect(),
            entitlements: catalog
                .entitlements
                .iter()
                .map(|e| {
                    let system = systems.get(&e.system).cloned().unwrap_or_default();
                    (e.id, format!("{system}/{}", e.key))
                })
                .collect(),
        }
    }

    /// A principal's name.
    pub fn principal(&self, id: PrincipalId) -> String {
        self.principals
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// An audit actor (`principal:<id>`, `system:<component>`) in words.
    pub fn actor(&self, actor: &str) -> String {
        principal_of_actor(actor).map_or_else(|| actor.to_string(), |id| self.principal(id))
    }

    /// An identity's name.
    pub fn identity(&self, id: IdentityId) -> String {
        self.identities
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// An entitlement as `system/key`, or `—` for none.
    pub fn entitlement(&self, id: Option<EntitlementId>) -> String {
        id.map_or_else(
            || "—".to_string(),
            |id| {
                self.entitlements
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            },
        )
    }
}

fn principal_of_actor(actor: &str) -> Option<PrincipalId> {
    actor
        .strip_prefix("principal:")
        .and_then(|id| id.parse().ok())
}
