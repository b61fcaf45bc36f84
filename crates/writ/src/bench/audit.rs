//! `writ bench audit`: audit appends per second, one and 100 events per transaction, and the
//! throughput of `audit verify`, on SQLite and (with `--postgres`) PostgreSQL.

use std::sync::Arc;
use std::time::Instant;

use writ_domain::Timestamp;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_store::Store;

use super::{Figure, ScratchStore, print_figures};

/// Options of `writ bench audit`.
#[derive(Debug, clap::Args)]
pub struct AuditBenchArgs {
    /// A PostgreSQL admin URL; the bench creates and drops its own database there.
    #[arg(long, env = "WRIT_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Transactions timed with one event each.
    #[arg(long, default_value_t = 3_000)]
    single_transactions: u64,
    /// Transactions timed with 100 events each.
    #[arg(long, default_value_t = 200)]
    batch_transactions: u64,
    /// Events in the log when `audit verify` is timed.
    #[arg(long, default_value_t = 1_000_000)]
    verify_events: u64,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: AuditBenchArgs) -> anyhow::Result<()> {
    println!("durability: SQLite WAL synchronous=FULL; PostgreSQL synchronous_commit=on");
    let mut figures = Vec::new();
    let sqlite = ScratchStore::sqlite().await?;
    figures.extend(measure("sqlite", &sqlite.store, &args).await?);
    sqlite.remove().await?;
    if let Some(admin_url) = &args.postgres {
        let postgres = ScratchStore::postgres(admin_url).await?;
        figures.extend(measure("postgres", &postgres.store, &args).await?);
        postgres.remove().await?;
    }
    print_figures(&figures);
    Ok(())
}

async fn measure(
    backend: &str,
    store: &Arc<dyn Store>,
    args: &AuditBenchArgs,
) -> anyhow::Result<Vec<Figure>> {
    let mut n = 0u64;
    let mut batch = |size: u64| -> Vec<NewAuditEvent> {
        (0..size)
            .map(|_| {
                n += 1;
                bench_event(n)
            })
            .collect()
    };

    eprintln!(
        "{backend}: {} transactions of 1 event",
        args.single_transactions
    );
    let started = Instant::now();
    for _ in 0..args.single_transactions {
        store.append_audit(batch(1)).await?;
    }
    let single = args.single_transactions as f64 / started.elapsed().as_secs_f64();

    eprintln!(
        "{backend}: {} transactions of 100 events",
        args.batch_transactions
    );
    let started = Instant::now();
    for _ in 0..args.batch_transactions {
        store.append_audit(batch(100)).await?;
    }
    let batched = (args.batch_transactions * 100) as f64 / started.elapsed().as_secs_f64();

    let written = args.single_transactions + args.batch_transactions * 100;
    let to_fill = args.verify_events.saturating_sub(written);
    eprintln!(
        "{backend}: filling the log to {} events",
        args.verify_events.max(written)
    );
    let mut filled = 0;
    while filled < to_fill {
        let size = (to_fill - filled).min(2_000);
        store.append_audit(batch(size)).await?;
        filled += size;
    }

    eprintln!("{backend}: verifying the chain");
    let started = Instant::now();
    let chain = writ_core::audit::verify_chain(store).await?;
    let verify = chain.events as f64 / started.elapsed().as_secs_f64();

    Ok(vec![
        Figure {
            name: format!("{backend}_append_1_per_tx"),
            value: single,
            unit: "events/s",
        },
        Figure {
            name: format!("{backend}_append_100_per_tx"),
            value: batched,
            unit: "events/s",
        },
        Figure {
            name: format!("{backend}_verify_{}_events", chain.events),
            value: verify,
            unit: "events/s",
        },
    ])
}

/// An event the size of a typical one: a principal acting on a request and a grant.
fn bench_event(n: u64) -> NewAuditEvent {
    NewAuditEvent::new(
        Timestamp::now_utc(),
        Actor::system("bench"),
        "request.approved",
    )
    .subject(SubjectRef::new("request", writ_domain::RequestId::new()))
    .subject(SubjectRef::new("grant", writ_domain::GrantId::new()))
    .data(serde_json::json!({ "n": n, "stage": 1, "reason": "bench" }))
}
