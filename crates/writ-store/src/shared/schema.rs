//! Applying migrations, compiled once per backend (see the crate docs). The adapter opens the
//! transaction (and takes its lock), so migrating is all-or-nothing and one replica at a time.

use writ_domain::Timestamp;

use crate::error::StoreError;
use crate::migrate::{self, CREATE_MIGRATIONS_TABLE, Migration};
use crate::open::OpenMode;
use crate::{SchemaStatus, StoreResult};

use super::Db;

/// Migrations run through sqlx on both backends, before the store's own connections open.
type Connection = <Db as sqlx::Database>::Connection;

/// Applies the pending ones of `all` inside the caller's transaction; in
/// [`OpenMode::Existing`] only checks that none is pending.
pub(super) async fn apply(
    tx: &mut Connection,
    all: &'static [Migration],
    mode: OpenMode,
) -> StoreResult<SchemaStatus> {
    sqlx::query(CREATE_MIGRATIONS_TABLE)
        .execute(&mut *tx)
        .await?;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM writ_schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
    let applied = versions.last().copied().unwrap_or(0);
    let pending = migrate::pending(all, &versions)?;
    let latest = migrate::latest_schema_version();
    if let (OpenMode::Existing, Some(first)) = (mode, pending.first()) {
        return Err(StoreError::SchemaBehind {
            found: applied,
            required: first.version,
        });
    }
    for migration in pending {
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applying migration"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO writ_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(Timestamp::now_utc().as_micros())
        .execute(&mut *tx)
        .await?;
    }
    Ok(SchemaStatus { applied, latest })
}
