//! The demo's organisation: the example catalog with every system moved onto a `local` target
//! directory of its own, each target created with its entitlements declared.

use std::path::Path;

use anyhow::Context;
use serde_norway::Value;
use writ_connect::local::LocalConnector;
use writ_core::Clock;
use writ_core::catalog;
use writ_domain::audit::Actor;
use writ_store::Store;

/// The example catalog, as shipped.
const EXAMPLE: &str = include_str!("../../../../../examples/catalog.yaml");

/// Applies the example catalog, every system on a `local` target under `dir/targets/`.
pub async fn build(store: &dyn Store, clock: &dyn Clock, dir: &Path) -> anyhow::Result<()> {
    let mut document: Value =
        serde_norway::from_str(EXAMPLE).context("examples/catalog.yaml does not parse")?;
    let mut targets = Vec::new();
    if let Some(systems) = document.get_mut("systems").and_then(Value::as_sequence_mut) {
        for system in systems {
            let name = system
                .get("name")
                .and_then(Value::as_str)
                .context("a system without a name")?
                .to_string();
            let path = dir.join("targets").join(&name);
            let map = system
                .as_mapping_mut()
                .context("a system is not a mapping")?;
            map.insert("connector".into(), "local".into());
            let mut config = serde_norway::Mapping::new();
            config.insert("path".into(), path.display().to_string().into());
            map.insert("config".into(), Value::Mapping(config));
            targets.push((name, path));
        }
    }
    for (name, path) in &targets {
        let target = LocalConnector::open(path);
        target
            .init()
            .await
            .with_context(|| format!("cannot create the `{name}` target"))?;
        let keys = document
            .get("entitlements")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter(|e| e.get("system").and_then(Value::as_str) == Some(name.as_str()))
            .filter_map(|e| e.get("key").and_then(Value::as_str));
        for key in keys {
            let key = key
                .parse()
                .map_err(|e| anyhow::anyhow!("entitlement `{key}`: {e}"))?;
            target
                .declare_entitlement(&key)
                .await
                .with_context(|| format!("cannot declare an entitlement on `{name}`"))?;
        }
    }
    let text = serde_norway::to_string(&document).context("the demo catalog")?;
    catalog::apply(
        store,
        clock,
        Actor::system("demo"),
        "demo-catalog.yaml",
        &text,
        false,
    )
    .await
    .map_err(|e| anyhow::anyhow!("the demo catalog does not apply: {e}"))?;
    Ok(())
}
