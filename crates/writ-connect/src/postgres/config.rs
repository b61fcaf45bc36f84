//! The `postgres` connector's settings, read from a system's connector config (a JSON object)
//! and checked once: every key is known, typed and in range, or the error names it.

use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::ident::{MAX_NAME_BYTES, quote_ident};
use crate::{ConnectorError, Secret, SecretSource, resolve_secret};

/// Every key the connector reads; anything else is reported, not ignored.
const KNOWN_KEYS: [&str; 8] = [
    "host",
    "port",
    "database",
    "user",
    "password",
    "sslmode",
    "role_prefix",
    "connect_timeout_secs",
];

/// How the connector reaches the cluster, and which roles it treats as accounts.
#[derive(Clone)]
pub(super) struct PostgresConfig {
    /// Host name or address of the cluster.
    pub(super) host: String,
    /// TCP port (default 5432).
    pub(super) port: u16,
    /// Database to connect to; roles are cluster-wide, so any database will do.
    pub(super) database: String,
    /// The role writ connects as: needs `CREATEROLE` (or superuser).
    pub(super) user: String,
    /// The password of `user`, resolved from its reference; absent for trust or peer auth.
    pub(super) password: Option<Secret>,
    /// TLS mode, as libpq's `sslmode` (default `prefer`).
    pub(super) ssl_mode: PgSslMode,
    /// When set, only roles whose names start with it are writ's accounts.
    pub(super) role_prefix: Option<String>,
    /// How long to wait for a connection before calling the target unreachable (default 5 s).
    pub(super) connect_timeout: Duration,
}

impl PostgresConfig {
    /// Reads the settings from `config`, resolving `password` through `secrets`.
    pub(super) fn parse(
        config: &Value,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ConnectorError> {
        let object = config.as_object().ok_or_else(|| {
            permanent("the postgres connector's config must be a JSON object".to_owned())
        })?;
        if let Some(unknown) = object.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(permanent(format!(
                "unknown key `{unknown}` in the postgres connector's config (known keys: {})",
                KNOWN_KEYS.join(", ")
            )));
        }
        let user = required_text(object, "user")?;
        if user.len() > MAX_NAME_BYTES || user.contains('\0') {
            return Err(permanent(format!(
                "`user` must be a role name of at most {MAX_NAME_BYTES} bytes without NUL"
            )));
        }
        let password = match object.get("password") {
            None | Some(Value::Null) => None,
            Some(reference) => Some(resolve_secret(reference, "password", secrets)?),
        };
        Ok(Self {
            host: required_text(object, "host")?,
            port: integer(object, "port", 1, u64::from(u16::MAX))?
                .map_or(Ok(5432), u16::try_from)
                .map_err(|_| permanent("`port` must be between 1 and 65535".to_owned()))?,
            database: required_text(object, "database")?,
            user,
            password,
            ssl_mode: ssl_mode(object)?,
            role_prefix: role_prefix(object)?,
            connect_timeout: Duration::from_secs(
                integer(object, "connect_timeout_secs", 1, 300)?.unwrap_or(5),
            ),
        })
    }

    /// Where the connector points, for messages: `host:port/database` (no user, no secret).
    pub(super) fn target(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.database)
    }

    /// Driver options. Statement logging is off because `CREATE ROLE` carries a password
    /// verifier; `statement_timeout` and `lock_timeout` keep a blocked call from hanging a job.
    pub(super) fn connect_options(&self) -> PgConnectOptions {
        // `new_without_pgpass` still reads libpq's PG* environment variables for settings this
        // config leaves open (such as certificates); every setting named here overrides them.
        let options = PgConnectOptions::new_without_pgpass()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(&self.user)
            .ssl_mode(self.ssl_mode)
            .application_name("writ")
            .options([("statement_timeout", "30s"), ("lock_timeout", "10s")])
            .disable_statement_logging();
        match &self.password {
            Some(password) => options.password(password.expose()),
            None => options,
        }
    }
}

fn permanent(message: String) -> ConnectorError {
    ConnectorError::Permanent(message)
}

fn required_text(object: &Map<String, Value>, key: &str) -> Result<String, ConnectorError> {
    match object.get(key) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(_) => Err(permanent(format!("`{key}` must be a non-empty string"))),
        None => Err(permanent(format!(
            "`{key}` is required in the postgres connector's config"
        ))),
    }
}

fn integer(
    object: &Map<String, Value>,
    key: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConnectorError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| {
                permanent(format!(
                    "`{key}` must be an integer between {min} and {max}"
                ))
            }),
    }
}

