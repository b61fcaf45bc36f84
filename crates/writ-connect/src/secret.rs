//! Secrets in connector configuration: only references (`{"env": "VAR"}` or
//! `{"file": "/path"}`) are stored; the value is read when the connector is built and never
//! logged, printed or written anywhere.

use std::fmt;

use writ_domain::SecretRef;

use crate::ConnectorError;

/// A secret value. Its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it to the target.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where secret references are resolved: the process environment and files, or a test's map.
pub trait SecretSource: Send + Sync {
    /// The value of environment variable `name`, if set.
    fn env(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl SecretSource for ProcessEnv {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Resolves a reference from a system's configuration. `what` names the setting in errors.
pub fn resolve_secret(
    reference: &serde_json::Value,
    what: &str,
    source: &dyn SecretSource,
) -> Result<Secret, ConnectorError> {
    let reference: SecretRef = serde_json::from_value(reference.clone()).map_err(|_| {
        ConnectorError::Permanent(format!(
            "`{what}` must be a reference, {{\"env\": \"VAR\"}} or {{\"file\": \"/path\"}}"
        ))
    })?;
    match reference {
        SecretRef::Env(name) => source
            .env(&name)
            .filter(|v| !v.is_empty())
            .map(Secret)
            .ok_or_else(|| {
                ConnectorError::Permanent(format!(
                    "`{what}`: environment variable `{name}` is not set"
                ))
            }),
        SecretRef::File(path) => std::fs::read_to_string(&path)
            .map(|text| Secret(text.trim_end_matches(['\n', '\r']).to_string()))
            .map_err(|e| ConnectorError::Permanent(format!("`{what}`: cannot read `{path}`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Env(&'static str, &'static str);

    impl SecretSource for Env {
        fn env(&self, name: &str) -> Option<String> {
            (name == self.0).then(|| self.1.to_string())
        }
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "*** Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn resolves_env_and_file_references() {
        let env = Env("PG_PASSWORD", "s3cret");
        let value =
            resolve_secret(&serde_json::json!({"env": "PG_PASSWORD"}), "password", &env).unwrap();
        assert_eq!(value.expose(), "s3cret");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "from-file\n").unwrap();
        let reference = serde_json::json!({"file": path.to_str().unwrap()});
        assert_eq!(
            resolve_secret(&reference, "password", &env)
                .unwrap()
                .expose(),
            "from-file"
        );
    }

    #[test]
    fn a_literal_or_missing_secret_is_a_permanent_error_naming_the_setting() {
        let env = Env("X", "y");
        let literal = resolve_secret(&serde_json::json!("hunter2"), "password", &env).unwrap_err();
        assert!(!literal.is_transient());
        assert!(
            literal
                .to_string()
                .contains("`password` must be a reference")
        );
        assert!(!literal.to_string().contains("hunter2"));
        let missing =
            resolve_secret(&serde_json::json!({"env": "NOPE"}), "password", &env).unwrap_err();
        assert!(missing.to_string().contains("`NOPE` is not set"));
    }
}
