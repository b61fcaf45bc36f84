//! `writ credential …`: the secret key that seals credentials awaiting delivery, rotate
//! requests, and the one-time reveal of a new secret to its requester. Secrets are read from
//! stdin (never from arguments, which other users can see) and printed only by `reveal`.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use writ_connect::Secret;
use writ_core::SystemClock;
use writ_core::requests::Requests;
use writ_core::rotate::{NewRotation, Reveal, Rotations, SecretKey};
use writ_domain::{RequestNumber, Timestamp};
use writ_store::OpenMode;

use crate::config::Config;

/// `writ credential rotate`
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The requester's e-mail: the one person the new secret is revealed to.
    #[arg(long = "as")]
    requester: String,
    /// The identity whose credential is rotated.
    #[arg(long)]
    identity: String,
    /// The system its account lives on.
    #[arg(long)]
    system: String,
    /// Why.
    #[arg(long)]
    justification: String,
    /// Read the credential in use now from stdin (checked against the target before anything
    /// changes). Leave out only for a first issue.
    #[arg(long)]
    current_from_stdin: bool,
    /// Not before this instant (RFC 3339), e.g. a maintenance window.
    #[arg(long)]
    not_before: Option<String>,
}

/// Writes a new secret key to `path` (mode 0600), refusing to overwrite one.
pub fn generate_key(path: &Path) -> anyhow::Result<()> {
    SecretKey::write_new(path)
        .with_context(|| format!("cannot write a secret key to `{}`", path.display()))?;
    println!(
        "wrote a new secret key to {}; set `secret_key_file` in writ.toml (or WRIT_SECRET_KEY_FILE) to use it",
        path.display()
    );
    Ok(())
}

/// Files a rotate request and prints its number and status.
pub async fn rotate(config: &Config, args: RotateArgs) -> anyhow::Result<()> {
    let current = if args.current_from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the current credential from stdin")?;
        let text = text.trim_end_matches(['\n', '\r']).to_string();
        if text.is_empty() {
            bail!("the current credential on stdin is empty");
        }
        Some(Secret::new(text))
    } else {
        None
    };
    let not_before = args
        .not_before
        .as_deref()
        .map(Timestamp::parse_rfc3339)
        .transpose()?;
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let catalog = store.catalog().await?;
    let requester = super::policy::find_principal(&catalog, &args.requester)?;
    let identity = super::policy::find_identity(&catalog, &args.identity)?;
    let Some(system) = catalog
        .systems
        .iter()
        .find(|s| s.name.as_str() == args.system)
    else {
        bail!("no system named `{}`", args.system);
    };
    let clock = Arc::new(SystemClock);
    let requests = Requests::new(
        store.clone(),
        Arc::new(config.policy_engine()?),
        clock.clone(),
        config.roles.clone(),
    )
    .with_sla(config.sla);
    let rotations = Rotations::new(requests, store, clock, config.sealer()?);
    let submitted = rotations
        .submit(NewRotation {
            requester,
            identity,
            system: system.id,
            justification: args.justification,
            current,
            not_before,
        })
        .await?;
    println!("{} {}", submitted.request.number, submitted.request.status);
    for reason in &submitted.explanation.decision.reasons {
        println!("  {}", reason.message);
    }
    Ok(())
}

/// Prints the new secret of a rotate request to its requester, once.
pub async fn reveal(config: &Config, number: &str, requester: &str) -> anyhow::Result<()> {
    let number: RequestNumber = number.parse()?;
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let catalog = store.catalog().await?;
    let requester = super::policy::find_principal(&catalog, requester)?;
    let reveal = Reveal::new(store, Arc::new(SystemClock), config.sealer()?);
    let revealed = reveal.reveal(requester, number).await?;
    eprintln!(
        "the new secret of `{}` on `{}` ({}); it is shown once and writ keeps only its fingerprint",
        revealed.account, revealed.system, revealed.fingerprint
    );
    println!("{}", revealed.secret.expose());
    Ok(())
}
