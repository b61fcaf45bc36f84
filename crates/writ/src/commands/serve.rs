//! `writ serve`

use anyhow::Context;
use tokio::net::TcpListener;
use writ_server::AppState;
use writ_store::{OpenMode, redact};

use crate::config::Config;

/// Opens (and migrates) the store, then serves HTTP until SIGINT or SIGTERM.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    // An invalid policy set refuses to start: nothing may be decided by half a policy.
    let policy = config.policy_engine().context("refusing to start")?;
    let (store, status) = super::open_store(config, OpenMode::Migrate).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on `{}`", config.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(
        %addr,
        store = %redact(&config.database_url),
        schema = status.latest,
        policy_set = %policy.policy_set_hash(),
        version = env!("CARGO_PKG_VERSION"),
        "writ is serving"
    );
    println!(
        "writ {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    writ_server::serve(listener, AppState { store }, shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("writ stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
