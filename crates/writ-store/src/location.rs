//! Where the store lives: a database URL, parsed once.

use std::path::PathBuf;

use crate::error::StoreError;

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file: `sqlite://PATH` or `sqlite:PATH`.
    Sqlite(PathBuf),
    /// A PostgreSQL server: `postgres://…` or `postgresql://…` (kept whole for the driver).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact(url),
            reason: reason.to_string(),
        };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(invalid("no file path after `sqlite://`"));
            }
            if path == ":memory:" || path.starts_with("file::memory:") {
                return Err(invalid(
                    "an in-memory database would lose every change; give a file path",
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let after_scheme = url
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            if after_scheme.is_empty() || after_scheme.starts_with('/') && after_scheme.len() == 1 {
                return Err(invalid("no host or database after `postgres://`"));
            }
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err(invalid(
            "expected `sqlite://PATH` or `postgres://USER@HOST:PORT/DATABASE`",
        ))
    }

    /// The URL for messages and logs, with any password removed.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }
}

/// Replaces the password in `scheme://user:password@host…` (and a `password=` query parameter)
/// with `***`, so URLs can be shown in errors and logs.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some((userinfo, host)) = authority.rsplit_once('@')
            && let Some((user, _password)) = userinfo.split_once(':')
        {
            out = format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..]);
        }
    }
    if let Some(start) = out.find("password=") {
        let value_start = start + "password=".len();
        let value_end = out[value_start..]
            .find('&')
            .map_or(out.len(), |i| value_start + i);
        out.replace_range(value_start..value_end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_paths_in_both_spellings() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://writ.db").unwrap(),
            DatabaseUrl::Sqlite("writ.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:/var/lib/writ/writ.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/writ/writ.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/writ.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/writ.db".into())
        );
    }

    #[test]
    fn refuses_memory_and_unknown_schemes() {
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
        let err = DatabaseUrl::parse("mysql://root@localhost/writ").unwrap_err();
        assert!(
            err.to_string().contains("expected `sqlite://PATH`"),
            "{err}"
        );
        assert!(DatabaseUrl::parse("writ.db").is_err());
    }

    #[test]
    fn errors_never_show_the_password() {
        let err = DatabaseUrl::parse("mysql://app:hunter2@db/writ").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_eq!(
            redact("postgres://app:hunter2@db:5432/writ?sslmode=require"),
            "postgres://app:***@db:5432/writ?sslmode=require"
        );
        assert_eq!(
            redact("postgres://db/writ?user=app&password=hunter2&sslmode=require"),
            "postgres://db/writ?user=app&password=***&sslmode=require"
        );
    }
}
