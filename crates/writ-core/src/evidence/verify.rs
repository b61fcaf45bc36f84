//! `audit verify` beyond the chain: every checkpoint's signature, consistency between each two
//! consecutive checkpoints, and the log's events against every signed root. The tree is
//! recomputed from the events; kept tiles are never trusted here.

use std::sync::Arc;

use writ_domain::checkpoint::NoteVerifier;
use writ_domain::merkle::{Frontier, verify_consistency};
use writ_store::Store;

use super::tree::{AuditTree, TILE};
use crate::audit::{VerifiedChain, verify_chain};
use crate::error::CoreError;

/// What an intact log with intact checkpoints looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedLog {
    /// The chain.
    pub chain: VerifiedChain,
    /// How many signed checkpoints were checked.
    pub checkpoints: usize,
    /// The newest checkpoint's size (0 without checkpoints).
    pub newest_checkpoint: u64,
}

/// Checks the chain, then each checkpoint (with `verifier`, its signature), then that each
/// checkpoint is consistent with the one before it and that the events still hash to every
/// signed root; stops at the first problem and names it.
#[tracing::instrument(skip_all)]
pub async fn verify_log(
    store: &Arc<dyn Store>,
    verifier: Option<&NoteVerifier>,
) -> Result<VerifiedLog, CoreError> {
    let chain = verify_chain(store).await?;
    let checkpoints = store.checkpoints().await?;
    let mismatch = CoreError::CheckpointMismatch;
    for checkpoint in &checkpoints {
        if let Some(verifier) = verifier {
            let signed = verifier.verify(&checkpoint.note).map_err(|e| {
                mismatch(format!("the checkpoint of size {}: {e}", checkpoint.size))
            })?;
            if signed.size != checkpoint.size || signed.root != checkpoint.root {
                return Err(mismatch(format!(
                    "the checkpoint of size {} is stored with another size or root than it signs",
                    checkpoint.size
                )));
            }
        }
        if checkpoint.size > chain.events {
            return Err(mismatch(format!(
                "a checkpoint signs {} events but the log holds {}: events were removed",
                checkpoint.size, chain.events
            )));
        }
    }
    let tree = AuditTree::new(store.clone());
    let newest = checkpoints.last().map_or(0, |c| c.size);
    let tiles = tree.tiles_from_events(newest).await?;
    for pair in checkpoints.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        let proof = tree.consistency_proof(&tiles, old.size, new.size).await?;
        if !verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
            return Err(mismatch(format!(
                "the checkpoints of size {} and {} are not consistent: the log was rewritten between them",
                old.size, new.size
            )));
        }
    }
    // One pass over the tiles; each checkpoint adds at most 255 leaves to a copy.
    let mut frontier = Frontier::default();
    for checkpoint in &checkpoints {
        while frontier.size() + TILE <= checkpoint.size {
            frontier.push_subtree(8, tiles[(frontier.size() / TILE) as usize]);
        }
        let mut at_size = frontier.clone();
        for leaf in tree.leaf_range(at_size.size(), checkpoint.size).await? {
            at_size.push_leaf(leaf);
        }
        if at_size.root() != checkpoint.root {
            return Err(mismatch(format!(
                "the log's first {} events no longer hash to the root signed for them: an event was altered or removed",
                checkpoint.size
            )));
        }
    }
    Ok(VerifiedLog {
        chain,
        checkpoints: checkpoints.len(),
        newest_checkpoint: newest,
    })
}
