//! The command line: global options and subcommands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// writ: access governance for non-human identities.
#[derive(Debug, Parser)]
#[command(name = "writ", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares. Each overrides `writ.toml`, and is overridden by nothing.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The store: `sqlite://PATH` (default `sqlite://writ.db`) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "WRIT_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// A file holding the database URL (keeps a password out of the environment).
    #[arg(long, global = true, env = "WRIT_DATABASE_URL_FILE")]
    pub database_file: Option<PathBuf>,
    /// The configuration file (default: `writ.toml` if it exists).
    #[arg(long, global = true, env = "WRIT_CONFIG")]
    pub config: Option<PathBuf>,
    /// A directory of operator policies (`*.cedar`) added to the shipped ones.
    #[arg(long, global = true, env = "WRIT_POLICY_DIR")]
    pub policy_dir: Option<PathBuf>,
    /// Log format on stderr: `text` or `json`.
    #[arg(long, global = true, env = "WRIT_LOG_FORMAT")]
    pub log_format: Option<crate::config::LogFormat>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default `127.0.0.1:8080`).
        #[arg(long, env = "WRIT_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Try writ: the server on a throw-away SQLite file with a demo organisation (requests in
    /// every state, findings, a break-glass under review) on the `local` connector; prints the
    /// portal URL, one-time login links and an admin API token.
    Demo {
        /// Address to listen on (default `127.0.0.1:8080`).
        #[arg(long, env = "WRIT_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Create the database if needed and apply pending schema migrations.
    Migrate,
    /// Create or update the catalog from a file: systems, entitlements, SoD rules, principals
    /// and identities. Prints the plan first; never deletes.
    Apply {
        /// The catalog file (YAML).
        #[arg(short = 'f', long = "file")]
        file: std::path::PathBuf,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The policy set: validate it, or explain a decision.
    Policy {
        /// What to do.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// The audit log.
    Audit {
        /// What to do with it.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The key that signs audit checkpoints.
    Keys {
        /// What to do.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Evidence bundles: one request's events with proofs, checked offline.
    Evidence {
        /// What to do.
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Credentials: the secret key, rotate requests, and the one-time reveal of a new secret.
    Credential {
        /// What to do.
        #[command(subcommand)]
        command: CredentialCommand,
    },
    /// Compare live state with governed state now: findings, remediation, and entitlement
    /// integrity, with a summary table.
    Reconcile {
        /// Only this system (every system when absent).
        #[arg(long)]
        system: Option<String>,
    },
    /// Findings of reconciliation: list them, adopt live access, accept a gap for a while;
    /// over the API, or on the store directly with `--as`.
    Finding {
        /// The server and the output format (over the API).
        #[command(flatten)]
        client: crate::client::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        command: FindingCommand,
    },
    /// Deliveries owed to service-desk tickets and webhook endpoints: list them (dead
    /// letters with `--state dead`) and send a dead one again.
    Outbox {
        /// What to do.
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Service-desk tickets writ received, refused ones included (`--rejected`).
    Ticket {
        /// What to do.
        #[command(subcommand)]
        command: TicketCommand,
    },
    /// API tokens for the CLI and automation: create (shown once), list and revoke.
    Token {
        /// What to do.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Requests over the API: create, list, show, approve, deny, cancel, explain.
    Request {
        /// The server and the output format.
        #[command(flatten)]
        client: crate::client::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        command: crate::client::requests::RequestCommand,
    },
    /// Recertification campaigns over the API: create, launch, list, show, decide.
    Campaign {
        /// The server and the output format.
        #[command(flatten)]
        client: crate::client::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        command: crate::client::campaigns::CampaignCommand,
    },
    /// Grants over the API.
    Grant {
        /// The server and the output format.
        #[command(flatten)]
        client: crate::client::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        command: GrantCommand,
    },
    /// Identities over the API: list, show.
    Identity {
        /// The server and the output format.
        #[command(flatten)]
        client: crate::client::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// The catalog over the API.
    Catalog {
        /// The server and the output format.
        #[command(flatten)]
        client: crate::client::ClientArgs,
        /// What to do.
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Print the HTTP API's OpenAPI 3.1 document (`writ openapi > docs/openapi.json`).
    Openapi,
    /// Measure performance; prints `figure: value unit` lines last.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        command: BenchCommand,
    },
}

/// `writ credential …`
#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Write a new secret key (mode 0600) for sealing credentials until their one delivery.
    GenerateKey {
        /// Where to write it; an existing file is never overwritten.
        path: PathBuf,
    },
    /// Ask for a credential rotation; the current credential is read from stdin.
    Rotate(crate::commands::credential::RotateArgs),
    /// Print the new secret of a fulfilled rotate request, once, to its requester: over the
    /// API as the token's principal, or with `--as` on the store directly.
    Reveal {
        /// The rotate request, `REQ-…`.
        request: String,
        /// The requester's e-mail, to reveal on the store directly instead of over the API.
        #[arg(long = "as")]
        requester: Option<String>,
        /// The server and the output format (over the API).
        #[command(flatten)]
        client: crate::client::ClientArgs,
    },
}

/// `writ grant …`
#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// List grants, newest first.
    List(crate::client::inventory::GrantListArgs),
}

/// `writ identity …`
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// List identities by name.
    List(crate::client::inventory::IdentityListArgs),
    /// Show one identity with its owner, accounts and grants.
    Show {
        /// The identity's name or id.
        identity: String,
    },
}

/// `writ catalog …`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the entitlements that may be requested, with their systems.
    List {
        /// Only of this system.
        #[arg(long)]
        system: Option<String>,
    },
}

/// `writ token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a principal and print it once.
    Create(crate::commands::token::CreateArgs),
    /// List tokens, newest first: who, what scope, until when (never the token itself).
    List(crate::commands::token::ListArgs),
    /// Revoke a token by id; it stops working at once.
    Revoke {
        /// The token's id (printed by `writ token create`).
        id: String,
    },
}

/// `writ finding …`
#[derive(Debug, Subcommand)]
pub enum FindingCommand {
    /// A page of findings, in id order.
    List(crate::commands::finding::ListArgs),
    /// Turn live access nobody approved into a retroactive grant request: approved, it is
    /// governed; denied, it is revoked.
    Adopt(crate::commands::finding::AdoptArgs),
    /// Accept an open finding until a date (an admin or the system's owner).
    Accept(crate::commands::finding::AcceptArgs),
}

/// `writ outbox …`
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// A page of deliveries, oldest first.
    List(crate::commands::outbox::ListArgs),
    /// Send a dead-lettered delivery again, its attempts counted afresh.
    Redeliver(crate::commands::outbox::RedeliverArgs),
}

/// `writ ticket …`
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// A page of tickets, in the order received.
    List(crate::commands::ticket::ListArgs),
}

/// `writ audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and check every signed checkpoint against the events; exit 0 when
    /// intact, 3 naming the first problem when not.
    Verify {
        /// The checkpoint signer's public key (default: derived from the configured signing
        /// key; without either, signatures are not checked and the command says so).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Sign a checkpoint of the log as it stands (needs `audit_signing_key_file`).
    Checkpoint,
    /// Write events as JSON Lines, for a SIEM.
    Export {
        /// Only events at or after this instant (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only events after this seq.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Where to write (default: stdout).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

/// `writ keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new Ed25519 checkpoint signing key (mode 0600) and its public key.
    Generate {
        /// The log's name, which every checkpoint carries, e.g. `writ.example.org/audit`.
        #[arg(long)]
        name: String,
        /// The private key file; never overwritten.
        #[arg(long, default_value = "writ-audit.key")]
        private: PathBuf,
        /// The public key file, for auditors.
        #[arg(long, default_value = "writ-audit.pub")]
        public: PathBuf,
    },
}

/// `writ evidence …`
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write one request's evidence bundle (signing a checkpoint if none covers it yet).
    Export {
        /// The request, `REQ-…`.
        request: String,
        /// Where to write the bundle.
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Check a bundle offline with the public key alone; exit 0 and print a summary when it
    /// verifies, 3 naming the problem when not.
    Verify {
        /// The bundle file.
        bundle: PathBuf,
        /// The checkpoint signer's public key.
        #[arg(long)]
        public_key: PathBuf,
    },
}

/// `writ policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate the shipped and operator policies against the schema (strict), as `writ serve`
    /// does at start; list every problem with its file and position.
    Check {
        /// The operator policy directory (default: the configured `policy_dir`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show the decision and its reasons exactly as a requester sees them: for a stored request
    /// (`REQ-…`), or for a hypothetical one.
    Explain(crate::commands::policy::ExplainArgs),
}

/// `writ bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Audit appends per second (1 and 100 events per transaction) and chain verification
    /// throughput, on SQLite and, with `--postgres`, on PostgreSQL.
    Audit(crate::bench::audit::AuditBenchArgs),
    /// Submit and approver decision latency (p50, p99) over a generated catalog with 100
    /// policies.
    Policy(crate::bench::policy::PolicyBenchArgs),
    /// Full grant lifecycles per second (submit, approve, execute, verify) on the `local`
    /// connector, beside the raw commit rate of the same store.
    Lifecycle(crate::bench::lifecycle::LifecycleBenchArgs),
    /// Grants that all end within a minute: how long until every one is verified removed, and
    /// the expiry lag (p50, p99), on the `local` connector.
    Expiry(crate::bench::expiry::ExpiryBenchArgs),
    /// Signed checkpoints and inclusion proofs at 1M and 10M audit events, and offline
    /// verification of an evidence bundle.
    Evidence(crate::bench::evidence::EvidenceBenchArgs),
    /// About a million live memberships on a generated `local` target against as many
    /// governed grants, with 1% drift of every kind: wall time, peak memory and findings by
    /// kind (which must equal the injected drift).
    Reconcile(crate::bench::reconcile::ReconcileBenchArgs),
    /// The API under `wrk` on loopback over SQLite stores of 10k, 100k and 1M requests: GET
    /// one request, list pages, POST a request; requests/s and p99.
    Http(crate::bench::http::HttpBenchArgs),
}
