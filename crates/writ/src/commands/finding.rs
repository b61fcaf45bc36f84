//! `writ finding list|adopt|accept` with `--as`, on the store directly (an operator on the
//! server): the findings reconciliation opened, adopting live access through a retroactive
//! grant request, and accepting a finding until a date. Without `--as` the same commands go
//! over the API (`crate::client::findings`).

use std::sync::Arc;

use anyhow::Context;
use writ_core::SystemClock;
use writ_core::findings::Findings;
use writ_core::requests::Requests;
use writ_domain::{FindingId, FindingKind, FindingStatus, Timestamp, Ttl};
use writ_store::{FindingQuery, OpenMode, Store};

use crate::config::Config;

/// `writ finding list`
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this system's findings.
    #[arg(long)]
    pub system: Option<String>,
    /// Only findings in this status (`open`, `remediating`, `accepted`, `resolved`).
    #[arg(long)]
    pub status: Option<FindingStatus>,
    /// Only this kind.
    #[arg(long)]
    pub kind: Option<FindingKind>,
    /// Findings after this id (the last one of the previous page).
    #[arg(long)]
    pub after: Option<FindingId>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Read the store directly instead of asking the server (any principal's e-mail: the
    /// list is the same for everyone); `--json` then prints one finding per line.
    #[arg(long = "as")]
    pub reader: Option<String>,
}

/// `writ finding adopt`
#[derive(Debug, clap::Args)]
pub struct AdoptArgs {
    /// The finding.
    pub id: FindingId,
    /// Who asks, on the store directly (over the API, the token's principal asks).
    #[arg(long = "as")]
    pub requester: Option<String>,
    /// Why the access is needed.
    #[arg(long)]
    pub justification: String,
    /// How long, counted from fulfilment (the entitlement's default when absent).
    #[arg(long)]
    pub ttl: Option<Ttl>,
}

/// `writ finding accept`
#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The finding.
    pub id: FindingId,
    /// Who accepts it (an admin or the owner of the finding's system), on the store
    /// directly (over the API, the token's principal accepts).
    #[arg(long = "as")]
    pub by: Option<String>,
    /// Why the gap is acceptable for now.
    #[arg(long)]
    pub reason: String,
    /// Until when (RFC 3339); the finding reopens then if the gap is still there.
    #[arg(long)]
    pub until: String,
}

async fn use_cases(config: &Config) -> anyhow::Result<(Arc<dyn Store>, Findings)> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let clock = Arc::new(SystemClock);
    let requests = Requests::new(
        store.clone(),
        Arc::new(config.policy_engine()?),
        clock.clone(),
        config.roles.clone(),
    )
    .with_sla(config.sla);
    let findings = Findings::new(store.clone(), requests, clock, config.roles.clone());
    Ok((store, findings))
}

/// Prints a page of findings read from the store.
pub async fn list(config: &Config, args: ListArgs, json: bool) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let catalog = store.catalog().await?;
    let system = match &args.system {
        Some(name) => Some(
            catalog
                .systems
                .iter()
                .find(|s| s.name.as_str() == name)
                .with_context(|| format!("no system named `{name}`"))?
                .id,
        ),
        None => None,
    };
    let page = store
        .findings(FindingQuery {
            system,
            status: args.status,
            kind: args.kind,
            after: args.after,
            limit: args.limit,
        })
        .await?;
    if json {
        for finding in &page {
            println!("{}", serde_json::to_string(finding)?);
        }
        return Ok(());
    }
    println!(
        "{:<36} {:<17} {:<12} {:<12} {:>5} {:<20} SUBJECT",
        "ID", "KIND", "STATUS", "SYSTEM", "SEEN", "LAST SEEN"
    );
    for f in &page {
        let system = catalog
            .systems
            .iter()
            .find(|s| s.id == f.system)
            .map_or("?", |s| s.name.as_str());
        println!(
            "{:<36} {:<17} {:<12} {:<12} {:>5} {:<20} {}",
            f.id.to_string(),
            f.kind.as_str(),
            f.status.as_str(),
            system,
            f.count,
            f.last_seen.to_string(),
            f.subject
        );
    }
    Ok(())
}

/// Files the retroactive grant request that adopts a finding's live access.
pub async fn adopt(config: &Config, args: AdoptArgs, requester: &str) -> anyhow::Result<()> {
    let (store, findings) = use_cases(config).await?;
    let catalog = store.catalog().await?;
    let requester = super::policy::find_principal(&catalog, requester)?;
    let submitted = findings
        .adopt(args.id, requester, &args.justification, args.ttl)
        .await?;
    println!("{} {}", submitted.request.number, submitted.request.status);
    for reason in &submitted.explanation.decision.reasons {
        println!("  {}", reason.message);
    }
    Ok(())
}

/// Accepts a finding until a date.
pub async fn accept(config: &Config, args: AcceptArgs, by: &str) -> anyhow::Result<()> {
    let until = Timestamp::parse_rfc3339(&args.until)?;
    let (store, findings) = use_cases(config).await?;
    let catalog = store.catalog().await?;
    let by = super::policy::find_principal(&catalog, by)?;
    let finding = findings.accept(args.id, by, &args.reason, until).await?;
    println!("{} {} until {}", finding.id, finding.status, until);
    Ok(())
}
