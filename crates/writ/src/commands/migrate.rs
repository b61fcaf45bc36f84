//! `writ migrate`

use writ_store::{OpenMode, redact};

use crate::config::Config;

/// Creates the store if needed and applies pending migrations.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let (_, status) = super::open_store(config, OpenMode::Migrate).await?;
    let db = redact(&config.database_url);
    if status.applied == status.latest {
        println!("{db}: schema up to date (version {})", status.latest);
    } else {
        println!(
            "{db}: migrated schema from version {} to {}",
            status.applied, status.latest
        );
    }
    Ok(())
}
