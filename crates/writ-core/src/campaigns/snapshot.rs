//! What a reviewer sees of each grant in scope, read when the campaign launches: who holds
//! it and why, who approved it, its emergency and exception history, open findings and the
//! SoD rules it breaks together with the identity's other grants.

use std::collections::{BTreeMap, HashMap};

use writ_domain::{
    ApprovalDecision, Campaign, Catalog, EntitlementId, Finding, FindingStatus, Grant, GrantStatus,
    IdentityId, ItemContext, RequestKind, ScopedGrant, SodScope, SystemId, Timestamp,
};
use writ_store::{FindingQuery, GrantAfter, GrantFilter, RequestFilter};

use super::Campaigns;
use crate::CoreError;

/// Grants read per page while looking for those in scope.
const PAGE: u32 = 500;
/// Findings read per system (open ones only).
const FINDINGS: u32 = 10_000;
/// Earlier requests read per grant for its history.
const HISTORY: u32 = 50;

impl Campaigns {
    /// Every active grant in `campaign`'s scope at `now`, with what its reviewer needs.
    pub(super) async fn snapshot(
        &self,
        campaign: &Campaign,
        catalog: &Catalog,
        now: Timestamp,
    ) -> Result<Vec<(Grant, ItemContext)>, CoreError> {
        let active = self.active_grants().await?;
        let mut held: HashMap<IdentityId, Vec<EntitlementId>> = HashMap::new();
        for grant in &active {
            held.entry(grant.identity)
                .or_default()
                .push(grant.entitlement);
        }
        let mut findings: BTreeMap<SystemId, Vec<Finding>> = BTreeMap::new();
        let mut items = Vec::new();
        for grant in active {
            let Some(context) = self
                .context_of(&grant, catalog, &held, &mut findings)
                .await?
            else {
                continue;
            };
            let scoped = ScopedGrant {
                system: context.system,
                environment: context.environment,
                entitlement: context.entitlement,
                risk: context.risk,
                identity_kind: context.identity_kind,
                granted_at: context.granted_at,
            };
            if campaign.scope.covers(&scoped, now) {
                items.push((grant, context));
            }
        }
        Ok(items)
    }

    /// Every active grant, a page at a time.
    async fn active_grants(&self) -> Result<Vec<Grant>, CoreError> {
        let mut grants = Vec::new();
        let mut after = None;
        loop {
            let filter = GrantFilter {
                status: Some(GrantStatus::Active),
                after,
                ..GrantFilter::default()
            };
            let page = self.store.grants_page(filter, PAGE).await?;
            let full = page.len() == PAGE as usize;
            after = page.last().map(|g| GrantAfter::Id(g.id));
            grants.extend(page);
            if !full {
                return Ok(grants);
            }
        }
    }

    /// The snapshot of one grant; `None` when the catalog no longer names what it refers to.
    async fn context_of(
        &self,
        grant: &Grant,
        catalog: &Catalog,
        held: &HashMap<IdentityId, Vec<EntitlementId>>,
        findings: &mut BTreeMap<SystemId, Vec<Finding>>,
    ) -> Result<Option<ItemContext>, CoreError> {
        let identity = catalog.identities.iter().find(|i| i.id == grant.identity);
        let entitlement = catalog
            .entitlements
            .iter()
            .find(|e| e.id == grant.entitlement);
        let (Some(identity), Some(entitlement)) = (identity, entitlement) else {
            return Ok(None);
        };
        let Some(system) = catalog.systems.iter().find(|s| s.id == entitlement.system) else {
            return Ok(None);
        };
        let Some((request, _)) = self.store.request(grant.request).await? else {
            return Ok(None);
        };
        let name_of = |id| {
            catalog
                .principals
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| id.to_string(), |p| p.name.to_string())
        };
        let approvers = self
            .store
            .approvals_of(request.id)
            .await?
            .into_iter()
            .filter(|a| a.decision == ApprovalDecision::Approve)
            .map(|a| name_of(a.approver))
            .collect();
        let history = self
            .store
            .requests_page(
                RequestFilter {
                    identity: Some(identity.id),
                    entitlement: Some(entitlement.id),
                    ..RequestFilter::default()
                },
                HISTORY,
            )
            .await?
            .into_iter()
            .filter(|r| matches!(r.kind, RequestKind::BreakGlass | RequestKind::Exception))
            .map(|r| format!("{} ({}, {})", r.number, r.kind, r.status))
            .collect();
        if let std::collections::btree_map::Entry::Vacant(slot) = findings.entry(system.id) {
            let open = self
                .store
                .findings(FindingQuery {
                    system: Some(system.id),
                    status: Some(FindingStatus::Open),
                    kind: None,
                    after: None,
                    limit: FINDINGS,
                })
                .await?;
            slot.insert(open);
        }
        let open_findings = findings
            .get(&system.id)
            .into_iter()
            .flatten()
            .filter(|f| f.identity == Some(identity.id))
            .map(|f| format!("{}: {}", f.kind, f.subject))
            .collect();
        let own = held.get(&identity.id).cloned().unwrap_or_default();
        let owners: Vec<EntitlementId> = catalog
            .identities
            .iter()
            .filter(|i| i.owner == identity.owner)
            .filter_map(|i| held.get(&i.id))
            .flatten()
            .copied()
            .collect();
        let sod_flags = catalog
            .sod_rules
            .iter()
            .filter(|rule| {
                let holdings = match rule.scope {
                    SodScope::Identity => &own,
                    SodScope::Owner => &owners,
                };
                rule.breach(holdings)
                    .is_some_and(|found| found.contains(&entitlement.id))
            })
            .map(|rule| rule.name.to_string())
            .collect();
        Ok(Some(ItemContext {
            identity: identity.id,
            identity_name: identity.name.to_string(),
            identity_kind: identity.kind,
            owner: identity.owner,
            owner_name: name_of(identity.owner),
            entitlement: entitlement.id,
            entitlement_name: entitlement.name.to_string(),
            risk: entitlement.risk,
            system: system.id,
            system_name: system.name.to_string(),
            system_owner: system.owner,
            environment: system.environment,
            granted_at: grant.granted_at,
            expires_at: grant.expires_at,
            request_id: request.id,
            request: request.number.to_string(),
            requester: request.requester,
            justification: request.justification,
            approvers,
            history,
            open_findings,
            sod_flags,
        }))
    }
}
