//! Scratch PostgreSQL databases for benchmarks and tests: created with a unique name on a
//! server, dropped (with any remaining connections) when done.

use sqlx::Connection;

use crate::error::StoreError;
use crate::location::redact;

/// Creates a database named `<prefix>_<unique>` through `admin_url` and returns its name and
/// URL (the admin URL with the database replaced).
pub async fn create_postgres_database(
    admin_url: &str,
    prefix: &str,
) -> Result<(String, String), StoreError> {
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let mut admin =
        sqlx::PgConnection::connect(admin_url)
            .await
            .map_err(|e| StoreError::Unreachable {
                target: redact(admin_url),
                reason: redact(&e.to_string()),
            })?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    Ok((name.clone(), database_url(admin_url, &name)))
}

/// Drops a database made by [`create_postgres_database`], closing its connections first.
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}

/// The admin URL with its database replaced by `database`, keeping any query string.
pub fn database_url(admin_url: &str, database: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn replaces_the_database_and_keeps_the_query() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u:p@h/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(database_url("postgres://h", "t1"), "postgres://h/t1");
    }
}
