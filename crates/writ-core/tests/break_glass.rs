//! Break-glass end to end on the example organisation: granted at once, reviewed after use by
//! someone accountable, and no new grant of the entitlement to the identity until the review
//! is closed; an overdue review escalates to security.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod world;

use std::time::Duration;

use world::World;
use writ_core::CoreError;
use writ_core::requests::CloseReview;
use writ_domain::{NotificationTopic, RequestKind, RequestStatus, ReviewStatus};

#[tokio::test]
async fn break_glass_is_granted_at_once_and_blocks_new_grants_until_its_review_closes() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let mut emergency = world.ask("maya.okafor", "incident-responder", "payments-db:dba", "1h");
        emergency.kind = RequestKind::BreakGlass;
        emergency.justification = "INC-4711: ledger replication stuck, on-call needs DBA".into();
        let submitted = world.submit(emergency).await;
        assert_eq!(
            submitted.request.status,
            RequestStatus::Approved,
            "{:?}",
            submitted.explanation.decision
        );
        let store = world.db.store();
        let reviews = store
            .reviews_of_request(submitted.request.id)
            .await
            .unwrap();
        assert_eq!(reviews.len(), 1);
        let review = &reviews[0];
        assert_eq!(review.status, ReviewStatus::Open);
        assert_eq!(
            review.assignee,
            Some(world.principal("ravi.shah")),
            "the owner reviews"
        );

        // The owner and every member of security are told, in the transaction that grants it;
        // the requester is not, nor is anyone else.
        let told = |who: &'static str| {
            let store = store.clone();
            let principal = world.principal(who);
            async move { store.notifications(principal, None, 50).await.unwrap() }
        };
        for who in ["ravi.shah", "sam.torres", "priya.nair"] {
            let inbox = told(who).await;
            assert_eq!(inbox.len(), 1, "{who}: {inbox:?}");
            assert_eq!(inbox[0].topic, NotificationTopic::BreakGlassUsed);
            assert_eq!(inbox[0].request_number, submitted.request.number);
            assert!(
                inbox[0].summary.contains("payments-db"),
                "{}",
                inbox[0].summary
            );
        }
        for who in ["maya.okafor", "omar.haddad"] {
            assert!(told(who).await.is_empty(), "{who} is not told");
        }

        // No new grant of it while the review is open.
        let again = world
            .submit(world.ask("maya.okafor", "incident-responder", "payments-db:dba", "1h"))
            .await;
        assert!(!again.explanation.decision.allowed);
        assert!(
            again
                .explanation
                .decision
                .reasons
                .iter()
                .any(|r| r.message.contains("post-use review")),
            "{:?}",
            again.explanation.decision
        );

        let close = |by: &str| CloseReview {
            by: world.principal(by),
            review: review.id,
            notes: "used to restart replication; no data touched".into(),
        };
        let own = world
            .requests
            .close_review(close("maya.okafor"))
            .await
            .unwrap_err();
        assert!(matches!(own, CoreError::Forbidden(_)), "{own}");
        let bystander = world
            .requests
            .close_review(close("omar.haddad"))
            .await
            .unwrap_err();
        assert!(matches!(bystander, CoreError::Forbidden(_)), "{bystander}");

        // Overdue: it escalates to security, who may close it.
        world.clock.advance(Duration::from_secs(3601));
        let swept = world.requests.sweep_overdue().await.unwrap();
        assert_eq!(swept.reviews_escalated, 1, "{swept:?}");
        let escalated = store.review(review.id).await.unwrap().unwrap();
        let security = [world.principal("sam.torres"), world.principal("priya.nair")];
        assert!(security.contains(&escalated.assignee.unwrap()));
        assert_eq!(escalated.escalation, 1);
        let newest = &told(if escalated.assignee == Some(security[0]) {
            "sam.torres"
        } else {
            "priya.nair"
        })
        .await[0];
        assert_eq!(newest.topic, NotificationTopic::ReviewEscalated);
        assert_eq!(newest.request, submitted.request.id);
        world
            .requests
            .close_review(close("sam.torres"))
            .await
            .unwrap();
        let closed = store.review(review.id).await.unwrap().unwrap();
        assert_eq!(closed.status, ReviewStatus::Closed);
        assert_eq!(closed.closed.unwrap().by, world.principal("sam.torres"));
        let twice = world
            .requests
            .close_review(close("sam.torres"))
            .await
            .unwrap_err();
        assert!(twice.to_string().contains("already closed"), "{twice}");

        let after = world
            .submit(world.ask("maya.okafor", "incident-responder", "payments-db:dba", "1h"))
            .await;
        assert!(
            !after
                .explanation
                .decision
                .reasons
                .iter()
                .any(|r| r.message.contains("post-use review")),
            "the review no longer blocks: {:?}",
            after.explanation.decision
        );
    }
}