fn ssl_mode(object: &Map<String, Value>) -> Result<PgSslMode, ConnectorError> {
    let mode = match object.get("sslmode") {
        None | Some(Value::Null) => return Ok(PgSslMode::Prefer),
        Some(Value::String(mode)) => mode.as_str(),
        Some(_) => "",
    };
    match mode {
        "disable" => Ok(PgSslMode::Disable),
        "allow" => Ok(PgSslMode::Allow),
        "prefer" => Ok(PgSslMode::Prefer),
        "require" => Ok(PgSslMode::Require),
        "verify-ca" => Ok(PgSslMode::VerifyCa),
        "verify-full" => Ok(PgSslMode::VerifyFull),
        _ => Err(permanent(
            "`sslmode` must be one of disable, allow, prefer, require, verify-ca, verify-full"
                .to_owned(),
        )),
    }
}

fn role_prefix(object: &Map<String, Value>) -> Result<Option<String>, ConnectorError> {
    let prefix = match object.get("role_prefix") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(prefix)) if !prefix.is_empty() => prefix,
        Some(_) => {
            return Err(permanent(
                "`role_prefix` must be a non-empty string".to_owned(),
            ));
        }
    };
    // A prefix must leave room for a name after it, and `pg_` names are PostgreSQL's own.
    if prefix.starts_with("pg_") || prefix.len() >= MAX_NAME_BYTES || quote_ident(prefix).is_err() {
        return Err(permanent(format!(
            "`role_prefix` `{prefix}` must be shorter than {MAX_NAME_BYTES} bytes, without NUL, \
             and must not start with `pg_`"
        )));
    }
    Ok(Some(prefix.clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Env;

    impl SecretSource for Env {
        fn env(&self, name: &str) -> Option<String> {
            (name == "PG_PW").then(|| "s3cret".to_owned())
        }
    }

    fn error_of(config: Value) -> String {
        match PostgresConfig::parse(&config, &Env) {
            Ok(_) => panic!("{config} was accepted"),
            Err(err) => {
                assert!(!err.is_transient());
                err.to_string()
            }
        }
    }

    #[test]
    fn reads_a_full_config_and_defaults_the_rest() {
        let minimal = json!({"host": "db", "database": "app", "user": "writ"});
        let config = PostgresConfig::parse(&minimal, &Env).unwrap();
        assert_eq!(config.port, 5432);
        assert!(matches!(config.ssl_mode, PgSslMode::Prefer));
        assert!(config.password.is_none() && config.role_prefix.is_none());
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.target(), "db:5432/app");

        let full = json!({
            "host": "db", "port": 6432, "database": "app", "user": "writ",
            "password": {"env": "PG_PW"}, "sslmode": "verify-full", "role_prefix": "nhi_",
            "connect_timeout_secs": 2,
        });
        let config = PostgresConfig::parse(&full, &Env).unwrap();
        assert_eq!(config.port, 6432);
        assert_eq!(config.password.unwrap().expose(), "s3cret");
        assert!(matches!(config.ssl_mode, PgSslMode::VerifyFull));
        assert_eq!(config.role_prefix.as_deref(), Some("nhi_"));
        assert_eq!(config.connect_timeout, Duration::from_secs(2));
    }

    #[test]
    fn each_bad_setting_is_a_permanent_error_naming_its_key() {
        let base = json!({"host": "db", "database": "app", "user": "writ"});
        let with = |key: &str, value: Value| {
            let mut config = base.clone();
            config[key] = value;
            config
        };
        assert!(error_of(json!({"database": "app", "user": "writ"})).contains("`host`"));
        assert!(error_of(with("user", json!(""))).contains("`user`"));
        assert!(error_of(with("port", json!(0))).contains("`port`"));
        assert!(error_of(with("port", json!(70000))).contains("`port`"));
        assert!(error_of(with("port", json!("5432"))).contains("`port`"));
        assert!(error_of(with("sslmode", json!("sometimes"))).contains("`sslmode`"));
        assert!(error_of(with("role_prefix", json!("pg_x"))).contains("`role_prefix`"));
        assert!(error_of(with("password", json!("hunter2"))).contains("`password`"));
        assert!(error_of(with("password", json!({"env": "NOPE"}))).contains("`NOPE`"));
        assert!(error_of(with("connect_timeout_secs", json!(0))).contains("connect_timeout"));
        assert!(error_of(with("hots", json!("db"))).contains("unknown key `hots`"));
        assert!(error_of(json!(["db"])).contains("JSON object"));
    }
}
