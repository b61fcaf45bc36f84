//! `writ audit …`: verify the log and its checkpoints, sign a checkpoint, export events.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use writ_core::evidence::{Checkpointer, read_verifier, verify_log};
use writ_core::{CoreError, SystemClock};
use writ_domain::Timestamp;
use writ_store::OpenMode;

use crate::config::Config;

/// The log or a bundle does not verify: the command fails with its own exit code (3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unverified(pub String);

/// Events read per page while exporting.
const EXPORT_PAGE: u32 = 5_000;

/// Walks the chain and checks every checkpoint; prints what was checked, fails naming the
/// first problem.
pub async fn verify(config: &Config, public_key: Option<&Path>) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let verifier = match (public_key, config.checkpoint_signer()?) {
        (Some(path), _) => Some(read_verifier(path)?),
        (None, Some(signer)) => Some(signer.verifier()),
        (None, None) => None,
    };
    match verify_log(&store, verifier.as_ref()).await {
        Ok(log) => {
            println!(
                "audit chain intact: {} events, head {}",
                log.chain.events, log.chain.head
            );
            match (&verifier, log.checkpoints) {
                (_, 0) => {
                    println!("no signed checkpoints yet: sign one with `writ audit checkpoint`")
                }
                (Some(v), n) => println!(
                    "{n} checkpoints signed by {} verified, each consistent with the one before; \
                     the newest covers {} events",
                    v.name(),
                    log.newest_checkpoint
                ),
                (None, n) => println!(
                    "{n} checkpoints consistent with the log and each other; signatures NOT checked \
                     (pass --public-key or configure audit_signing_key_file)"
                ),
            }
            Ok(())
        }
        Err(err @ (CoreError::ChainBroken(_) | CoreError::CheckpointMismatch(_))) => {
            Err(Unverified(err.to_string()).into())
        }
        Err(err) => Err(err.into()),
    }
}

/// Signs a checkpoint of the log as it stands and prints it.
pub async fn checkpoint(config: &Config) -> anyhow::Result<()> {
    let Some(signer) = config.checkpoint_signer()? else {
        anyhow::bail!(
            "no audit signing key is configured: create one with `writ keys generate --name NAME` \
             and set `audit_signing_key_file` in writ.toml (or WRIT_AUDIT_SIGNING_KEY_FILE)"
        );
    };
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let checkpoint = Checkpointer::new(store, signer, Arc::new(SystemClock))
        .checkpoint()
        .await?;
    print!("{}", checkpoint.note);
    Ok(())
}

/// Writes the events with `seq > after` (and, with `since`, at or after it) as JSON Lines.
pub async fn export(
    config: &Config,
    since: Option<&str>,
    after: u64,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let since = since.map(Timestamp::parse_rfc3339).transpose()?;
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let mut out: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create `{}`", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut cursor = after;
    let mut written = 0u64;
    loop {
        let page = store.audit_page(cursor, EXPORT_PAGE).await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        for event in page.iter().filter(|e| since.is_none_or(|s| e.at >= s)) {
            let line = serde_json::json!({
                "seq": event.seq,
                "at": event.at.to_string(),
                "actor": event.actor,
                "action": event.action,
                "subjects": event.subjects,
                "data": serde_json::from_str::<serde_json::Value>(&event.data)
                    .unwrap_or(serde_json::Value::String(event.data.clone())),
                "prev_hash": event.prev_hash.to_string(),
                "hash": event.hash.to_string(),
            });
            writeln!(out, "{line}")?;
            written += 1;
        }
    }
    out.flush()?;
    if output.is_some() {
        eprintln!("exported {written} events");
    }
    Ok(())
}
