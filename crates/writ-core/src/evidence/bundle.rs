//! Exporting one request's evidence bundle: its events and its grants' events, each with an
//! inclusion proof in a signed checkpoint that covers them all.

use std::sync::Arc;

use writ_domain::audit::AuditEvent;
use writ_domain::bundle::{BundledEvent, EvidenceBundle, FORMAT};
use writ_domain::{RequestId, RequestNumber};
use writ_store::{Store, StoredCheckpoint};

use super::{AuditTree, Checkpointer};
use crate::error::CoreError;

/// Builds evidence bundles from the store.
#[derive(Clone)]
pub struct Bundles {
    pub(super) store: Arc<dyn Store>,
    tree: AuditTree,
    checkpointer: Option<Checkpointer>,
}

impl Bundles {
    /// Bundles from `store`; with a `checkpointer`, a bundle whose newest event no checkpoint
    /// covers yet gets a new checkpoint signed for it.
    pub fn new(store: Arc<dyn Store>, checkpointer: Option<Checkpointer>) -> Self {
        Self {
            tree: AuditTree::new(store.clone()),
            store,
            checkpointer,
        }
    }

    /// The bundle of request `number`.
    #[tracing::instrument(skip_all, fields(request = %number))]
    pub async fn export(&self, number: RequestNumber) -> Result<EvidenceBundle, CoreError> {
        let (request, _) = self
            .store
            .request_by_number(number)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("request {number}")))?;
        let events = request_events(&*self.store, request.id).await?;
        let (checkpoint, events) = self.prove(&events).await?;
        Ok(EvidenceBundle {
            format: FORMAT.to_string(),
            request: number.to_string(),
            request_id: request.id.to_string(),
            checkpoint,
            events,
        })
    }

    /// A signed checkpoint covering `events` (in log order), and each event with its
    /// inclusion proof in it.
    pub(super) async fn prove(
        &self,
        events: &[AuditEvent],
    ) -> Result<(String, Vec<BundledEvent>), CoreError> {
        let newest = events.last().map_or(0, |e| e.seq);
        let checkpoint = self.covering(newest).await?;
        let tiles = self.tree.tiles(checkpoint.size).await?;
        let mut bundled = Vec::with_capacity(events.len());
        for event in events {
            let proof = self
                .tree
                .inclusion_proof(&tiles, event.seq - 1, checkpoint.size)
                .await?;
            bundled.push(BundledEvent::new(event, &proof));
        }
        Ok((checkpoint.note, bundled))
    }

    /// The newest checkpoint, when it covers event `seq`; otherwise a new one.
    async fn covering(&self, seq: u64) -> Result<StoredCheckpoint, CoreError> {
        if let Some(newest) = self.store.latest_checkpoint().await?
            && newest.size >= seq
        {
            return Ok(newest);
        }
        match &self.checkpointer {
            Some(checkpointer) => checkpointer.checkpoint().await,
            None => Err(CoreError::Invalid(format!(
                "no signed checkpoint covers audit event {seq} yet: sign one with \
                 `writ audit checkpoint` (or configure `audit_signing_key_file`)"
            ))),
        }
    }
}

/// Every audit event about request `id` and the grants it made, in log order: what a bundle
/// holds, and the timeline a person reads.
pub async fn request_events(
    store: &dyn Store,
    id: RequestId,
) -> Result<Vec<AuditEvent>, CoreError> {
    let mut events = store.audit_events_about(&[format!("request:{id}")]).await?;
    let mut grants: Vec<String> = events
        .iter()
        .flat_map(|e| e.subjects.iter().filter(|s| s.starts_with("grant:")))
        .cloned()
        .collect();
    grants.sort();
    grants.dedup();
    if !grants.is_empty() {
        events.extend(store.audit_events_about(&grants).await?);
        events.sort_unstable_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
    }
    Ok(events)
}
