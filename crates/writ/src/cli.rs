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
    /// Credentials: the secret key, rotate requests, and the one-time reveal of a new secret.
    Credential {
        /// What to do.
        #[command(subcommand)]
        command: CredentialCommand,
    },
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
    /// Print the new secret of a fulfilled rotate request, once, to its requester.
    Reveal {
        /// The rotate request, `REQ-…`.
        request: String,
        /// The requester's e-mail.
        #[arg(long = "as")]
        requester: String,
    },
}

/// `writ audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 0 with the event count when intact, 3 naming the first bad
    /// event when not.
    Verify,
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
}
