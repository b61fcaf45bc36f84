//! One module per command; each opens what it needs and reports in one line.

mod apply;
mod audit;
pub mod credential;
mod demo;
mod evidence;
pub mod finding;
mod migrate;
pub mod outbox;
pub mod policy;
pub(crate) mod reconcile;
pub(crate) mod serve;
pub mod ticket;
pub mod token;

use anyhow::Context;
use writ_store::{OpenMode, SchemaStatus, Store, redact};

use crate::cli::{
    AuditCommand, BenchCommand, CatalogCommand, Cli, Command, CredentialCommand, EvidenceCommand,
    FindingCommand, GrantCommand, IdentityCommand, KeysCommand, OutboxCommand, PolicyCommand,
    TicketCommand, TokenCommand,
};
use crate::config::Config;

pub use audit::Unverified;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen } => *listen,
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
        Command::Demo { .. } => demo::run(&config).await,
        Command::Token {
            command: TokenCommand::Create(args),
        } => token::create(&config, args).await,
        Command::Token {
            command: TokenCommand::List(args),
        } => token::list(&config, args).await,
        Command::Token {
            command: TokenCommand::Revoke { id },
        } => token::revoke(&config, &id).await,
        Command::Openapi => {
            println!("{}", writ_server::openapi_json());
            Ok(())
        }
        Command::Migrate => migrate::run(&config).await,
        Command::Apply { file, dry_run } => apply::run(&config, &file, dry_run).await,
        Command::Policy {
            command: PolicyCommand::Check { dir },
        } => policy::check(&config, dir.as_deref()),
        Command::Policy {
            command: PolicyCommand::Explain(args),
        } => policy::explain(&config, args).await,
        Command::Audit {
            command: AuditCommand::Verify { public_key },
        } => audit::verify(&config, public_key.as_deref()).await,
        Command::Audit {
            command: AuditCommand::Checkpoint,
        } => audit::checkpoint(&config).await,
        Command::Audit {
            command:
                AuditCommand::Export {
                    since,
                    after,
                    output,
                },
        } => audit::export(&config, since.as_deref(), after, output.as_deref()).await,
        Command::Keys {
            command:
                KeysCommand::Generate {
                    name,
                    private,
                    public,
                },
        } => evidence::generate_keys(&name, &private, &public),
        Command::Evidence {
            command: EvidenceCommand::Export { request, output },
        } => evidence::export(&config, &request, &output).await,
        Command::Evidence {
            command: EvidenceCommand::Verify { bundle, public_key },
        } => evidence::verify(&bundle, &public_key),
        Command::Credential {
            command: CredentialCommand::GenerateKey { path },
        } => credential::generate_key(&path),
        Command::Credential {
            command: CredentialCommand::Rotate(args),
        } => credential::rotate(&config, args).await,
        Command::Credential {
            command:
                CredentialCommand::Reveal {
                    request,
                    requester: Some(requester),
                    ..
                },
        } => credential::reveal(&config, &request, &requester).await,
        Command::Reconcile { system } => reconcile::run(&config, system.as_deref()).await,
        Command::Finding { client, command } => match command {
            FindingCommand::List(args) if args.reader.is_some() => {
                finding::list(&config, args, client.json).await
            }
            FindingCommand::List(args) => crate::client::findings::list(&client, args).await,
            FindingCommand::Adopt(args) => match args.requester.clone() {
                Some(requester) => finding::adopt(&config, args, &requester).await,
                None => crate::client::findings::adopt(&client, args).await,
            },
            FindingCommand::Accept(args) => match args.by.clone() {
                Some(by) => finding::accept(&config, args, &by).await,
                None => crate::client::findings::accept(&client, args).await,
            },
        },
        Command::Outbox {
            command: OutboxCommand::List(args),
        } => outbox::list(&config, args).await,
        Command::Outbox {
            command: OutboxCommand::Redeliver(args),
        } => outbox::redeliver(&config, args).await,
        Command::Ticket {
            command: TicketCommand::List(args),
        } => ticket::list(&config, args).await,
        Command::Credential {
            command:
                CredentialCommand::Reveal {
                    request,
                    requester: None,
                    client,
                },
        } => crate::client::reveal(&client, &request).await,
        Command::Request { client, command } => crate::client::request(&client, command).await,
        Command::Campaign { client, command } => {
            crate::client::campaigns::run(&client, command).await
        }
        Command::Grant {
            client,
            command: GrantCommand::List(args),
        } => crate::client::grant_list(&client, args).await,
        Command::Identity {
            client,
            command: IdentityCommand::List(args),
        } => crate::client::identity_list(&client, args).await,
        Command::Identity {
            client,
            command: IdentityCommand::Show { identity },
        } => crate::client::identity_show(&client, &identity).await,
        Command::Catalog {
            client,
            command: CatalogCommand::List { system },
        } => crate::client::catalog_list(&client, system).await,
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
        Command::Bench {
            command: BenchCommand::Evidence(args),
        } => crate::bench::evidence::run(args).await,
        Command::Bench {
            command: BenchCommand::Reconcile(args),
        } => crate::bench::reconcile::run(args).await,
        Command::Bench {
            command: BenchCommand::Http(args),
        } => crate::bench::http::run(args).await,
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
