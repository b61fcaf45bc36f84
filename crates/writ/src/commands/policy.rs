//! `writ policy check` and `writ policy explain`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use writ_core::SystemClock;
use writ_core::requests::{Explanation, NewRequest, Requests};
use writ_domain::{Catalog, RequestKind, RequestNumber, Timestamp, Ttl};
use writ_store::OpenMode;

use crate::config::{Config, load_policies};

/// Validates the policy set and summarises it.
pub fn check(config: &Config, dir: Option<&Path>) -> anyhow::Result<()> {
    let dir = dir.or(config.policy_dir.as_deref());
    let engine = load_policies(dir)?;
    let total = engine.policies().count();
    let overrides: Vec<&str> = engine
        .policies()
        .filter(|p| p.overrides_shipped)
        .map(|p| p.id)
        .collect();
    for warning in engine.warnings() {
        eprintln!("warning: {warning}");
    }
    println!(
        "policy set valid: {total} policies, set hash {}",
        engine.policy_set_hash()
    );
    match dir {
        Some(dir) => println!("operator policies from `{}`", dir.display()),
        None => println!("shipped policies only (no policy_dir)"),
    }
    if !overrides.is_empty() {
        println!("overriding shipped: {}", overrides.join(", "));
    }
    Ok(())
}

/// Options of `writ policy explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A stored request (`REQ-…`): shows the decision it was submitted under.
    request: Option<String>,
    /// Who asks (e-mail).
    #[arg(long, conflicts_with = "request", required_unless_present = "request")]
    requester: Option<String>,
    /// For which identity (name).
    #[arg(long, conflicts_with = "request", required_unless_present = "request")]
    identity: Option<String>,
    /// Which entitlement (`system:key`).
    #[arg(long, conflicts_with = "request")]
    entitlement: Option<String>,
    /// The request kind.
    #[arg(long, default_value = "grant", conflicts_with = "request")]
    kind: RequestKind,
    /// How long (`8h`, `7d`); the entitlement's default when absent.
    #[arg(long, conflicts_with = "request")]
    ttl: Option<Ttl>,
    /// The latest end (RFC 3339).
    #[arg(long, conflicts_with = "request", value_parser = parse_timestamp)]
    end: Option<Timestamp>,
    /// The justification, as the requester would write it.
    #[arg(long, default_value = "", conflicts_with = "request")]
    justification: String,
}

fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(text).map_err(|e| e.to_string())
}

/// Prints a stored request's decision, or decides a hypothetical one without storing it.
pub async fn explain(config: &Config, args: ExplainArgs) -> anyhow::Result<()> {
    let engine = Arc::new(config.policy_engine()?);
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    if let Some(number) = &args.request {
        let number: RequestNumber = number.parse()?;
        let (request, decision) = store
            .request_by_number(number)
            .await?
            .with_context(|| format!("request {number} not found"))?;
        println!("{number}: {} ({})", request.status, request.category);
        let record: writ_policy::DecisionRecord =
            serde_json::from_value(decision.record).context("stored decision record")?;
        print_decision(&record, &[]);
        return Ok(());
    }
    let catalog = store.catalog().await?;
    let ask = NewRequest {
        requester: find_principal(&catalog, args.requester.as_deref().unwrap_or_default())?,
        kind: args.kind,
        identity: find_identity(&catalog, args.identity.as_deref().unwrap_or_default())?,
        entitlement: args
            .entitlement
            .as_deref()
            .map(|e| find_entitlement(&catalog, e))
            .transpose()?,
        justification: args.justification,
        ttl: args.ttl,
        end: args.end,
        external_ref: None,
        new_owner: None,
    };
    let requests = Requests::new(store, engine, Arc::new(SystemClock), config.roles.clone());
    let Explanation {
        decision,
        stages,
        category,
    } = requests.explain(&ask).await?;
    println!("hypothetical {} request ({category})", ask.kind);
    let stages: Vec<String> = stages.iter().map(|s| s.name.to_string()).collect();
    print_decision(&decision, &stages);
    Ok(())
}

fn print_decision(decision: &writ_policy::DecisionRecord, stages: &[String]) {
    if decision.allowed {
        println!("allowed");
        if !stages.is_empty() {
            println!("approval stages: {}", stages.join(" → "));
        }
    } else {
        println!("rejected:");
        for reason in &decision.reasons {
            println!("  - {} [{}]", reason.message, reason.policy_id);
        }
    }
    println!("deciding policies: {}", decision.policy_ids.join(", "));
    println!("policy set: {}", decision.policy_set_hash);
}

pub(super) fn find_principal(
    catalog: &Catalog,
    email: &str,
) -> anyhow::Result<writ_domain::PrincipalId> {
    match catalog
        .principals
        .iter()
        .find(|p| p.email.as_str().eq_ignore_ascii_case(email))
    {
        Some(p) => Ok(p.id),
        None => bail!("no principal with e-mail `{email}`"),
    }
}

pub(super) fn find_identity(
    catalog: &Catalog,
    name: &str,
) -> anyhow::Result<writ_domain::IdentityId> {
    match catalog.identities.iter().find(|i| i.name.as_str() == name) {
        Some(i) => Ok(i.id),
        None => bail!("no identity named `{name}`"),
    }
}

fn find_entitlement(
    catalog: &Catalog,
    reference: &str,
) -> anyhow::Result<writ_domain::EntitlementId> {
    let Some((system, key)) = reference.split_once(':') else {
        bail!("entitlement `{reference}`: expected `system:key`");
    };
    let Some(system) = catalog.systems.iter().find(|s| s.name.as_str() == system) else {
        bail!("no system named `{system}`");
    };
    match catalog
        .entitlements
        .iter()
        .find(|e| e.system == system.id && e.key.as_str() == key)
    {
        Some(e) => Ok(e.id),
        None => bail!("no entitlement `{key}` in system `{}`", system.name),
    }
}
