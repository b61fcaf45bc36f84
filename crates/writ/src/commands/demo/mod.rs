//! `writ demo [--listen ADDR]`: the server on a fresh SQLite file in a temporary directory,
//! with Acme Pay's payments team (`examples/catalog.yaml`) moved onto the `local` connector and
//! requests in every state made through the real use cases; prints the portal URL, one-time
//! login links for four people and an admin API token. Everything is deleted when it stops.

mod organisation;
mod story;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use writ_core::tokens::Tokens;
use writ_core::{Clock, SystemClock};
use writ_domain::TokenScope;
use writ_domain::audit::Actor;
use writ_server::{DEMO_LINK_LIFETIME, DemoLogins};
use writ_store::OpenMode;

use crate::config::Config;

/// The people the demo prints login links for: role, e-mail.
const PEOPLE: [(&str, &str); 4] = [
    ("requester", "ravi.shah@acmepay.example"),
    ("approver", "maya.okafor@acmepay.example"),
    ("security approver", "sam.torres@acmepay.example"),
    ("auditor", "omar.haddad@acmepay.example"),
];

/// The administrator whose API token the demo prints.
const ADMIN: &str = "jo.becker@acmepay.example";

/// Builds the demo organisation in a temporary directory and serves it until SIGINT/SIGTERM.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("writ-demo-")
        .tempdir()
        .context("cannot create the demo's temporary directory")?;
    let mut config = config.clone();
    config.database_url = format!("sqlite://{}", dir.path().join("writ.db").display());
    let (store, _) = super::open_store(&config, OpenMode::Migrate).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    organisation::build(&*store, &*clock, dir.path())
        .await
        .context("cannot build the demo organisation")?;
    let policy = Arc::new(config.policy_engine().context("refusing to start")?);
    story::tell(&config, store.clone(), clock.clone(), policy)
        .await
        .context("cannot make the demo's requests")?;
    let token = Tokens::new(store.clone(), clock.clone(), config.roles.clone())
        .create(
            ADMIN,
            TokenScope::Admin,
            Duration::from_secs(86_400),
            Actor::system("demo"),
        )
        .await
        .context("cannot create the demo's admin token")?;
    drop(store);

    let logins = DemoLogins::default();
    let mut portal = config.portal();
    portal.demo = Some(logins.clone());
    let data = dir.path().display().to_string();
    super::serve::run_with(&config, portal, move |addr| {
        let base = format!("http://{addr}");
        println!(
            "writ {} demo: Acme Pay's payments team, every target on the `local` connector",
            env!("CARGO_PKG_VERSION")
        );
        println!("(data in {data}; deleted when the demo stops)");
        println!();
        println!("  portal   {base}/portal");
        println!();
        println!("  one-time login links (each works once, within 30 minutes):");
        let until = SystemClock.now().plus(DEMO_LINK_LIFETIME);
        for (role, email) in PEOPLE {
            match logins.issue(email, until) {
                Ok(code) => {
                    println!("    {role:<18} {email:<30} {base}/portal/login/demo?code={code}")
                }
                Err(err) => println!("    {role:<18} {email:<30} (no link: {err})"),
            }
        }
        println!();
        println!("  admin API token ({ADMIN}, valid 1 day), for scripts and the CLI:");
        println!("    export WRIT_URL={base} WRIT_TOKEN={}", token.secret);
        println!("    writ request list");
        println!();
        println!("Ctrl-C stops the demo.");
    })
    .await
}
