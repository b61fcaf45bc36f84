//! `writ audit …`

use writ_core::CoreError;
use writ_store::OpenMode;

use crate::config::Config;

/// The audit chain is broken: the command fails with its own exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChainBroken(String);

/// Walks the chain; prints the event count when intact, fails naming the first bad event.
pub async fn verify(config: &Config) -> anyhow::Result<()> {
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    match writ_core::audit::verify_chain(&store).await {
        Ok(chain) => {
            println!(
                "audit chain intact: {} events, head {}",
                chain.events, chain.head
            );
            Ok(())
        }
        Err(err @ CoreError::ChainBroken(_)) => Err(ChainBroken(err.to_string()).into()),
        Err(err) => Err(err.into()),
    }
}
