//! Recertification campaigns end to end through the use cases, with a manual clock: items go
//! to the identity's owner (the system's owner when the owner requested the access); a keep
//! leaves access live, a revoke removes it from the real target through a governed request;
//! undecided items are revoked, suspended or escalated at the deadline; nobody certifies
//! access they requested.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::sync::Arc;
use std::time::Duration;

use org::{Org, PgTarget, local_target};
use writ_connect::Connector;
use writ_core::campaigns::{Campaigns, Decide, Delegate, NewCampaign};
use writ_core::requests::{NewRequest, Roles};
use writ_core::{Clock, CoreError};
use writ_domain::{
    ApprovalDecision, Campaign, CampaignItem, CampaignScope, Environment, GrantStatus,
    IdentityStatus, ItemStatus, NotificationTopic, PrincipalId, RequestStatus, ReviewDecision,
    ReviewerRule, Ttl, UndecidedPolicy,
};
use writ_testkit::TestDb;

const HOUR: Duration = Duration::from_secs(3600);

/// Two identities of Alice's on one production system Olga owns: `svc`, whose access Carol
/// asks for, and `own`, whose access Alice asks for herself.
fn catalog(prefix: &str, config: &str) -> String {
    let connector = if config.contains("path") {
        "local"
    } else {
        "postgres"
    };
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
  - {{external_id: olga, email: olga@org.example, name: Olga Systems, groups: [ops]}}
  - {{external_id: sam, email: sam@org.example, name: Sam Security, groups: [security]}}
  - {{external_id: priya, email: priya@org.example, name: Priya Security, groups: [security]}}
  - {{external_id: ada, email: ada@org.example, name: Ada Admin, groups: [writ-admins]}}
systems:
  - {{name: ledger, connector: {connector}, owner: olga@org.example, environment: production, criticality: high, config: {config}}}
entitlements:
  - {{system: ledger, key: {prefix}readers, name: Readers, risk: medium, default_ttl: 8h, max_ttl: 7d, owner: sam@org.example}}
identities:
  - {{name: {prefix}svc, kind: service_account, owner: alice@org.example, team: team, purpose: the nightly report, environment: production}}
  - {{name: {prefix}own, kind: service_account, owner: alice@org.example, team: team, purpose: alice's own tooling, environment: production}}
"#
    )
}

struct World {
    org: Org,
    campaigns: Campaigns,
}

impl World {
    async fn new(db: TestDb, prefix: &str, config: &str) -> Self {
        let org = Org::with_catalog(db, &catalog(prefix, config)).await;
        let campaigns = Campaigns::new(
            org.db.store(),
            org.requests.clone(),
            org.clock.clone() as Arc<dyn Clock>,
            Roles::default(),
        );
        Self { org, campaigns }
    }

    async fn id(&self, name: &str) -> PrincipalId {
        self.org.id_of(&format!("{name}@org.example")).await
    }

    /// `requester` asks Readers for the identity named `…<suffix>`; every accountable
    /// principal approves until it is fulfilled.
    async fn granted(&self, requester: &str, suffix: &str) {
        let catalog = self.org.db.store().catalog().await.unwrap();
        let submitted = self
            .org
            .requests
            .submit(NewRequest {
                requester: self.id(requester).await,
                kind: writ_domain::RequestKind::Grant,
                identity: catalog
                    .identities
                    .iter()
                    .find(|i| i.name.as_str().ends_with(suffix))
                    .unwrap()
                    .id,
                entitlement: Some(catalog.entitlements[0].id),
                justification: "reads the ledger for the nightly report".into(),
                ttl: Some(Ttl::parse("7d").unwrap()),
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await
            .unwrap();
        assert!(submitted.explanation.decision.allowed);
        let request = submitted.request;
        for approver in ["alice", "olga", "sam", "priya", "ada", "carol"].repeat(2) {
            if self.org.status(&request).await != RequestStatus::PendingApproval {
                break;
            }
            let _ = self
                .org
                .requests
                .decide(writ_core::requests::Decide {
                    approver: self.id(approver).await,
                    request: request.id,
                    decision: ApprovalDecision::Approve,
                    reason: None,
                    plan_hash: request.plan_hash.unwrap(),
                })
                .await;
        }
        while self.org.runner.run_once().await.unwrap() > 0 {}
        assert_eq!(self.org.status(&request).await, RequestStatus::Fulfilled);
    }

    /// Ada launches a campaign over production grants, due in two hours.
    async fn launch(&self, undecided: UndecidedPolicy) -> (Campaign, Vec<CampaignItem>) {
        let campaign = self
            .campaigns
            .create(NewCampaign {
                created_by: self.id("ada").await,
                name: "Production access review".into(),
                scope: CampaignScope {
                    environment: Some(Environment::Production),
                    ..CampaignScope::default()
                },
                reviewers: ReviewerRule::IdentityOwner,
                undecided,
                deadline: self.org.clock.now().plus(2 * HOUR),
                every_days: None,
            })
            .await
            .unwrap();
        let items = self
            .campaigns
            .launch(self.id("ada").await, campaign.id)
            .await
            .unwrap();
        (campaign, items)
    }

    async fn decide(
        &self,
        by: PrincipalId,
        item: writ_domain::CampaignItemId,
        decision: ReviewDecision,
        reason: Option<String>,
    ) -> Result<CampaignItem, CoreError> {
        self.campaigns
            .decide(Decide {
                by,
                item,
                decision,
                reason,
            })
            .await
    }

    async fn item(&self, item: &CampaignItem) -> CampaignItem {
        self.org
            .db
            .store()
            .campaign_item(item.id)
            .await
            .unwrap()
            .unwrap()
    }

    async fn grant_status(&self, item: &CampaignItem) -> GrantStatus {
        let store = self.org.db.store();
        let grants = store
            .grants_page(writ_store::GrantFilter::default(), 100)
            .await
            .unwrap();
        grants.iter().find(|g| g.id == item.grant).unwrap().status
    }
}

#[tokio::test]
async fn a_reviewer_s_queue_pages_soonest_due_first() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("q_", true).await;
        let world = World::new(db, "q_", &config).await;
        world.granted("carol", "svc").await;
        // Two campaigns over the same grant, an hour apart: two items for Alice.
        let (_, first) = world.launch(UndecidedPolicy::Revoke).await;
        world.org.clock.advance(HOUR);
        let (_, second) = world.launch(UndecidedPolicy::Revoke).await;
        let (first, second) = (first[0].id, second[0].id);
        let store = world.org.db.store();
        let alice = world.id("alice").await;
        let page = |after| {
            let store = store.clone();
            async move { store.review_queue(alice, after, 1).await.unwrap() }
        };
        let one = page(None).await;
        assert_eq!(one.iter().map(|i| i.id).collect::<Vec<_>>(), [first]);
        let two = page(Some(first)).await;
        assert_eq!(two.iter().map(|i| i.id).collect::<Vec<_>>(), [second]);
        assert!(page(Some(second)).await.is_empty(), "past the last item");
        let both = store.review_queue(alice, None, 10).await.unwrap();
        assert_eq!(
            both.iter().map(|i| i.id).collect::<Vec<_>>(),
            [first, second]
        );
    }
}

#[tokio::test]
async fn a_campaign_over_production_grants_assigns_each_item_to_the_identitys_owner() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("a_", true).await;
        let world = World::new(db, "a_", &config).await;
        world.granted("carol", "svc").await;
        world.granted("alice", "own").await;

        let (campaign, items) = world.launch(UndecidedPolicy::Revoke).await;
        assert_eq!(items.len(), 2);
        let svc = items
            .iter()
            .find(|i| i.context.identity_name == "a_svc")
            .unwrap();
        assert_eq!(svc.reviewer, world.id("alice").await, "the owner reviews");
        assert_eq!(svc.context.owner_name, "Alice Owner");
        assert_eq!(
            svc.context.justification,
            "reads the ledger for the nightly report"
        );
        assert!(!svc.context.approvers.is_empty(), "{:?}", svc.context);
        let own = items
            .iter()
            .find(|i| i.context.identity_name == "a_own")
            .unwrap();
        assert_eq!(
            own.reviewer,
            world.id("olga").await,
            "Alice asked for it herself, so the system's owner reviews it"
        );

        let store = world.org.db.store();
        let queue = store
            .review_queue(world.id("alice").await, None, 100)
            .await
            .unwrap();
        assert_eq!(queue.iter().map(|i| i.id).collect::<Vec<_>>(), [svc.id]);
        let inbox = store
            .notifications(world.id("alice").await, None, 10)
            .await
            .unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.topic == NotificationTopic::CampaignReviewAssigned),
            "{inbox:?}"
        );
        let stored = store.campaign(campaign.id).await.unwrap().unwrap();
        assert_eq!(stored.status, writ_domain::CampaignStatus::Open);

        let again = world
            .campaigns
            .launch(world.id("ada").await, campaign.id)
            .await;
        assert!(matches!(again, Err(CoreError::Invalid(_))), "{again:?}");
        let by_owner = world
            .campaigns
            .launch(world.id("alice").await, campaign.id)
            .await;
        assert!(matches!(by_owner, Err(CoreError::Forbidden(_))));
    }
}

