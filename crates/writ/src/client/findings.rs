//! `writ finding list|adopt|accept` over the API, as the token's principal.

use writ_api::{AcceptFindingBody, AdoptFindingBody, FindingQuery, SystemQuery};

use super::{ClientArgs, connect, hint_next, print_json, table};
use crate::commands::finding::{AcceptArgs, AdoptArgs, ListArgs};

/// Prints a page of findings, with system names.
pub async fn list(args: &ClientArgs, list: ListArgs) -> anyhow::Result<()> {
    let client = connect(args)?;
    let page = client
        .findings(&FindingQuery {
            system: list.system,
            status: list.status.map(|s| s.as_str().to_string()),
            kind: list.kind.map(|k| k.as_str().to_string()),
            after: list.after.map(|id| id.to_string()),
            limit: Some(list.limit),
        })
        .await?;
    if args.json {
        return print_json(&page);
    }
    let systems = client
        .systems(&SystemQuery {
            limit: Some(writ_api::MAX_LIMIT),
            ..Default::default()
        })
        .await?;
    let system_name = |id: &str| {
        systems
            .items
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|f| {
            vec![
                f.id.clone(),
                f.kind.clone(),
                f.status.clone(),
                system_name(&f.system),
                f.count.to_string(),
                f.last_seen.clone(),
                f.subject.clone(),
            ]
        })
        .collect();
    table::print(
        &[
            "ID",
            "KIND",
            "STATUS",
            "SYSTEM",
            "SEEN",
            "LAST SEEN",
            "SUBJECT",
        ],
        &rows,
    );
    hint_next(page.next.as_deref());
    Ok(())
}

/// Files the retroactive grant request that adopts a finding's live access.
pub async fn adopt(args: &ClientArgs, adopt: AdoptArgs) -> anyhow::Result<()> {
    let client = connect(args)?;
    let submitted = client
        .adopt_finding(
            &adopt.id.to_string(),
            &AdoptFindingBody {
                justification: adopt.justification,
                ttl: adopt.ttl.map(|t| t.to_string()),
            },
        )
        .await?;
    if args.json {
        return print_json(&submitted);
    }
    println!("{} {}", submitted.request.number, submitted.request.status);
    for reason in &submitted.explanation.reasons {
        println!("  {}", reason.message);
    }
    Ok(())
}

/// Accepts a finding until a date.
pub async fn accept(args: &ClientArgs, accept: AcceptArgs) -> anyhow::Result<()> {
    let client = connect(args)?;
    let finding = client
        .accept_finding(
            &accept.id.to_string(),
            &AcceptFindingBody {
                reason: accept.reason,
                until: accept.until,
            },
        )
        .await?;
    if args.json {
        return print_json(&finding);
    }
    println!(
        "{} {} until {}",
        finding.id,
        finding.status,
        finding.accepted_until.unwrap_or_default()
    );
    Ok(())
}
