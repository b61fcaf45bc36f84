//! One module per command; each opens what it needs and reports in one line.

mod apply;
mod audit;
pub mod credential;
mod migrate;
pub mod policy;
pub(crate) mod serve;

use anyhow::Context;
use writ_store::{OpenMode, SchemaStatus, Store, redact};

use crate::cli::{AuditCommand, BenchCommand, Cli, Command, CredentialCommand, PolicyCommand};
use crate::config::Config;

pub use audit::ChainBroken;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } => *listen,
        _ => None,
    };
    let config = Config::load(&cli.global, listen)?;
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    crate::logging::init(config.log_format, default_level);
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    match cli.command {
        Command::Serve { .. } => serve::run(&config).await,
        Command::Migrate => migrate::run(&config).await,
        Command::Apply { file, dry_run } => apply::run(&config, &file, dry_run).await,
        Command::Policy {
            command: PolicyCommand::Check { dir },
        } => policy::check(&config, dir.as_deref()),
        Command::Policy {
            command: PolicyCommand::Explain(args),
        } => policy::explain(&config, args).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit::verify(&config).await,
        Command::Credential {
            command: CredentialCommand::GenerateKey { path },
        } => credential::generate_key(&path),
        Command::Credential {
            command: CredentialCommand::Rotate(args),
        } => credential::rotate(&config, args).await,
        Command::Credential {
            command: CredentialCommand::Reveal { request, requester },
        } => credential::reveal(&config, &request, &requester).await,
        Command::Bench {
            command: BenchCommand::Audit(args),
        } => crate::bench::audit::run(args).await,
        Command::Bench {
            command: BenchCommand::Policy(args),
        } => crate::bench::policy::run(args).await,
        Command::Bench {
            command: BenchCommand::Lifecycle(args),
        } => crate::bench::lifecycle::run(args).await,
        Command::Bench {
            command: BenchCommand::Expiry(args),
        } => crate::bench::expiry::run(args).await,
    }
}

/// Opens the configured store, naming it (without password) if that fails.
async fn open_store(
    config: &Config,
    mode: OpenMode,
) -> anyhow::Result<(std::sync::Arc<dyn Store>, SchemaStatus)> {
    writ_store::open(&config.database_url, mode)
        .await
        .with_context(|| format!("cannot open the store `{}`", redact(&config.database_url)))
}
