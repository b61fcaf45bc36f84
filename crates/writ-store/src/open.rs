//! Opening a store from its URL.

use std::sync::Arc;

use crate::location::DatabaseUrl;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{SchemaStatus, Store, StoreResult};

/// Whether opening may create and migrate the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the SQLite file if missing and apply pending migrations (`writ serve`, `writ migrate`).
    Migrate,
    /// Use the database only if it exists and is fully migrated (read-only tools such as
    /// `writ audit verify`, which must not create an empty database by mistake).
    Existing,
}

/// Opens the store at `url`. Any mode refuses a database migrated by a newer writ.
pub async fn open(url: &str, mode: OpenMode) -> StoreResult<(Arc<dyn Store>, SchemaStatus)> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            let (store, status) = SqliteStore::open(&path, mode).await?;
            Ok((Arc::new(store), status))
        }
        DatabaseUrl::Postgres(url) => {
            let (store, status) = PgStore::open(&url, mode).await?;
            Ok((Arc::new(store), status))
        }
    }
}
