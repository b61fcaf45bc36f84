//! Verifying the audit chain end to end.

use writ_domain::audit::{AuditEvent, AuditHash, ChainWalk};
use writ_store::Store;

use crate::error::CoreError;

/// Events read per page while verifying.
const PAGE: u32 = 10_000;

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
/// Recomputing hashes (the costly part) runs on a blocking thread for one page while the next
/// page is read, so reading and hashing use both cores.
#[tracing::instrument(skip_all, fields(backend = store.backend()))]
pub async fn verify_chain(store: &dyn Store) -> Result<VerifiedChain, CoreError> {
    let mut walk = ChainWalk::default();
    let mut page = store.audit_page(0, PAGE).await?;
    while let Some(last_seq) = page.last().map(|e| e.seq) {
        let hashing = tokio::task::spawn_blocking(move || {
            let first_altered = page.iter().find(|e| !e.hash_is_intact()).map(|e| e.seq);
            (page, first_altered)
        });
        let next = store.audit_page(last_seq, PAGE).await?;
        let (checked, first_altered) = hashing
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        link_page(&mut walk, &checked, first_altered)?;
        page = next;
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
