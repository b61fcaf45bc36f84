//! Requests end to end through the use cases, on the example organisation.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod world;

use world::World;
use writ_core::CoreError;
use writ_core::requests::Decided;
use writ_domain::RequestStatus;

#[tokio::test]
async fn a_production_grant_needs_two_distinct_eligible_approvers() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let submitted = world
            .submit(world.ask("ravi.shah", "payments-api", "payments-db:writer", "7d"))
            .await;
        assert!(
            submitted.explanation.decision.allowed,
            "{:?}",
            submitted.explanation.decision
        );
        assert_eq!(submitted.request.status, RequestStatus::PendingApproval);
        assert_eq!(
            submitted.explanation.stages.len(),
            2,
            "{:?}",
            submitted.explanation.stages
        );

        // Ravi owns the identity, the entitlement and the system: his stage passes to security.
        let request = submitted.request;
        let own = world.approve("ravi.shah", &request).await.unwrap_err();
        assert!(matches!(own, CoreError::Refused(_)), "{own}");
        let manager = world.approve("maya.okafor", &request).await.unwrap_err();
        assert!(
            manager.to_string().contains("manager is not enough"),
            "{manager}"
        );
        let first = world.approve("sam.torres", &request).await;
        assert!(matches!(first, Ok(Decided::NextStage(_))), "{first:?}");
        assert_eq!(
            world.reload(&request).await.status,
            RequestStatus::PendingApproval
        );
        let again = world.approve("sam.torres", &request).await.unwrap_err();
        assert!(
            matches!(again, CoreError::Refused(_)),
            "one person, one stage: {again}"
        );
        let second = world.approve("priya.nair", &request).await;
        assert_eq!(second.unwrap(), Decided::Approved);
        assert_eq!(world.reload(&request).await.status, RequestStatus::Approved);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_cannot_together_break_a_separation_of_duties_rule() {
    // Both halves of an SoD pair for one identity, at the same instant, several times over.
    for _ in 0..3 {
        for db in writ_testkit::TestDb::each().await {
            let world = World::on(db).await;
            let writer = world.ask("maya.okafor", "payments-api", "payments-db:writer", "7d");
            let auditor = world.ask("maya.okafor", "payments-api", "payments-db:auditor", "7d");
            let (a, b) = tokio::join!(
                world.requests.submit(writer),
                world.requests.submit(auditor)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            let allowed = [&a, &b]
                .iter()
                .filter(|s| s.explanation.decision.allowed)
                .count();
            assert_eq!(
                allowed, 1,
                "{}: exactly one half of the pair is accepted",
                "x"
            );
            let refused = if a.explanation.decision.allowed {
                &b
            } else {
                &a
            };
            assert!(
                refused
                    .explanation
                    .decision
                    .policy_ids
                    .contains(&"sod_no_conflict".to_string()),
                "{:?}",
                refused.explanation.decision
            );
        }
    }
}
