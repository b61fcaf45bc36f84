//! Schema migrations: plain SQL files, one folder per backend, same file names, embedded in
//! the binary and applied in order. A database migrated by a newer writ is refused.

use crate::error::StoreError;

/// One migration, named `<version>_<name>.sql` in both backend folders.
#[derive(Debug)]
pub(crate) struct Migration {
    /// A timestamp `YYYYMMDDhhmmss`, increasing.
    pub version: i64,
    /// Its file's name.
    pub name: &'static str,
    /// The SQL, possibly several statements.
    pub sql: &'static str,
}

macro_rules! migrations {
    ($backend:literal: $($version:literal $name:literal),+ $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $backend, "/", stringify!($version), "_", $name, ".sql")),
        }),+]
    };
}

pub(crate) const SQLITE: &[Migration] = migrations!("sqlite": 20261122000000 "foundation", 20261122120000 "catalog", 20261122180000 "routing", 20261122200000 "expiry", 20261122210000 "reviews", 20261122220000 "credentials", 20261122230000 "system_principal", 20261122235000 "job_order", 20261123000000 "notifications", 20261123100000 "findings", 20261123300000 "evidence", 20261123300500 "api", 20261123400000 "request_kinds", 20261123500000 "session_tokens", 20261124100000 "campaigns", 20261124200000 "servicedesk", 20261125100000 "tickets", 20261126100000 "lean_indexes");
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres": 20261122000000 "foundation", 20261122120000 "catalog", 20261122180000 "routing", 20261122200000 "expiry", 20261122210000 "reviews", 20261122220000 "credentials", 20261122230000 "system_principal", 20261122235000 "job_order", 20261123000000 "notifications", 20261123100000 "findings", 20261123300000 "evidence", 20261123300500 "api", 20261123400000 "request_kinds", 20261123500000 "session_tokens", 20261124100000 "campaigns", 20261124200000 "servicedesk", 20261125100000 "tickets", 20261126100000 "lean_indexes");

/// The table that records applied migrations (same DDL on both backends).
pub(crate) const CREATE_MIGRATIONS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS writ_schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// The newest schema version this binary knows.
pub fn latest_schema_version() -> i64 {
    SQLITE.last().map_or(0, |m| m.version)
}

/// Where a database's schema stands against this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest migration applied to the database (0 when none).
    pub applied: i64,
    /// The newest migration this binary knows.
    pub latest: i64,
}

/// The migrations of `all` not among the `applied` versions, in order, or an error if the
/// database has a migration this binary does not know (a newer writ migrated it). Every
/// unapplied migration is pending, not only those above the newest applied one: migrations
/// written on branches merged in another order than they were numbered still run.
pub(crate) fn pending(
    all: &'static [Migration],
    applied: &[i64],
) -> Result<Vec<&'static Migration>, StoreError> {
    let latest = all.last().map_or(0, |m| m.version);
    if let Some(unknown) = applied
        .iter()
        .filter(|v| !all.iter().any(|m| m.version == **v))
        .max()
    {
        return Err(StoreError::SchemaTooNew {
            found: *unknown,
            supported: latest,
        });
    }
    Ok(all
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |all: &[Migration]| all.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
    }

    #[test]
    fn versions_increase() {
        assert!(SQLITE.windows(2).all(|w| w[0].version < w[1].version));
    }

    #[test]
    fn a_newer_database_is_refused() {
        let err = pending(SQLITE, &[latest_schema_version() + 1]).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }));
        assert!(err.to_string().contains("upgrade writ"), "{err}");
    }

    #[test]
    fn a_fresh_database_gets_every_migration() {
        assert_eq!(pending(SQLITE, &[]).unwrap().len(), SQLITE.len());
        let all: Vec<i64> = SQLITE.iter().map(|m| m.version).collect();
        assert!(pending(SQLITE, &all).unwrap().is_empty());
    }

    #[test]
    fn a_migration_numbered_below_the_newest_applied_still_runs() {
        let all: Vec<i64> = SQLITE.iter().map(|m| m.version).collect();
        let skipped = all[all.len() / 2];
        let applied: Vec<i64> = all.iter().copied().filter(|v| *v != skipped).collect();
        let pending = pending(SQLITE, &applied).unwrap();
        assert_eq!(
            pending.iter().map(|m| m.version).collect::<Vec<_>>(),
            [skipped]
        );
    }
}