#[tokio::test]
async fn a_keep_leaves_access_live_and_a_revoke_removes_it_from_postgres() {
    for db in TestDb::each().await {
        let Some(target) = PgTarget::new().await else {
            return;
        };
        let world = World::new(db, &target.prefix, &target.config(5432)).await;
        world.granted("carol", "svc").await;
        assert!(target.is_member());
        let alice = world.id("alice").await;

        let (_, items) = world.launch(UndecidedPolicy::Revoke).await;
        let kept = world
            .decide(
                alice,
                items[0].id,
                ReviewDecision::Keep,
                Some("the nightly report still runs".into()),
            )
            .await
            .unwrap();
        assert_eq!(kept.status, ItemStatus::Kept);
        assert_eq!(kept.revoke_request, None);
        assert_eq!(world.org.runner.run_once().await.unwrap(), 0);
        assert!(target.is_member(), "kept access stays");
        let swept = world.campaigns.sweep().await.unwrap();
        assert_eq!(swept.closed, 1, "nothing is pending any more");

        let (_, items) = world.launch(UndecidedPolicy::Revoke).await;
        let revoked = world
            .decide(
                alice,
                items[0].id,
                ReviewDecision::Revoke,
                Some("the report moved elsewhere".into()),
            )
            .await
            .unwrap();
        assert_eq!(revoked.status, ItemStatus::Revoked);
        let request = revoked.revoke_request.expect("a governed revoke request");
        assert!(target.is_member(), "nothing is removed until the job runs");
        assert_eq!(world.org.runner.run_once().await.unwrap(), 1);
        let (request, _) = world
            .org
            .db
            .store()
            .request(request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.status, RequestStatus::Fulfilled);
        assert_eq!(request.requester, PrincipalId::SYSTEM);
        assert!(!target.is_member(), "gone from pg_auth_members");
        assert_eq!(world.grant_status(&items[0]).await, GrantStatus::Revoked);

        let twice = world
            .decide(
                alice,
                items[0].id,
                ReviewDecision::Keep,
                Some("changed my mind".into()),
            )
            .await;
        assert!(matches!(twice, Err(CoreError::Invalid(_))), "{twice:?}");
    }
}

