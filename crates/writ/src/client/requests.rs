//! `writ request create|list|show|approve|deny|cancel|explain`

use writ_api::{CancelBody, DecideBody, NewRequestBody, RequestQuery, RequestView};
use writ_client::Client;

use super::labels::Labels;
use super::{ClientArgs, connect, hint_next, print_json, table};

/// `writ request …`
#[derive(Debug, clap::Subcommand)]
pub enum RequestCommand {
    /// Ask for a change; policy decides at once and names who must approve.
    Create(AskArgs),
    /// Show what policy would decide of a request, without filing it.
    Explain(AskArgs),
    /// List requests, newest first.
    List(ListArgs),
    /// Show one request with its decision and approvals.
    Show {
        /// The request, `REQ-…`.
        number: String,
    },
    /// Approve the current stage of a request (bound to the plan shown now).
    Approve {
        /// The request, `REQ-…`.
        number: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deny a request.
    Deny {
        /// The request, `REQ-…`.
        number: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Cancel a request nothing has started on.
    Cancel {
        /// The request, `REQ-…`.
        number: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// What a request asks.
#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The identity (name or id).
    #[arg(long)]
    identity: String,
    /// The entitlement, `SYSTEM/KEY` (or its id).
    #[arg(long)]
    entitlement: Option<String>,
    /// Why, in your words.
    #[arg(long)]
    justification: String,
    /// How long once granted (`8h`, `7d`); the entitlement's default when absent.
    #[arg(long)]
    ttl: Option<String>,
    /// The latest end (RFC 3339).
    #[arg(long)]
    end: Option<String>,
    /// The kind of change (default `grant`).
    #[arg(long)]
    kind: Option<String>,
    /// The new owner's e-mail (`transfer` only).
    #[arg(long)]
    new_owner: Option<String>,
}

impl AskArgs {
    fn body(self) -> NewRequestBody {
        NewRequestBody {
            kind: self.kind,
            identity: self.identity,
            entitlement: self.entitlement,
            justification: self.justification,
            ttl: self.ttl,
            end: self.end,
            new_owner: self.new_owner,
        }
    }
}

/// Which requests.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only in this status (`pending_approval`, `fulfilled`, …).
    #[arg(long)]
    status: Option<String>,
    /// Only for this identity.
    #[arg(long)]
    identity: Option<String>,
    /// Only asked by this principal (e-mail).
    #[arg(long)]
    requester: Option<String>,
    /// Only for entitlements of this system.
    #[arg(long)]
    system: Option<String>,
    /// Only of this kind (`grant`, `exception`, `break_glass`, `revoke`, …).
    #[arg(long, conflicts_with = "exceptions")]
    kind: Option<String>,
    /// Only exceptions: grants accepted against policy through their security stage, listed
    /// apart (the same as `--kind exception`).
    #[arg(long)]
    exceptions: bool,
    /// Start after this request (the `next` of a previous page).
    #[arg(long)]
    after: Option<String>,
    /// At most this many per page (1–500).
    #[arg(long)]
    limit: Option<u32>,
    /// Follow every page.
    #[arg(long)]
    all: bool,
}

/// Runs `writ request …`.
pub async fn run(args: &ClientArgs, command: RequestCommand) -> anyhow::Result<()> {
    let client = connect(args)?;
    match command {
        RequestCommand::Create(ask) => {
            let submitted = client.create_request(&ask.body()).await?;
            if args.json {
                return print_json(&submitted);
            }
            let r = &submitted.request;
            println!("{} {}", r.number, r.status);
            for reason in &submitted.explanation.reasons {
                println!("  refused: {}", reason.message);
            }
            if !submitted.explanation.stages.is_empty() && r.status == "pending_approval" {
                println!("  approvals: {}", submitted.explanation.stages.join(", "));
            }
            Ok(())
        }
        RequestCommand::Explain(ask) => {
            let explanation = client.explain(&ask.body()).await?;
            if args.json {
                return print_json(&explanation);
            }
            println!(
                "{} ({})",
                if explanation.allowed {
                    "allowed"
                } else {
                    "refused"
                },
                explanation.category
            );
            for reason in &explanation.reasons {
                println!("  {}: {}", reason.policy_id, reason.message);
            }
            if !explanation.stages.is_empty() {
                println!("  approvals: {}", explanation.stages.join(", "));
            }
            Ok(())
        }
        RequestCommand::List(list) => list_requests(&client, args.json, list).await,
        RequestCommand::Show { number } => {
            let detail = client.request(&number).await?;
            if args.json {
                return print_json(&detail);
            }
            let r = &detail.request;
            let labels = Labels::load(&client, &[r.identity.as_str()]).await?;
            let rows = vec![
                vec!["number".into(), r.number.clone()],
                vec!["kind".into(), r.kind.clone()],
                vec!["status".into(), r.status.clone()],
                vec!["identity".into(), labels.of(&r.identity)],
                vec!["entitlement".into(), labels.of_some(r.entitlement.as_ref())],
                vec!["ttl".into(), r.ttl.clone().unwrap_or_default()],
                vec!["requester".into(), r.requester.clone()],
                vec!["justification".into(), r.justification.clone()],
                vec!["category".into(), r.category.clone()],
                vec!["created".into(), r.created_at.clone()],
                vec!["plan hash".into(), r.plan_hash.clone().unwrap_or_default()],
            ];
            table::print(&["FIELD", "VALUE"], &rows);
            if !detail.approvals.is_empty() {
                println!();
                let rows: Vec<Vec<String>> = detail
                    .approvals
                    .iter()
                    .map(|a| {
                        vec![
                            a.stage.clone(),
                            a.decision.clone(),
                            a.approver.clone(),
                            a.at.clone(),
                            a.reason.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table::print(&["STAGE", "DECISION", "APPROVER", "AT", "REASON"], &rows);
            }
            Ok(())
        }
        RequestCommand::Approve { number, reason } => {
            decide(&client, args.json, &number, reason, true).await
        }
        RequestCommand::Deny { number, reason } => {
            decide(&client, args.json, &number, Some(reason), false).await
        }
        RequestCommand::Cancel { number, reason } => {
            let request = client.cancel(&number, &CancelBody { reason }).await?;
            if args.json {
                return print_json(&request);
            }
            println!("{} {}", request.number, request.status);
            Ok(())
        }
    }
}

/// Approves or denies the plan the server shows now: the decision binds to that plan hash.
async fn decide(
    client: &Client,
    json: bool,
    number: &str,
    reason: Option<String>,
    approve: bool,
) -> anyhow::Result<()> {
    let shown = client.request(number).await?;
    let body = DecideBody {
        plan_hash: shown.request.plan_hash.unwrap_or_default(),
        reason,
    };
    let decided = if approve {
        client.approve(number, &body).await?
    } else {
        client.deny(number, &body).await?
    };
    if json {
        return print_json(&decided);
    }
    match &decided.next_stage {
        Some(stage) => println!(
            "{} {}: next stage `{stage}`",
            decided.request.number, decided.outcome
        ),
        None => println!("{} {}", decided.request.number, decided.request.status),
    }
    Ok(())
}

async fn list_requests(client: &Client, json: bool, list: ListArgs) -> anyhow::Result<()> {
    let mut query = RequestQuery {
        status: list.status,
        identity: list.identity,
        requester: list.requester,
        system: list.system,
        kind: if list.exceptions {
            Some("exception".to_string())
        } else {
            list.kind
        },
        after: list.after,
        limit: list.limit,
    };
    let mut items: Vec<RequestView> = Vec::new();
    let next = loop {
        let page = client.requests(&query).await?;
        items.extend(page.items);
        match page.next {
            Some(next) if list.all => query.after = Some(next),
            next => break next,
        }
    };
    if json {
        return print_json(&writ_api::RequestPage { items, next });
    }
    let identities: Vec<&str> = items.iter().map(|r| r.identity.as_str()).collect();
    let labels = Labels::load(client, &identities).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            vec![
                r.number.clone(),
                r.kind.clone(),
                r.status.clone(),
                labels.of(&r.identity),
                labels.of_some(r.entitlement.as_ref()),
                r.created_at.clone(),
            ]
        })
        .collect();
    table::print(
        &[
            "NUMBER",
            "KIND",
            "STATUS",
            "IDENTITY",
            "ENTITLEMENT",
            "CREATED",
        ],
        &rows,
    );
    hint_next(next.as_deref());
    Ok(())
}
