//! Exporting a campaign's evidence: its events, and the events of the `revoke` requests it
//! filed and of their grants (the read-backs that prove each revocation), each with an
//! inclusion proof in one signed checkpoint.

use writ_domain::CampaignId;
use writ_domain::campaign::{CAMPAIGN_FORMAT, CampaignEvidence};
use writ_domain::{RequestId, audit::AuditEvent};

use super::{Bundles, request_events};
use crate::error::CoreError;

impl Bundles {
    /// The evidence of campaign `id`.
    #[tracing::instrument(skip_all, fields(campaign = %id))]
    pub async fn export_campaign(&self, id: CampaignId) -> Result<CampaignEvidence, CoreError> {
        let campaign = self
            .store
            .campaign(id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("campaign `{id}`")))?;
        let mut events: Vec<AuditEvent> = self
            .store
            .audit_events_about(&[format!("campaign:{id}")])
            .await?;
        let filed: Vec<RequestId> = events
            .iter()
            .filter(|e| e.action == "campaign.item.revoke_filed")
            .flat_map(|e| e.subjects.iter())
            .filter_map(|s| s.strip_prefix("request:")?.parse().ok())
            .collect();
        for request in filed {
            events.extend(request_events(&*self.store, request).await?);
        }
        events.sort_unstable_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        let (checkpoint, events) = self.prove(&events).await?;
        Ok(CampaignEvidence {
            format: CAMPAIGN_FORMAT.to_string(),
            campaign: campaign.name.to_string(),
            campaign_id: id.to_string(),
            checkpoint,
            events,
        })
    }
}
