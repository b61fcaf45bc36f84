//! `writ token …`: API tokens, made and revoked on the store directly (an operator's task, like
//! `writ apply`). A new token is printed once, alone on stdout, and never again.

use std::sync::Arc;

use anyhow::Context;
use writ_core::SystemClock;
use writ_core::tokens::{DEFAULT_TOKEN_LIFETIME, Tokens};
use writ_domain::audit::Actor;
use writ_domain::{ApiTokenId, TokenScope, Ttl};
use writ_store::OpenMode;

use crate::config::Config;

/// `writ token create`
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The principal (e-mail) the token acts as.
    #[arg(long)]
    principal: String,
    /// What it may do: `read`, `write` or `admin` (admins only).
    #[arg(long, default_value = "write")]
    scope: String,
    /// How long it works (`90d`, `12h`); 90 days when absent.
    #[arg(long)]
    expires: Option<String>,
}

/// Creates a token and prints it once on stdout; what it is goes to stderr.
pub async fn create(config: &Config, args: CreateArgs) -> anyhow::Result<()> {
    let scope: TokenScope = args.scope.parse().context("--scope")?;
    let lifetime = match &args.expires {
        Some(text) => {
            std::time::Duration::from_secs(Ttl::parse(text).context("--expires")?.as_secs())
        }
        None => DEFAULT_TOKEN_LIFETIME,
    };
    let created = tokens(config)
        .await?
        .create(&args.principal, scope, lifetime, Actor::system("cli"))
        .await?;
    eprintln!(
        "token {} for {} ({} scope), expires {}; shown once, keep it secret",
        created.token.id, created.principal.email, scope, created.token.expires_at
    );
    println!("{}", created.secret);
    Ok(())
}

/// Revokes a token by id: it stops working at once.
pub async fn revoke(config: &Config, id: &str) -> anyhow::Result<()> {
    let id: ApiTokenId = id.parse().context("token id")?;
    let token = tokens(config)
        .await?
        .revoke(id, Actor::system("cli"))
        .await?;
    println!("revoked token {}", token.id);
    Ok(())
}

async fn tokens(config: &Config) -> anyhow::Result<Tokens> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    Ok(Tokens::new(
        store,
        Arc::new(SystemClock),
        config.roles.clone(),
    ))
}