#[tokio::test]
async fn undecided_items_are_revoked_at_the_deadline_after_a_reminder() {
    for db in TestDb::each().await {
        let (_dir, target, config) = local_target("u_", true).await;
        let world = World::new(db, "u_", &config).await;
        world.granted("carol", "svc").await;
        let (_, items) = world.launch(UndecidedPolicy::Revoke).await;

        let swept = world.campaigns.sweep().await.unwrap();
        assert_eq!(swept.reminded, 1, "due within the reminder window");
        assert_eq!(swept.revoked, 0, "not due yet");
        assert_eq!(world.campaigns.sweep().await.unwrap().reminded, 0, "once");
        let inbox = world
            .org
            .db
            .store()
            .notifications(world.id("alice").await, None, 10)
            .await
            .unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.topic == NotificationTopic::CampaignReviewDue)
        );

        world.org.clock.advance(3 * HOUR);
        let swept = world.campaigns.sweep().await.unwrap();
        assert_eq!((swept.revoked, swept.closed), (1, 1));
        let item = world.item(&items[0]).await;
        assert_eq!(item.status, ItemStatus::Revoked);
        assert_eq!(item.review.as_ref().unwrap().by, PrincipalId::SYSTEM);
        assert!(item.revoke_request.is_some());
        while world.org.runner.run_once().await.unwrap() > 0 {}
        assert_eq!(world.grant_status(&items[0]).await, GrantStatus::Revoked);
        let held = target
            .holds(&"u_svc".parse().unwrap(), &"u_readers".parse().unwrap())
            .await
            .unwrap();
        assert!(!held, "gone from the target");
    }
}

