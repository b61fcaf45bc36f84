//! Verifying the audit chain end to end.

use std::sync::Arc;
use writ_domain::audit::{AuditEvent, AuditHash, ChainWalk};

use futures_util::StreamExt;
use writ_store::Store;

use crate::error::CoreError;

/// Events read per range while verifying.
const RANGE: u64 = 10_000;
/// Ranges read and hashed at once: enough to keep both cores busy decoding rows and hashing.
const IN_FLIGHT: usize = 4;

/// What an intact chain looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedChain {
    /// How many events it holds.
    pub events: u64,
    /// The hash of its last event.
    pub head: AuditHash,
}

/// Walks the whole audit log in seq order and checks every event's hash and link; stops at the
/// first bad event and names it.
///
/// The log is read as seq ranges, several at once on the runtime's threads, each range's
/// hashes recomputed where it was read; the links are then checked in order. Events removed from the end of the log
/// leave no trace in the chain itself: signed checkpoints cover that.
#[tracing::instrument(skip_all, fields(backend = store.backend()))]
pub async fn verify_chain(store: &Arc<dyn Store>) -> Result<VerifiedChain, CoreError> {
    let mut walk = ChainWalk::default();
    let Some((last_seq, _)) = store.audit_head().await? else {
        return Ok(VerifiedChain {
            events: 0,
            head: AuditHash::GENESIS,
        });
    };
    let ranges =
        (0..last_seq.div_ceil(RANGE)).map(|i| (i * RANGE, ((i + 1) * RANGE).min(last_seq)));
    let mut checked = futures_util::stream::iter(ranges)
        .map(|(after, through)| {
            // A task per range, so row decoding spreads over the runtime's threads.
            let store = store.clone();
            let task = tokio::spawn(async move {
                let page = store.audit_range(after, through).await?;
                let first_altered = page.iter().find(|e| !e.hash_is_intact()).map(|e| e.seq);
                Ok::<_, CoreError>((page, first_altered))
            });
            async move { task.await.map_err(|e| CoreError::Internal(e.to_string()))? }
        })
        .buffered(IN_FLIGHT);
    while let Some(result) = checked.next().await {
        let (page, first_altered) = result?;
        link_page(&mut walk, &page, first_altered)?;
    }
    Ok(VerifiedChain {
        events: walk.count(),
        head: walk.head(),
    })
}

/// Links a page whose hashes were already checked; only the first altered event is rehashed.
fn link_page(
    walk: &mut ChainWalk,
    page: &[AuditEvent],
    first_altered: Option<u64>,
) -> Result<(), CoreError> {
    for event in page {
        if Some(event.seq) == first_altered {
            walk.check(event)?;
        } else {
            walk.link(event)?;
        }
    }
    Ok(())
}
