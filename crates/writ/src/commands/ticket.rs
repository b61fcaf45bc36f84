//! `writ ticket list`: the service-desk tickets writ received, refused ones included, with
//! the request each became or why it became none.

use writ_domain::{TicketId, TicketOutcome};
use writ_store::OpenMode;

use crate::config::Config;

/// `writ ticket list`
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only tickets refused before they became a request.
    #[arg(long)]
    rejected: bool,
    /// Tickets after this id (the last one of the previous page).
    #[arg(long)]
    after: Option<TicketId>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// Prints a page of tickets, in the order received.
pub async fn list(config: &Config, args: ListArgs) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let outcome = args.rejected.then_some(TicketOutcome::Rejected);
    let page = store.tickets_page(outcome, args.after, args.limit).await?;
    if args.json {
        for ticket in &page {
            println!("{}", serde_json::to_string(ticket)?);
        }
        return Ok(());
    }
    println!(
        "{:<36} {:<24} {:<10} {:<26} {:<24} REQUEST OR REASON",
        "ID", "TICKET", "OUTCOME", "REPORTER", "ENTITLEMENT"
    );
    for t in &page {
        let why = match (&t.request, &t.reason) {
            (Some(request), _) => request.to_string(),
            (None, Some(reason)) => reason.clone(),
            (None, None) => String::new(),
        };
        println!(
            "{:<36} {:<24} {:<10} {:<26} {:<24} {why}",
            t.id.to_string(),
            format!("{}:{}", t.reference.system, t.reference.key),
            t.outcome.as_str(),
            t.reporter,
            t.fields.entitlement.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}
