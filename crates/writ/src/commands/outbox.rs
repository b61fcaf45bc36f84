//! `writ outbox list|redeliver`: the deliveries owed to service-desk tickets and webhook
//! endpoints, dead letters first among what an operator looks at, and sending a dead one
//! again once its cause is fixed.

use writ_core::{Clock, SystemClock};
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{OutboxId, OutboxState};
use writ_store::OpenMode;

use crate::config::Config;

/// `writ outbox list`
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only deliveries in this state (`pending`, `delivered`, `dead`).
    #[arg(long)]
    state: Option<OutboxState>,
    /// Deliveries after this id (the last one of the previous page).
    #[arg(long)]
    after: Option<OutboxId>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// `writ outbox redeliver`
#[derive(Debug, clap::Args)]
pub struct RedeliverArgs {
    /// The dead delivery to send again.
    id: OutboxId,
}

/// Prints a page of deliveries.
pub async fn list(config: &Config, args: ListArgs) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let page = store
        .outbox_page(args.state, args.after, args.limit)
        .await?;
    if args.json {
        for entry in &page {
            println!("{}", serde_json::to_string(entry)?);
        }
        return Ok(());
    }
    println!(
        "{:<36} {:<10} {:<16} {:<24} {:>8} LAST ERROR",
        "ID", "STATE", "DESTINATION", "TICKET", "ATTEMPTS"
    );
    for e in &page {
        let ticket = e
            .ticket
            .as_ref()
            .map_or(String::from("-"), |t| format!("{}:{}", t.system, t.key));
        println!(
            "{:<36} {:<10} {:<16} {:<24} {:>8} {}",
            e.id.to_string(),
            e.state.as_str(),
            e.destination,
            ticket,
            e.attempts,
            e.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// Sends a dead delivery again, with its audit event.
pub async fn redeliver(config: &Config, args: RedeliverArgs) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let event = NewAuditEvent::new(
        SystemClock.now(),
        Actor::system("cli"),
        "outbox.redelivered",
    )
    .subject(SubjectRef::new("outbox", args.id));
    store.redeliver_outbox(args.id, event).await?;
    println!("delivery {} queued again", args.id);
    Ok(())
}
