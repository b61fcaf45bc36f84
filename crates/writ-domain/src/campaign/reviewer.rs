//! Who may review a campaign item, and who is accountable for it next when its reviewer
//! cannot or did not decide.

use super::{ItemContext, ReviewRefused, ReviewerRule};
use crate::id::PrincipalId;

/// Whether `principal` may decide (or be handed) the item `context` describes: never writ
/// itself, never the principal who requested the access.
pub fn eligibility(principal: PrincipalId, context: &ItemContext) -> Result<(), ReviewRefused> {
    if principal == PrincipalId::SYSTEM {
        return Err(ReviewRefused::System);
    }
    if principal == context.requester {
        return Err(ReviewRefused::OwnRequest);
    }
    Ok(())
}

/// The principals accountable for an item, in the order they are asked: the rule's first
/// choice, its fallback, then the security group; each named once, ineligible ones left out.
/// Whether each is still active is the caller's to check.
pub fn accountable_chain(
    rule: ReviewerRule,
    context: &ItemContext,
    security: &[PrincipalId],
) -> Vec<PrincipalId> {
    let firsts = match rule {
        ReviewerRule::IdentityOwner => [context.owner, context.system_owner],
        ReviewerRule::SystemOwner => [context.system_owner, context.owner],
    };
    let mut chain = Vec::new();
    for p in firsts.into_iter().chain(security.iter().copied()) {
        if !chain.contains(&p) && eligibility(p, context).is_ok() {
            chain.push(p);
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{EntitlementId, IdentityId, SystemId};
    use crate::kinds::{Environment, IdentityKind, Risk};

    fn context(
        owner: PrincipalId,
        system_owner: PrincipalId,
        requester: PrincipalId,
    ) -> ItemContext {
        ItemContext {
            identity: IdentityId::new(),
            identity_name: "svc".into(),
            identity_kind: IdentityKind::ServiceAccount,
            owner,
            owner_name: "Owner".into(),
            entitlement: EntitlementId::new(),
            entitlement_name: "Readers".into(),
            risk: Risk::Medium,
            system: SystemId::new(),
            system_name: "ledger".into(),
            system_owner,
            environment: Environment::Production,
            granted_at: None,
            expires_at: None,
            request_id: crate::id::RequestId::new(),
            request: "REQ-1".into(),
            requester,
            justification: "reads".into(),
            approvers: vec![],
            history: vec![],
            open_findings: vec![],
            sod_flags: vec![],
        }
    }

    #[test]
    fn the_owner_reviews_first_then_the_system_owner_then_security() {
        let (owner, sys, sec, requester) = (
            PrincipalId::new(),
            PrincipalId::new(),
            PrincipalId::new(),
            PrincipalId::new(),
        );
        let ctx = context(owner, sys, requester);
        assert_eq!(
            accountable_chain(ReviewerRule::IdentityOwner, &ctx, &[sec, owner]),
            vec![owner, sys, sec]
        );
        assert_eq!(
            accountable_chain(ReviewerRule::SystemOwner, &ctx, &[sec]),
            vec![sys, owner, sec]
        );
    }

    #[test]
    fn an_owner_who_requested_the_access_is_skipped() {
        let (owner, sys) = (PrincipalId::new(), PrincipalId::new());
        let ctx = context(owner, sys, owner);
        assert_eq!(
            accountable_chain(ReviewerRule::IdentityOwner, &ctx, &[]),
            vec![sys]
        );
        assert_eq!(eligibility(owner, &ctx), Err(ReviewRefused::OwnRequest));
        assert_eq!(
            eligibility(PrincipalId::SYSTEM, &ctx),
            Err(ReviewRefused::System)
        );
    }
}
