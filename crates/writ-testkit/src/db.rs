//! A fresh, private database per test, removed afterwards.

use std::sync::Arc;

use sqlx::Connection;
use writ_store::{OpenMode, Store};

/// The environment variable naming a PostgreSQL server for tests (an admin URL, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`). When set, PostgreSQL tests run and an
/// unreachable server fails them; when unset, they are skipped.
pub const POSTGRES_URL_VAR: &str = "WRIT_TEST_POSTGRES_URL";

/// The admin URL from [`POSTGRES_URL_VAR`], if set.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty())
}

enum Backing {
    /// Holds the directory so it lives as long as the database.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        database: String,
    },
}

/// A store on a database of its own: a file in a temporary directory, or a PostgreSQL
/// database with a unique name that is dropped when this value is.
pub struct TestDb {
    url: String,
    store: Arc<dyn Store>,
    backing: Backing,
}

impl TestDb {
    /// A migrated SQLite store in a new temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("writ.db").display());
        let (store, _) = writ_store::open(&url, OpenMode::Migrate).await.unwrap();
        Self {
            url,
            store,
            backing: Backing::Sqlite { _dir: dir },
        }
    }

    /// A migrated PostgreSQL store in a new database, or `None` when no server is configured.
    /// Panics when one is configured but cannot be reached: a configured suite must not skip.
    pub async fn postgres() -> Option<Self> {
        let admin_url = postgres_admin_url()?;
        let (database, url) =
            writ_store::scratch::create_postgres_database(&admin_url, "writ_test")
                .await
                .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is set but unusable: {e}"));
        let (store, _) = writ_store::open(&url, OpenMode::Migrate).await.unwrap();
        Some(Self {
            url,
            store,
            backing: Backing::Postgres {
                admin_url,
                database,
            },
        })
    }

    /// Both backends that are available: SQLite always, PostgreSQL when configured.
    pub async fn each() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite().await];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The database URL (to hand to a child process or a CLI under test).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend's name, `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Runs raw SQL against the database behind the store's back, as an attacker or an
    /// operator with database access would: `sqlite` on SQLite, `postgres` on PostgreSQL.
    pub async fn tamper(&self, sqlite: &str, postgres: &str) {
        match &self.backing {
            Backing::Sqlite { .. } => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_string()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Backing::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_string()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Backing::Postgres {
            admin_url,
            database,
        } = &self.backing
        else {
            return;
        };
        // Drop may run inside a runtime, where blocking on another is refused: use a thread.
        let (admin_url, database) = (admin_url.clone(), database.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(writ_store::scratch::drop_postgres_database(
                &admin_url, &database,
            ))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database: {e}");
        }
    }
}
