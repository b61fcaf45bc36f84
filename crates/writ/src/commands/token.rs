//! `writ token …`: API tokens, made, listed and revoked on the store directly (an operator's task, like
//! `writ apply`). A new token is printed once, alone on stdout, and never again.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use anyhow::Context;
use writ_core::SystemClock;
use writ_core::tokens::{DEFAULT_TOKEN_LIFETIME, Tokens};
use writ_domain::audit::Actor;
use writ_domain::{ApiTokenId, Timestamp, TokenScope, Ttl};
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

/// `writ token list`
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Also revoked and expired tokens.
    #[arg(long)]
    all: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

/// Prints tokens newest first: id, principal, scope, when made, until when, and whether
/// revoked. Only ids are shown; the store has nothing else to show.
pub async fn list(config: &Config, args: ListArgs) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let now = Timestamp::now_utc();
    let tokens = store
        .api_tokens((!args.all).then_some(now), args.limit)
        .await?;
    let mut emails = HashMap::new();
    let mut rows = Vec::with_capacity(tokens.len());
    for token in &tokens {
        if let Entry::Vacant(slot) = emails.entry(token.principal) {
            let email = store
                .principal(token.principal)
                .await?
                .map_or_else(|| token.principal.to_string(), |p| p.email.to_string());
            slot.insert(email);
        }
        let state = match token.revoked_at {
            Some(at) => format!("revoked {at}"),
            None if token.is_valid_at(now) => "valid".to_string(),
            None => "expired".to_string(),
        };
        rows.push(vec![
            token.id.to_string(),
            emails[&token.principal].clone(),
            token.scope.to_string(),
            token.created_at.to_string(),
            token.expires_at.to_string(),
            state,
        ]);
    }
    crate::client::table::print(
        &["TOKEN", "PRINCIPAL", "SCOPE", "CREATED", "EXPIRES", "STATE"],
        &rows,
    );
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
