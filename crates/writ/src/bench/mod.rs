//! `writ bench …`: benchmarks that print their figures last, one per line, as
//! `figure_name: value unit`, so scripts can read them. Run them on a release build.

pub mod audit;
pub mod cpu;
pub mod evidence;
pub mod expiry;
pub mod http;
pub mod lifecycle;
pub mod policy;
pub mod reconcile;

use std::path::Path;
use std::sync::Arc;

use writ_store::{OpenMode, Store};

/// A store on a scratch database that is removed afterwards.
pub struct ScratchStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Its URL (may hold a password only if the admin URL did).
    pub url: String,
    cleanup: Cleanup,
}

/// Where a bench keeps a `local` target's files: under `parent` when given, else in memory
/// when the machine has a tmpfs at `/dev/shm`, else the temporary directory. The target stands
/// in for a remote system, whose own file system (like its fsync, which the benches turn off)
/// is not what they measure; the store stays on disk.
pub fn target_dir(parent: Option<&Path>) -> anyhow::Result<tempfile::TempDir> {
    let memory = Path::new("/dev/shm");
    Ok(match parent {
        Some(parent) => tempfile::tempdir_in(parent)?,
        None if memory.is_dir() => tempfile::tempdir_in(memory)?,
        None => tempfile::tempdir()?,
    })
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl ScratchStore {
    /// A SQLite file in a temporary directory.
    pub async fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let (store, _) = writ_store::open(&url, OpenMode::Migrate).await?;
        Ok(Self {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A fresh database on the PostgreSQL server at `admin_url`.
    pub async fn postgres(admin_url: &str) -> anyhow::Result<Self> {
        let (name, url) =
            writ_store::scratch::create_postgres_database(admin_url, "writ_bench").await?;
        let (store, _) = writ_store::open(&url, OpenMode::Migrate).await?;
        Ok(Self {
            store,
            url,
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_string(),
                name,
            },
        })
    }

    /// Closes the store and removes the database.
    pub async fn remove(self) -> anyhow::Result<()> {
        drop(self.store);
        if let Cleanup::Postgres { admin_url, name } = self.cleanup {
            writ_store::scratch::drop_postgres_database(&admin_url, &name).await?;
        }
        Ok(())
    }
}

/// One printed figure.
pub struct Figure {
    /// `snake_case` name.
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit, e.g. `events/s`.
    pub unit: &'static str,
}

/// Prints the figures last, one per line.
pub fn print_figures(figures: &[Figure]) {
    for figure in figures {
        println!("{}: {:.0} {}", figure.name, figure.value, figure.unit);
    }
}
