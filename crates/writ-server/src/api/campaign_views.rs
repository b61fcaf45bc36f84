//! Campaigns and their items as the API shows them: principals by e-mail, times in RFC 3339.

use std::collections::HashMap;

use writ_api::{CampaignItemView, CampaignView, ProgressView};
use writ_domain::{Campaign, CampaignItem, ItemStatus, PrincipalId};
use writ_store::Store;

use crate::error::ApiError;

/// A campaign.
pub(crate) fn campaign(campaign: &Campaign) -> CampaignView {
    CampaignView {
        id: campaign.id.to_string(),
        name: campaign.name.to_string(),
        status: campaign.status.as_str().to_string(),
        scope: serde_json::to_value(&campaign.scope).unwrap_or_default(),
        reviewers: campaign.reviewers.as_str().to_string(),
        undecided: campaign.undecided.as_str().to_string(),
        deadline: campaign.deadline.to_string(),
        every_days: campaign.every_days,
        launched_at: campaign.launched_at.map(|t| t.to_string()),
        closed_at: campaign.closed_at.map(|t| t.to_string()),
    }
}

/// How many items stand where, from the store's counts.
pub(crate) fn progress(counts: &[(ItemStatus, u64)]) -> ProgressView {
    let count = |status: Option<ItemStatus>| {
        let n: u64 = counts
            .iter()
            .filter(|(s, _)| status.is_none_or(|wanted| *s == wanted))
            .map(|(_, n)| n)
            .sum();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    ProgressView {
        total: count(None),
        pending: count(Some(ItemStatus::Pending)),
        kept: count(Some(ItemStatus::Kept)),
        revoked: count(Some(ItemStatus::Revoked)),
        suspended: count(Some(ItemStatus::Suspended)),
    }
}

/// Items, with every principal they name shown by e-mail and revoke requests by number.
pub(crate) async fn items(
    store: &dyn Store,
    items: &[CampaignItem],
) -> Result<Vec<CampaignItemView>, ApiError> {
    let mut emails: HashMap<PrincipalId, String> = HashMap::new();
    let mut views = Vec::with_capacity(items.len());
    for item in items {
        let named = [
            Some(item.reviewer),
            item.delegated_from,
            item.review.as_ref().map(|r| r.by),
        ];
        for id in named.into_iter().flatten() {
            if let std::collections::hash_map::Entry::Vacant(slot) = emails.entry(id) {
                slot.insert(match store.principal(id).await? {
                    Some(_) if id == PrincipalId::SYSTEM => "writ".to_string(),
                    Some(p) => p.email.to_string(),
                    None => id.to_string(),
                });
            }
        }
        let email = |id: PrincipalId| emails.get(&id).cloned().unwrap_or_default();
        let revoke_request = match item.revoke_request {
            Some(id) => store.request(id).await?.map(|(r, _)| r.number.to_string()),
            None => None,
        };
        let c = &item.context;
        views.push(CampaignItemView {
            id: item.id.to_string(),
            campaign: item.campaign.to_string(),
            status: item.status.as_str().to_string(),
            reviewer: email(item.reviewer),
            delegated_from: item.delegated_from.map(email),
            due_at: item.due_at.to_string(),
            escalation: item.escalation,
            identity: c.identity_name.clone(),
            owner: c.owner_name.clone(),
            entitlement: c.entitlement_name.clone(),
            system: c.system_name.clone(),
            risk: c.risk.as_str().to_string(),
            granted_at: c.granted_at.map(|t| t.to_string()),
            request: c.request.clone(),
            justification: c.justification.clone(),
            approvers: c.approvers.clone(),
            history: c.history.clone(),
            open_findings: c.open_findings.clone(),
            sod_flags: c.sod_flags.clone(),
            decision: item
                .review
                .as_ref()
                .map(|r| r.decision.as_str().to_string()),
            reason: item.review.as_ref().and_then(|r| r.reason.clone()),
            decided_by: item.review.as_ref().map(|r| email(r.by)),
            decided_at: item.review.as_ref().map(|r| r.at.to_string()),
            revoke_request,
        });
    }
    Ok(views)
}
