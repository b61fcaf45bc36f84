//! Names for the ids the API returns, so tables show `svc` and `target/readers` rather than
//! UUIDs. Looked up once per command; an id that cannot be named is shown as is.

use std::collections::HashMap;

use writ_api::{EntitlementQuery, SystemQuery};
use writ_client::Client;

/// Names by id, for identities and entitlements (`SYSTEM/KEY`).
#[derive(Debug, Default)]
pub struct Labels {
    names: HashMap<String, String>,
}

impl Labels {
    /// The catalog's entitlements (first 500) and the identities in `identities`, named.
    pub async fn load(client: &Client, identities: &[&str]) -> anyhow::Result<Self> {
        let mut names = HashMap::new();
        let systems = client
            .systems(&SystemQuery {
                limit: Some(writ_api::MAX_LIMIT),
                ..Default::default()
            })
            .await?;
        let system_names: HashMap<&str, &str> = systems
            .items
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_str()))
            .collect();
        let entitlements = client
            .entitlements(&EntitlementQuery {
                limit: Some(writ_api::MAX_LIMIT),
                ..Default::default()
            })
            .await?;
        for e in &entitlements.items {
            let system = system_names.get(e.system.as_str()).copied().unwrap_or("?");
            names.insert(e.id.clone(), format!("{system}/{}", e.key));
        }
        let mut wanted: Vec<&str> = identities.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        for id in wanted {
            if let Ok(found) = client.identity(id).await {
                names.insert(id.to_string(), found.identity.name);
            }
        }
        Ok(Self { names })
    }

    /// The name of `id`, or `id` itself.
    pub fn of(&self, id: &str) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The name of an optional id, or empty.
    pub fn of_some(&self, id: Option<&String>) -> String {
        id.map(|id| self.of(id)).unwrap_or_default()
    }
}
