//! The client commands: `writ request|grant|identity|catalog|finding …` and
//! `writ credential reveal`
//! over the HTTP API, through `writ-client`. The server is `--url` or `WRIT_URL`; the bearer
//! token is `WRIT_TOKEN` (never a flag, which other users could read in the process list).
//! Tables for people, `--json` for scripts, and exit codes from [`exit`].

pub mod campaigns;
pub mod exit;
pub mod findings;
pub mod inventory;
mod labels;
pub mod requests;
pub mod table;

use writ_client::Client;

pub use inventory::{catalog_list, grant_list, identity_list, identity_show, reveal};
pub use requests::run as request;

/// Where the server is, and how to print.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// The writ server's URL (default `http://127.0.0.1:8080`).
    #[arg(long, global = true, env = "WRIT_URL")]
    pub url: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The default server URL, where `writ serve` listens by default.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// A client of the configured server with the token in `WRIT_TOKEN`.
pub fn connect(args: &ClientArgs) -> anyhow::Result<Client> {
    let token = std::env::var("WRIT_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            exit::Usage(
                "set WRIT_TOKEN to an API token (an operator creates one with `writ token create`)"
                    .into(),
            )
        })?;
    let url = args.url.as_deref().unwrap_or(DEFAULT_URL);
    Ok(Client::new(url, token.trim())?)
}

/// Prints `value` as pretty JSON.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Tells a person (on stderr) how to get the next page.
pub fn hint_next(next: Option<&str>) {
    if let Some(next) = next {
        eprintln!("more: add `--after {next}` (or `--all`)");
    }
}