#[tokio::test]
async fn undecided_items_suspend_the_identity_or_escalate_per_policy() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("s_", true).await;
        let world = World::new(db, "s_", &config).await;
        world.granted("carol", "svc").await;

        let (_, escalating) = world.launch(UndecidedPolicy::Escalate).await;
        world.org.clock.advance(3 * HOUR);
        let swept = world.campaigns.sweep().await.unwrap();
        assert_eq!(swept.escalated, 1);
        let item = world.item(&escalating[0]).await;
        assert_eq!(item.status, ItemStatus::Pending);
        assert_eq!(item.reviewer, world.id("olga").await, "the system's owner");
        assert_eq!(item.escalation, 1);
        assert!(item.due_at > world.org.clock.now());
        let inbox = world
            .org
            .db
            .store()
            .notifications(world.id("olga").await, None, 10)
            .await
            .unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.topic == NotificationTopic::CampaignReviewEscalated)
        );
        world
            .decide(world.id("olga").await, item.id, ReviewDecision::Keep, None)
            .await
            .unwrap();

        let (_, suspending) = world.launch(UndecidedPolicy::Suspend).await;
        world.org.clock.advance(3 * HOUR);
        let swept = world.campaigns.sweep().await.unwrap();
        assert_eq!(swept.suspended, 1);
        assert_eq!(
            world.item(&suspending[0]).await.status,
            ItemStatus::Suspended
        );
        while world.org.runner.run_once().await.unwrap() > 0 {}
        let identity = world
            .org
            .db
            .store()
            .identity(suspending[0].context.identity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(identity.status, IdentityStatus::Suspended);
    }
}

#[tokio::test]
async fn a_reviewer_cannot_certify_access_they_requested() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("r_", true).await;
        let world = World::new(db, "r_", &config).await;
        world.granted("alice", "own").await;
        let (_, items) = world.launch(UndecidedPolicy::Revoke).await;
        let (alice, olga, carol) = (
            world.id("alice").await,
            world.id("olga").await,
            world.id("carol").await,
        );
        assert_eq!(items[0].reviewer, olga);

        let by_requester = world
            .decide(
                alice,
                items[0].id,
                ReviewDecision::Keep,
                Some("I still need it".into()),
            )
            .await;
        assert!(
            matches!(by_requester, Err(CoreError::Forbidden(_))),
            "{by_requester:?}"
        );
        let handed_to_requester = world
            .campaigns
            .delegate(Delegate {
                by: olga,
                item: items[0].id,
                to: alice,
                reason: None,
            })
            .await;
        let Err(CoreError::Invalid(message)) = handed_to_requester else {
            panic!("{handed_to_requester:?}");
        };
        assert!(message.contains("requested themselves"), "{message}");

        let delegated = world
            .campaigns
            .delegate(Delegate {
                by: olga,
                item: items[0].id,
                to: carol,
                reason: Some("Carol runs this team's tooling".into()),
            })
            .await
            .unwrap();
        assert_eq!(
            (delegated.reviewer, delegated.delegated_from),
            (carol, Some(olga))
        );
        assert!(
            world
                .org
                .audit_actions()
                .await
                .contains(&"campaign.item.delegated".to_string())
        );
        let kept = world
            .decide(carol, items[0].id, ReviewDecision::Keep, None)
            .await
            .unwrap();
        assert_eq!(kept.review.unwrap().by, carol);
    }
}

