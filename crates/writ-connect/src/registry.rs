//! Which connector serves a system: built from the system's connector kind and configuration,
//! once, and rebuilt when the configuration changes (a `writ apply` may change it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use writ_domain::{ConnectorKind, System, SystemId};

use crate::local::LocalConnector;
use crate::postgres::PostgresConnector;
use crate::{Connector, ConnectorError, SecretSource};

/// Builds the connector a system's configuration names. Secret references in the
/// configuration are resolved from `secrets`.
pub fn connector_for(
    system: &System,
    secrets: &dyn SecretSource,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    match system.connector {
        ConnectorKind::Local => Ok(Arc::new(LocalConnector::from_config(&system.config)?)),
        ConnectorKind::Postgres => Ok(Arc::new(PostgresConnector::from_config(
            &system.config,
            secrets,
        )?)),
        other => Err(ConnectorError::Permanent(format!(
            "system `{}` uses the `{other}` connector, which this version of writ does not have yet",
            system.name
        ))),
    }
}

/// A connector and the configuration it was built from.
type Built = (ConnectorKind, serde_json::Value, Arc<dyn Connector>);

/// The connectors of every system, kept while their configuration stays the same (a
/// PostgreSQL connector holds a connection pool worth keeping).
pub struct Registry {
    secrets: Box<dyn SecretSource>,
    built: Mutex<HashMap<SystemId, Built>>,
}

impl Registry {
    /// A registry resolving secret references from `secrets`.
    pub fn new(secrets: impl SecretSource + 'static) -> Self {
        Self {
            secrets: Box::new(secrets),
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The connector for `system`, built on first use or when its configuration changed.
    pub fn get(&self, system: &System) -> Result<Arc<dyn Connector>, ConnectorError> {
        let mut built = self
            .built
            .lock()
            .map_err(|_| ConnectorError::Transient("connector registry poisoned".into()))?;
        if let Some((kind, config, connector)) = built.get(&system.id)
            && *kind == system.connector
            && *config == system.config
        {
            return Ok(connector.clone());
        }
        let connector = connector_for(system, &*self.secrets)?;
        built.insert(
            system.id,
            (system.connector, system.config.clone(), connector.clone()),
        );
        Ok(connector)
    }
}
