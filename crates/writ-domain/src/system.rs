//! Systems: the targets writ provisions into, each reached through one connector.

use crate::id::{PrincipalId, SystemId};
use crate::kinds::{Criticality, Environment, string_enum};
use crate::name::Name;

string_enum! {
    /// Which connector reaches a system.
    ConnectorKind as "connector kind" {
        /// A directory-backed target for demos and tests.
        Local = "local",
        /// Login roles and role membership of a PostgreSQL server.
        Postgres = "postgres",
        /// Users and groups of an LDAP directory.
        Ldap = "ldap",
        /// A SCIM 2.0 service provider.
        Scim = "scim",
        /// Redis ACL users as API keys.
        Redis = "redis",
        /// A system that implements writ's documented webhook contract.
        Http = "http",
    }
}

/// A target system writ provisions into.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct System {
    /// writ's id.
    pub id: SystemId,
    /// The name, unique among systems.
    pub name: Name,
    /// Which connector reaches the system.
    pub connector: ConnectorKind,
    /// The connector's settings, checked by the connector itself. Secrets never appear here,
    /// only references to them: `{"env": "VAR"}` or `{"file": "/path"}` (see [`SecretRef`]),
    /// so the config can be stored, logged and shown without leaking a credential.
    pub config: serde_json::Value,
    /// The principal accountable for the system; may be named as an approver.
    pub owner: PrincipalId,
    /// Which environment the system belongs to.
    pub environment: Environment,
    /// How much the business depends on the system.
    pub criticality: Criticality,
}

/// Where a connector finds a secret at run time; the secret itself is never stored.
///
/// Serialized as `{"env": "VAR"}` or `{"file": "/path"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretRef {
    /// The value of an environment variable of the writ process.
    Env(String),
    /// The contents of a file readable by the writ process.
    File(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_have_the_documented_shape() {
        let env: SecretRef =
            serde_json::from_value(serde_json::json!({"env": "PG_PASSWORD"})).unwrap();
        assert_eq!(env, SecretRef::Env("PG_PASSWORD".into()));
        let file = SecretRef::File("/run/secrets/pg".into());
        assert_eq!(
            serde_json::to_value(&file).unwrap(),
            serde_json::json!({"file": "/run/secrets/pg"})
        );
    }

    #[test]
    fn a_literal_secret_is_not_a_secret_reference() {
        assert!(serde_json::from_value::<SecretRef>(serde_json::json!("hunter2")).is_err());
        assert!(
            serde_json::from_value::<SecretRef>(serde_json::json!({"value": "hunter2"})).is_err()
        );
    }

    #[test]
    fn connector_kind_parses_its_text() {
        assert_eq!(
            "postgres".parse::<ConnectorKind>(),
            Ok(ConnectorKind::Postgres)
        );
        assert!("mysql".parse::<ConnectorKind>().is_err());
    }
}