#[tokio::test]
async fn the_campaign_evidence_export_verifies_offline() {
    use writ_core::evidence::{Bundles, Checkpointer};
    use writ_domain::campaign::CampaignEvidence;

    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("e_", true).await;
        let world = World::new(db, "e_", &config).await;
        world.granted("carol", "svc").await;
        let (campaign, items) = world.launch(UndecidedPolicy::Revoke).await;
        world
            .decide(
                world.id("alice").await,
                items[0].id,
                ReviewDecision::Revoke,
                Some("the report is retired".into()),
            )
            .await
            .unwrap();
        while world.org.runner.run_once().await.unwrap() > 0 {}
        world.campaigns.sweep().await.unwrap();

        let store = world.org.db.store();
        let signer = Arc::new(writ_testkit::test_signer());
        let checkpointer = Checkpointer::new(
            store.clone(),
            signer.clone(),
            world.org.clock.clone() as Arc<dyn Clock>,
        );
        let evidence = Bundles::new(store, Some(checkpointer))
            .export_campaign(campaign.id)
            .await
            .unwrap();
        let bytes = evidence.to_canonical_bytes();
        let summary = CampaignEvidence::verify(&bytes, &signer.verifier()).unwrap();
        assert_eq!(summary.campaign, "Production access review");
        assert_eq!(summary.reviews.len(), 1, "{summary}");
        assert!(
            summary.reviews[0].contains("revoke (revoked)")
                && summary.reviews[0].contains("the report is retired"),
            "{summary}"
        );
        assert_eq!(summary.revocations.len(), 1, "{summary}");
        assert!(
            summary.revocations[0].contains("read back as gone"),
            "{summary}"
        );
        let actions: Vec<&str> = evidence.events.iter().map(|e| e.action.as_str()).collect();
        for expected in [
            "campaign.created",
            "campaign.launched",
            "campaign.item.decided",
            "campaign.item.revoke_filed",
            "request.fulfilled",
            "campaign.closed",
        ] {
            assert!(actions.contains(&expected), "{expected}: {actions:?}");
        }

        let tampered = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("the report is retired", "the report is retyred");
        assert!(CampaignEvidence::verify(tampered.as_bytes(), &signer.verifier()).is_err());
        let other =
            writ_domain::checkpoint::NoteSigner::from_seed("other.example/audit", [9; 32]).unwrap();
        assert!(CampaignEvidence::verify(&bytes, &other.verifier()).is_err());
    }
}

#[tokio::test]
async fn a_recurring_campaign_starts_again_once_per_period() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("p_", true).await;
        let world = World::new(db, "p_", &config).await;
        world.granted("carol", "svc").await;
        let first = world
            .campaigns
            .create(NewCampaign {
                created_by: world.id("sam").await,
                name: "High-risk access, monthly".into(),
                scope: CampaignScope::default(),
                reviewers: ReviewerRule::IdentityOwner,
                undecided: UndecidedPolicy::Escalate,
                deadline: world.org.clock.now().plus(2 * HOUR),
                every_days: Some(1),
            })
            .await
            .unwrap();
        world
            .campaigns
            .launch(world.id("sam").await, first.id)
            .await
            .unwrap();
        assert_eq!(world.campaigns.sweep().await.unwrap().recurred, 0);

        world.org.clock.advance(25 * HOUR);
        assert_eq!(world.campaigns.sweep().await.unwrap().recurred, 1);
        assert_eq!(world.campaigns.sweep().await.unwrap().recurred, 0, "once");
        let store = world.org.db.store();
        let campaigns = store.campaigns_page(None, 10).await.unwrap();
        assert_eq!(campaigns.len(), 2);
        let next = campaigns.iter().find(|c| c.id != first.id).unwrap();
        assert_eq!(next.status, writ_domain::CampaignStatus::Open);
        assert_eq!(next.deadline, world.org.clock.now().plus(2 * HOUR));
        assert_eq!(
            store.campaign_items(next.id, None, 10).await.unwrap().len(),
            1
        );
    }
}
