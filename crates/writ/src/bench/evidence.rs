//! `writ bench evidence`: signed checkpoints and inclusion proofs on large audit logs (1M and
//! 10M events by default, SQLite), and offline verification of an evidence bundle.
//!
//! The log is filled straight into the store (`writ_store::seed::audit_events`, hashed and
//! chained as writ appends), then: the first checkpoint (every tile computed from the events),
//! a checkpoint after 10,000 more events appended through the store (the tiles kept), an
//! inclusion proof of random events (tiles loaded once), and `evidence verify` of a bundle of
//! 20 events.

use std::sync::Arc;
use std::time::Instant;

use writ_core::evidence::{AuditTree, Checkpointer};
use writ_core::{Clock, SystemClock};
use writ_domain::RequestId;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::bundle::{BundledEvent, EvidenceBundle, FORMAT};
use writ_domain::checkpoint::NoteSigner;

use super::{Figure, ScratchStore, print_figures};

/// Options of `writ bench evidence`.
#[derive(Debug, clap::Args)]
pub struct EvidenceBenchArgs {
    /// Log sizes to measure at, ascending, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000u64, 10_000_000])]
    sizes: Vec<u64>,
    /// Inclusion proofs timed at each size.
    #[arg(long, default_value_t = 200)]
    proofs: u64,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: EvidenceBenchArgs) -> anyhow::Result<()> {
    let scratch = ScratchStore::sqlite().await?;
    let store = scratch.store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let signer = Arc::new(NoteSigner::from_seed("bench.example.org/writ", [5; 32])?);
    let checkpointer = Checkpointer::new(store.clone(), signer.clone(), clock.clone());
    let tree = AuditTree::new(store.clone());
    let mut figures = Vec::new();
    let mut filled = 0;
    for size in args.sizes {
        let label = label(size);
        println!("filling the log to {size} events");
        writ_store::seed::audit_events(&scratch.url, size - filled, clock.now()).await?;
        filled = size;

        let started = Instant::now();
        let first = checkpointer.checkpoint().await?;
        figures.push(ms(format!("checkpoint_first_{label}"), started));
        println!(
            "  first checkpoint (tiles from the events): {:?}",
            started.elapsed()
        );

        append(&store, 10_000, clock.now()).await?;
        filled += 10_000;
        let started = Instant::now();
        let next = checkpointer.checkpoint().await?;
        figures.push(ms(format!("checkpoint_next_{label}"), started));
        println!(
            "  checkpoint after 10,000 more events: {:?}",
            started.elapsed()
        );

        let started = Instant::now();
        let tiles = tree.tiles(next.size).await?;
        figures.push(ms(format!("tiles_load_{label}"), started));
        let started = Instant::now();
        for i in 0..args.proofs {
            // Spread over the log, ends included.
            let index = (i * 7_919_993) % next.size;
            tree.inclusion_proof(&tiles, index, next.size).await?;
        }
        figures.push(Figure {
            name: format!("inclusion_proof_{label}"),
            value: started.elapsed().as_secs_f64() * 1e6 / args.proofs as f64,
            unit: "us",
        });
        println!(
            "  inclusion proof: {:.0} µs each (checkpoints of {} and {})",
            started.elapsed().as_secs_f64() * 1e6 / args.proofs as f64,
            first.size,
            next.size
        );
    }

    // A bundle of 20 events about one request at the end of the log.
    let request = RequestId::new();
    let events: Vec<NewAuditEvent> = (0..20)
        .map(|i| {
            NewAuditEvent::new(clock.now(), Actor::system("bench"), "bench.request")
                .subject(SubjectRef::new("request", request))
                .data(serde_json::json!({ "number": "REQ-000001", "i": i }))
        })
        .collect();
    let sealed = store.append_audit(events).await?;
    let checkpoint = checkpointer.checkpoint().await?;
    let tiles = tree.tiles(checkpoint.size).await?;
    let mut bundled = Vec::new();
    for event in &sealed {
        let proof = tree
            .inclusion_proof(&tiles, event.seq - 1, checkpoint.size)
            .await?;
        bundled.push(BundledEvent::new(event, &proof));
    }
    let bytes = EvidenceBundle {
        format: FORMAT.to_string(),
        request: "REQ-000001".into(),
        request_id: request.to_string(),
        checkpoint: checkpoint.note,
        events: bundled,
    }
    .to_canonical_bytes();
    let verifier = signer.verifier();
    let runs = 200;
    let started = Instant::now();
    for _ in 0..runs {
        EvidenceBundle::verify(&bytes, &verifier)?;
    }
    figures.push(Figure {
        name: "bundle_verify_20_events".into(),
        value: started.elapsed().as_secs_f64() * 1e6 / f64::from(runs),
        unit: "us",
    });
    println!(
        "bundle of 20 events in a tree of {} ({} bytes) verified in {:.0} µs",
        checkpoint.size,
        bytes.len(),
        started.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
    );
    scratch.remove().await?;
    print_figures(&figures);
    Ok(())
}

/// Appends `count` events through the store, 1,000 to a transaction.
async fn append(
    store: &Arc<dyn writ_store::Store>,
    count: usize,
    at: writ_domain::Timestamp,
) -> anyhow::Result<()> {
    for _ in 0..count / 1_000 {
        let events = (0..1_000)
            .map(|_| NewAuditEvent::new(at, Actor::system("bench"), "bench.append"))
            .collect();
        store.append_audit(events).await?;
    }
    Ok(())
}

fn label(size: u64) -> String {
    match size {
        s if s % 1_000_000 == 0 => format!("{}m", s / 1_000_000),
        s if s % 1_000 == 0 => format!("{}k", s / 1_000),
        s => s.to_string(),
    }
}

fn ms(name: String, started: Instant) -> Figure {
    Figure {
        name,
        value: started.elapsed().as_secs_f64() * 1e3,
        unit: "ms",
    }
}
