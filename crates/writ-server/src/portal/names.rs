//! Ids shown as the names people know: principals by name, identities by name, entitlements
//! as `system/key`, read once per page from the catalog.

use std::collections::HashMap;

use writ_domain::{Catalog, EntitlementId, IdentityId, PrincipalId, SystemId};

/// The names of everything a page may mention.
pub(crate) struct Names {
    principals: HashMap<PrincipalId, String>,
    identities: HashMap<IdentityId, String>,
    entitlements: HashMap<EntitlementId, String>,
}

impl Names {
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
