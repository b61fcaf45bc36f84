//! `writ grant list`, `writ identity list|show`, `writ catalog list`, and the client
//! `writ credential reveal`.

use writ_api::{EntitlementQuery, GrantQuery, IdentityQuery};

use super::labels::Labels;
use super::{ClientArgs, connect, hint_next, print_json, table};

/// Which grants.
#[derive(Debug, clap::Args)]
pub struct GrantListArgs {
    /// Only in this status (`active`, `revoked`, …).
    #[arg(long)]
    status: Option<String>,
    /// Only held by this identity.
    #[arg(long)]
    identity: Option<String>,
    /// Only of entitlements of this system.
    #[arg(long)]
    system: Option<String>,
    /// Only those ending before this instant (RFC 3339).
    #[arg(long)]
    expiring_before: Option<String>,
    /// Start after this grant (the `next` of a previous page).
    #[arg(long)]
    after: Option<String>,
    /// At most this many (1–500).
    #[arg(long)]
    limit: Option<u32>,
}

/// Which identities.
#[derive(Debug, clap::Args)]
pub struct IdentityListArgs {
    /// Only owned by this principal (e-mail).
    #[arg(long)]
    owner: Option<String>,
    /// Start after this name (the `next` of a previous page).
    #[arg(long)]
    after: Option<String>,
    /// At most this many (1–500).
    #[arg(long)]
    limit: Option<u32>,
}

/// Prints a page of grants.
pub async fn grant_list(args: &ClientArgs, list: GrantListArgs) -> anyhow::Result<()> {
    let client = connect(args)?;
    let page = client
        .grants(&GrantQuery {
            status: list.status,
            identity: list.identity,
            system: list.system,
            expiring_before: list.expiring_before,
            after: list.after,
            limit: list.limit,
        })
        .await?;
    if args.json {
        return print_json(&page);
    }
    let identities: Vec<&str> = page.items.iter().map(|g| g.identity.as_str()).collect();
    let labels = Labels::load(&client, &identities).await?;
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|g| {
            vec![
                g.id.clone(),
                labels.of(&g.identity),
                labels.of(&g.entitlement),
                g.status.clone(),
                g.expires_at.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::print(
        &["GRANT", "IDENTITY", "ENTITLEMENT", "STATUS", "EXPIRES"],
        &rows,
    );
    hint_next(page.next.as_deref());
    Ok(())
}

/// Prints a page of identities.
pub async fn identity_list(args: &ClientArgs, list: IdentityListArgs) -> anyhow::Result<()> {
    let client = connect(args)?;
    let page = client
        .identities(&IdentityQuery {
            owner: list.owner,
            after: list.after,
            limit: list.limit,
        })
        .await?;
    if args.json {
        return print_json(&page);
    }
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|i| {
            vec![
                i.name.clone(),
                i.kind.clone(),
                i.environment.clone(),
                i.status.clone(),
                i.team.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::print(&["NAME", "KIND", "ENVIRONMENT", "STATUS", "TEAM"], &rows);
    hint_next(page.next.as_deref());
    Ok(())
}

/// Prints one identity with its owner, accounts and grants.
pub async fn identity_show(args: &ClientArgs, key: &str) -> anyhow::Result<()> {
    let client = connect(args)?;
    let detail = client.identity(key).await?;
    if args.json {
        return print_json(&detail);
    }
    let i = &detail.identity;
    let owner = detail
        .owner
        .as_ref()
        .map(|o| {
            format!(
                "{} <{}>{}",
                o.name,
                o.email,
                if o.active { "" } else { " (left)" }
            )
        })
        .unwrap_or_default();
    table::print(
        &["FIELD", "VALUE"],
        &[
            vec!["name".into(), i.name.clone()],
            vec!["kind".into(), i.kind.clone()],
            vec!["owner".into(), owner],
            vec!["team".into(), i.team.clone().unwrap_or_default()],
            vec!["purpose".into(), i.purpose.clone()],
            vec!["environment".into(), i.environment.clone()],
            vec!["status".into(), i.status.clone()],
        ],
    );
    if !detail.accounts.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = detail
            .accounts
            .iter()
            .map(|a| vec![a.system.clone(), a.account.clone()])
            .collect();
        table::print(&["SYSTEM", "ACCOUNT"], &rows);
    }
    if !detail.grants.is_empty() {
        println!();
        let labels = Labels::load(&client, &[]).await?;
        let rows: Vec<Vec<String>> = detail
            .grants
            .iter()
            .map(|g| {
                vec![
                    labels.of(&g.entitlement),
                    g.status.clone(),
                    g.expires_at.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table::print(&["ENTITLEMENT", "STATUS", "EXPIRES"], &rows);
    }
    Ok(())
}

/// Prints the requestable catalog: entitlements with their systems.
pub async fn catalog_list(args: &ClientArgs, system: Option<String>) -> anyhow::Result<()> {
    let client = connect(args)?;
    let mut query = EntitlementQuery {
        system,
        limit: Some(writ_api::MAX_LIMIT),
        ..Default::default()
    };
    let mut items = Vec::new();
    loop {
        let page = client.entitlements(&query).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    if args.json {
        return print_json(&items);
    }
    let labels = Labels::load(&client, &[]).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|e| {
            vec![
                labels.of(&e.id),
                e.name.clone(),
                e.risk.clone(),
                e.default_ttl.clone(),
                e.max_ttl.clone(),
                if e.requestable { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    table::print(
        &[
            "ENTITLEMENT",
            "NAME",
            "RISK",
            "DEFAULT TTL",
            "MAX TTL",
            "REQUESTABLE",
        ],
        &rows,
    );
    Ok(())
}

/// Reveals a rotated secret once, over the API: the secret alone on stdout.
pub async fn reveal(args: &ClientArgs, number: &str) -> anyhow::Result<()> {
    let client = connect(args)?;
    let revealed = client.reveal(number).await?;
    if args.json {
        return print_json(&revealed);
    }
    eprintln!(
        "the new secret of `{}` on `{}` ({}); it is shown once and writ keeps only its fingerprint",
        revealed.account, revealed.system, revealed.fingerprint
    );
    println!("{}", revealed.secret);
    Ok(())
}
