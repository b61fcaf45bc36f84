//! `writ apply -f catalog.yaml [--dry-run]`

use std::path::Path;

use anyhow::{Context, bail};
use writ_core::SystemClock;
use writ_core::catalog::{self, ApplyError};
use writ_domain::audit::Actor;
use writ_store::OpenMode;

use crate::config::Config;

/// Checks and plans the file, prints the plan, and applies it unless `dry_run`.
pub async fn run(config: &Config, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let (store, _) = super::open_store(config, OpenMode::Migrate).await?;
    let name = file.display().to_string();
    let plan = match catalog::apply(
        &*store,
        &SystemClock,
        Actor::system("apply"),
        &name,
        &text,
        dry_run,
    )
    .await
    {
        Ok(plan) => plan,
        Err(ApplyError::Invalid(errors)) => {
            for error in errors.errors() {
                eprintln!("{error}");
            }
            bail!(
                "`{name}` not applied: {} problem(s), nothing changed",
                errors.errors().len()
            );
        }
        Err(other) => {
            return Err(other).with_context(|| format!("`{name}` not applied; nothing changed"));
        }
    };
    for item in &plan.items {
        println!("{item}");
    }
    let (create, update, unchanged, kept) = plan.counts();
    println!(
        "plan: {create} to create, {update} to update, {unchanged} unchanged, {kept} kept (not in the file)"
    );
    match (dry_run, plan.has_changes()) {
        (true, _) => println!("dry run: nothing changed"),
        (false, true) => println!("applied"),
        (false, false) => println!("nothing to apply"),
    }
    Ok(())
}
