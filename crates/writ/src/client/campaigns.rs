//! `writ campaign create|launch|list|show|mine|decide|delegate|evidence`

use writ_api::{
    CampaignItemQuery, CampaignItemView, CampaignQuery, DecideItemBody, DelegateItemBody,
    NewCampaignBody,
};

use anyhow::Context;

use super::{ClientArgs, connect, hint_next, print_json, table};

/// `writ campaign …`
#[derive(Debug, clap::Subcommand)]
pub enum CampaignCommand {
    /// Create a draft campaign (admins and the security group).
    Create(CreateArgs),
    /// Launch a draft: its grants in scope become items for their reviewers.
    Launch {
        /// The campaign's id.
        id: String,
    },
    /// List campaigns, newest first.
    List {
        /// Start after this campaign (the `next` of a previous page).
        #[arg(long)]
        after: Option<String>,
        /// At most this many (1–500).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show a campaign's progress and a page of its items.
    Show {
        /// The campaign's id.
        id: String,
        /// Start after this item (the `next` of a previous page).
        #[arg(long)]
        after: Option<String>,
        /// At most this many items (1–500).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// List the items waiting for you, soonest due first.
    Mine {
        /// Start after this item (the `next` of a previous page).
        #[arg(long)]
        after: Option<String>,
        /// At most this many (1–500).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Keep or revoke an item you review.
    Decide {
        /// The item's id.
        item: String,
        /// `keep` or `revoke`.
        decision: String,
        /// Why (required to keep access of risk `high` or above).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Write a campaign's evidence (administrators and auditors); check it offline with
    /// `writ evidence verify`.
    Evidence {
        /// The campaign's id.
        id: String,
        /// Where to write it.
        #[arg(short = 'o', long)]
        output: std::path::PathBuf,
    },
    /// Hand an item you review to someone else who may review it.
    Delegate {
        /// The item's id.
        item: String,
        /// Who reviews it from now (e-mail).
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// What a new campaign reviews, and by when.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Its name.
    #[arg(long)]
    name: String,
    /// When every item must be decided (RFC 3339).
    #[arg(long)]
    deadline: String,
    /// `identity_owner` (default) or `system_owner`.
    #[arg(long)]
    reviewers: Option<String>,
    /// At the deadline, undecided items are: `revoke` (default), `suspend` or `escalate`.
    #[arg(long)]
    undecided: Option<String>,
    /// Launch a successor this many days after each launch.
    #[arg(long)]
    every_days: Option<u32>,
    /// Only grants on this system.
    #[arg(long)]
    system: Option<String>,
    /// Only grants on systems of this environment.
    #[arg(long)]
    environment: Option<String>,
    /// Only grants of entitlements at least this risky.
    #[arg(long)]
    min_risk: Option<String>,
    /// Only grants held by identities of this kind.
    #[arg(long)]
    identity_kind: Option<String>,
    /// Only grants live for at least this many days.
    #[arg(long)]
    older_than_days: Option<u32>,
}

impl CreateArgs {
    fn body(self) -> NewCampaignBody {
        NewCampaignBody {
            name: self.name,
            deadline: self.deadline,
            reviewers: self.reviewers,
            undecided: self.undecided,
            every_days: self.every_days,
            system: self.system,
            environment: self.environment,
            min_risk: self.min_risk,
            identity_kind: self.identity_kind,
            older_than_days: self.older_than_days,
        }
    }
}

/// Runs `writ campaign …`.
pub async fn run(args: &ClientArgs, command: CampaignCommand) -> anyhow::Result<()> {
    let client = connect(args)?;
    match command {
        CampaignCommand::Create(create) => {
            let campaign = client.create_campaign(&create.body()).await?;
            if args.json {
                return print_json(&campaign);
            }
            println!(
                "{} {} (launch it with `writ campaign launch {}`)",
                campaign.id, campaign.status, campaign.id
            );
            Ok(())
        }
        CampaignCommand::Launch { id } => {
            let detail = client.launch_campaign(&id).await?;
            if args.json {
                return print_json(&detail);
            }
            println!(
                "{} {}: {} item(s) for their reviewers, due {}",
                detail.campaign.id,
                detail.campaign.status,
                detail.progress.total,
                detail.campaign.deadline
            );
            Ok(())
        }
        CampaignCommand::List { after, limit } => {
            let page = client.campaigns(&CampaignQuery { after, limit }).await?;
            if args.json {
                return print_json(&page);
            }
            let rows: Vec<Vec<String>> = page
                .items
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.name.clone(),
                        c.status.clone(),
                        c.deadline.clone(),
                        c.undecided.clone(),
                    ]
                })
                .collect();
            table::print(&["ID", "NAME", "STATUS", "DEADLINE", "UNDECIDED"], &rows);
            hint_next(page.next.as_deref());
            Ok(())
        }
        CampaignCommand::Show { id, after, limit } => {
            let detail = client
                .campaign(&id, &CampaignItemQuery { after, limit })
                .await?;
            if args.json {
                return print_json(&detail);
            }
            let (c, p) = (&detail.campaign, &detail.progress);
            println!("{} {} ({}), due {}", c.id, c.name, c.status, c.deadline);
            println!(
                "  {} item(s): {} pending, {} kept, {} revoked, {} suspended",
                p.total, p.pending, p.kept, p.revoked, p.suspended
            );
            items_table(&detail.items);
            hint_next(detail.next.as_deref());
            Ok(())
        }
        CampaignCommand::Mine { after, limit } => {
            let list = client
                .my_campaign_items(&CampaignItemQuery { after, limit })
                .await?;
            if args.json {
                return print_json(&list);
            }
            items_table(&list.items);
            hint_next(list.next.as_deref());
            Ok(())
        }
        CampaignCommand::Decide {
            item,
            decision,
            reason,
        } => {
            let decided = client
                .decide_campaign_item(&item, &DecideItemBody { decision, reason })
                .await?;
            if args.json {
                return print_json(&decided);
            }
            match &decided.revoke_request {
                Some(number) => println!("{} {} ({number} revokes it)", decided.id, decided.status),
                None => println!("{} {}", decided.id, decided.status),
            }
            Ok(())
        }
        CampaignCommand::Evidence { id, output } => {
            let bytes = client.campaign_evidence(&id).await?;
            std::fs::write(&output, &bytes)
                .with_context(|| format!("cannot write `{}`", output.display()))?;
            println!(
                "wrote the evidence of campaign {id} to {} (verify it with `writ evidence verify`)",
                output.display()
            );
            Ok(())
        }
        CampaignCommand::Delegate { item, to, reason } => {
            let delegated = client
                .delegate_campaign_item(&item, &DelegateItemBody { to, reason })
                .await?;
            if args.json {
                return print_json(&delegated);
            }
            println!("{} now reviewed by {}", delegated.id, delegated.reviewer);
            Ok(())
        }
    }
}

fn items_table(items: &[CampaignItemView]) {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.identity.clone(),
                format!("{} on {}", i.entitlement, i.system),
                i.risk.clone(),
                i.reviewer.clone(),
                i.status.clone(),
                i.due_at.clone(),
            ]
        })
        .collect();
    table::print(
        &[
            "ITEM", "IDENTITY", "ACCESS", "RISK", "REVIEWER", "STATUS", "DUE",
        ],
        &rows,
    );
}
