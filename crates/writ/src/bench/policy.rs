//! `writ bench policy`: submit and approver decisions over a generated catalog (10,000
//! identities, 1,000 entitlements by default) with 100 policies, each decision timed alone.

use std::time::{Duration, Instant};

use writ_policy::bench::{Workload, decide_approval, decide_submit, engine_with_policies};

use super::{Figure, print_figures};

/// Options of `writ bench policy`.
#[derive(Debug, clap::Args)]
pub struct PolicyBenchArgs {
    /// Identities in the generated catalog.
    #[arg(long, default_value_t = 10_000)]
    identities: usize,
    /// Entitlements in the generated catalog (ten per system).
    #[arg(long, default_value_t = 1_000)]
    entitlements: usize,
    /// Policies in the set: the shipped ones plus generated operator policies.
    #[arg(long, default_value_t = 100)]
    policies: usize,
    /// Decisions timed of each kind.
    #[arg(long, default_value_t = 20_000)]
    decisions: usize,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: PolicyBenchArgs) -> anyhow::Result<()> {
    let systems = args.entitlements.div_ceil(10);
    let engine =
        engine_with_policies(args.policies, systems).map_err(|e| anyhow::anyhow!("{e}"))?;
    let workload = Workload::generate(args.identities, args.entitlements, args.decisions)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} identities, {} entitlements, {} policies, {} decisions of each kind",
        args.identities,
        args.entitlements,
        engine.policies().count(),
        args.decisions
    );
    // Warm up caches and allocators before timing.
    for input in workload.submits.iter().take(1_000) {
        decide_submit(&engine, input);
    }
    let mut allowed = 0usize;
    let submit: Vec<Duration> = workload
        .submits
        .iter()
        .map(|input| {
            let started = Instant::now();
            allowed += usize::from(decide_submit(&engine, input));
            started.elapsed()
        })
        .collect();
    let approve: Vec<Duration> = workload
        .approvals
        .iter()
        .map(|input| {
            let started = Instant::now();
            decide_approval(&engine, input);
            started.elapsed()
        })
        .collect();
    println!("submissions allowed: {allowed} of {}", submit.len());
    print_figures(&[
        percentile("submit_decision_p50", &submit, 50.0),
        percentile("submit_decision_p99", &submit, 99.0),
        percentile("approve_decision_p50", &approve, 50.0),
        percentile("approve_decision_p99", &approve, 99.0),
    ]);
    Ok(())
}

/// The `p`th percentile of `samples`, in microseconds.
fn percentile(name: &str, samples: &[Duration], p: f64) -> Figure {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * (sorted.len().saturating_sub(1)) as f64).round() as usize;
    let value = sorted.get(rank).map_or(0.0, |d| d.as_secs_f64() * 1e6);
    Figure {
        name: name.to_string(),
        value,
        unit: "µs",
    }
}
