//! Signing checkpoints: the tree size and root of the audit log, signed with the key from
//! `writ keys generate`. The private key lives in a file, never in the database or a log.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use writ_domain::checkpoint::{NoteSigner, NoteVerifier};
use writ_store::{Store, StoredCheckpoint};
use zeroize::Zeroizing;

use super::AuditTree;
use crate::Clock;
use crate::error::CoreError;

/// Writes a new signing key named `name` to `private` (mode 0600) and its public key to
/// `public`; existing files are never overwritten.
pub fn generate_keys(name: &str, private: &Path, public: &Path) -> Result<NoteVerifier, CoreError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    crate::keys::random(seed.as_mut_slice())?;
    let signer =
        NoteSigner::from_seed(name, *seed).map_err(|e| CoreError::Invalid(e.to_string()))?;
    let verifier = signer.verifier();
    crate::keys::write_new_private(private, &Zeroizing::new(signer.to_text()))?;
    std::fs::write(public, verifier.to_text())
        .map_err(|e| CoreError::Invalid(format!("cannot write `{}`: {e}", public.display())))?;
    Ok(verifier)
}

/// Reads a signing key file.
pub fn read_signer(path: &Path) -> Result<NoteSigner, CoreError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        CoreError::Invalid(format!(
            "cannot read the signing key `{}`: {e}",
            path.display()
        ))
    })?);
    NoteSigner::parse(&text)
        .map_err(|e| CoreError::Invalid(format!("the signing key `{}`: {e}", path.display())))
}

/// Reads a public key file.
pub fn read_verifier(path: &Path) -> Result<NoteVerifier, CoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CoreError::Invalid(format!(
            "cannot read the public key `{}`: {e}",
            path.display()
        ))
    })?;
    NoteVerifier::parse(&text)
        .map_err(|e| CoreError::Invalid(format!("the public key `{}`: {e}", path.display())))
}

/// Signs checkpoints of the store's audit log.
#[derive(Clone)]
pub struct Checkpointer {
    store: Arc<dyn Store>,
    tree: AuditTree,
    signer: Arc<NoteSigner>,
    clock: Arc<dyn Clock>,
}

impl Checkpointer {
    /// Signs with `signer`.
    pub fn new(store: Arc<dyn Store>, signer: Arc<NoteSigner>, clock: Arc<dyn Clock>) -> Self {
        Self {
            tree: AuditTree::new(store.clone()),
            store,
            signer,
            clock,
        }
    }

    /// Signs the log as it stands; when the newest checkpoint already covers every event, it
    /// is returned instead of signing the same tree twice.
    #[tracing::instrument(skip_all)]
    pub async fn checkpoint(&self) -> Result<StoredCheckpoint, CoreError> {
        let size = self.store.audit_head().await?.map_or(0, |(seq, _)| seq);
        if size == 0 {
            return Err(CoreError::Invalid(
                "the audit log is empty: there is nothing to checkpoint".into(),
            ));
        }
        if let Some(newest) = self.store.latest_checkpoint().await?
            && newest.size == size
        {
            return Ok(newest);
        }
        let tiles = self.tree.tiles(size).await?;
        let root = self.tree.range_hash(&tiles, 0, size).await?;
        let checkpoint = StoredCheckpoint {
            size,
            root,
            note: self.signer.sign(size, root),
            created_at: self.clock.now(),
        };
        self.store.add_checkpoint(checkpoint.clone()).await?;
        tracing::info!(size, "audit checkpoint signed");
        Ok(checkpoint)
    }

    /// Signs a checkpoint when `every_events` events were appended since the newest one, or
    /// `every` has passed since it and anything was appended; returns it when one was signed.
    pub async fn checkpoint_if_due(
        &self,
        every_events: u64,
        every: Duration,
    ) -> Result<Option<StoredCheckpoint>, CoreError> {
        let size = self.store.audit_head().await?.map_or(0, |(seq, _)| seq);
        let newest = self.store.latest_checkpoint().await?;
        let (covered, signed_at) = newest.map_or((0, None), |c| (c.size, Some(c.created_at)));
        let new_events = size.saturating_sub(covered);
        let stale = signed_at.is_none_or(|at| self.clock.now().since(at) >= every);
        if new_events > 0 && (new_events >= every_events || stale) {
            return self.checkpoint().await.map(Some);
        }
        Ok(None)
    }
}
