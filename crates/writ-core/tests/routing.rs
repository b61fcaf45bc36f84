//! Routing of pending requests through the use cases, on the example organisation: assignees
//! round-robin among eligible approvers, SLA due times by category, escalation and expiry of
//! overdue requests, cancellation and plan changes. On SQLite and (when configured) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod world;

use std::time::Duration;

use world::World;
use writ_core::CoreError;
use writ_core::requests::{Cancel, ChangePlan, Decided, OverdueSweep};
use writ_domain::{Request, RequestStatus, SlaPolicy, Ttl};

const DAY: Duration = Duration::from_secs(86_400);

async fn actions(world: &World, request: &Request) -> Vec<String> {
    let needle = request.id.to_string();
    world
        .db
        .store()
        .audit_page(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.subjects.iter().any(|s| s.contains(&needle)))
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn a_group_stage_is_assigned_round_robin_and_never_to_an_earlier_stages_approver() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let (sam, priya) = (world.principal("sam.torres"), world.principal("priya.nair"));
        // Ravi owns the identity, the entitlement and the system: both stages are security's.
        let ask = || world.ask("ravi.shah", "payments-api", "payments-db:writer", "7d");
        let first = world.submit(ask()).await.request;
        let second = world.submit(ask()).await.request;
        let mut assignees = vec![first.assignee.unwrap(), second.assignee.unwrap()];
        assignees.sort();
        let mut security = vec![sam, priya];
        security.sort();
        assert_eq!(assignees, security, "two requests, two security approvers");

        // Production access is privileged: due within a day.
        let sla = SlaPolicy::default();
        assert_eq!(first.sla_due, Some(first.created_at.plus(sla.privileged)));

        let approver = first.assignee.unwrap();
        let name = if approver == sam {
            "sam.torres"
        } else {
            "priya.nair"
        };
        let next = world.approve(name, &first).await.unwrap();
        assert!(matches!(next, Decided::NextStage(_)), "{next:?}");
        let reloaded = world.reload(&first).await;
        let other = if approver == sam { priya } else { sam };
        assert_eq!(
            reloaded.assignee,
            Some(other),
            "the second stage goes to someone who did not decide the first"
        );
    }
}

#[tokio::test]
async fn an_overdue_stage_escalates_to_the_next_group_then_expires() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let ravi = world.principal("ravi.shah");
        // Maya asks; Ravi owns the identity, the entitlement and the system.
        let request = world
            .submit(world.ask("maya.okafor", "payments-api", "payments-db:reader", "7d"))
            .await
            .request;
        assert_eq!(request.status, RequestStatus::PendingApproval);
        assert_eq!(request.assignee, Some(ravi));
        let early = world.requests.sweep_overdue().await.unwrap();
        assert_eq!(early, OverdueSweep::default(), "nothing is due yet");
        let refused = world.approve("sam.torres", &request).await.unwrap_err();
        assert!(matches!(refused, CoreError::Refused(_)), "{refused}");

        world.clock.advance(DAY + Duration::from_secs(1));
        let swept = world.requests.sweep_overdue().await.unwrap();
        assert_eq!(
            swept,
            OverdueSweep {
                escalated: 1,
                ..OverdueSweep::default()
            }
        );
        let escalated = world.reload(&request).await;
        assert_eq!(escalated.status, RequestStatus::PendingApproval);
        assert_ne!(escalated.assignee, Some(ravi), "it goes to security");
        assert!(escalated.escalation > 0);
        assert!(
            actions(&world, &request)
                .await
                .contains(&"request.escalated".into())
        );
        assert_eq!(
            world.requests.sweep_overdue().await.unwrap(),
            OverdueSweep::default(),
            "escalated once: due again a day later"
        );

        // Security may now decide the owner's stage.
        let decided = world.approve("sam.torres", &request).await;
        assert!(matches!(decided, Ok(Decided::NextStage(_))), "{decided:?}");

        // A second request nobody decides: escalated, then expired.
        let idle = world
            .submit(world.ask("maya.okafor", "payments-api", "payments-db:reader", "7d"))
            .await
            .request;
        world.clock.advance(DAY + Duration::from_secs(1));
        world.requests.sweep_overdue().await.unwrap();
        assert_eq!(
            world.reload(&idle).await.status,
            RequestStatus::PendingApproval
        );
        world.clock.advance(DAY + Duration::from_secs(1));
        let swept = world.requests.sweep_overdue().await.unwrap();
        assert!(swept.expired >= 1, "{swept:?}");
        assert_eq!(world.reload(&idle).await.status, RequestStatus::Expired);
        assert!(
            actions(&world, &idle)
                .await
                .contains(&"request.expired".into())
        );
        let late = world.approve("priya.nair", &idle).await.unwrap_err();
        assert!(matches!(late, CoreError::NotPending { .. }), "{late}");
    }
}

#[tokio::test]
async fn the_requester_or_an_admin_cancels_before_execution_and_nobody_else() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let request = world
            .submit(world.ask("maya.okafor", "payments-api", "payments-db:reader", "7d"))
            .await
            .request;
        let cancel = |by: &str| Cancel {
            by: world.principal(by),
            request: request.id,
            reason: Some("asked on the wrong identity".into()),
        };
        let stranger = world
            .requests
            .cancel(cancel("sam.torres"))
            .await
            .unwrap_err();
        assert!(matches!(stranger, CoreError::Forbidden(_)), "{stranger}");
        let from = world.requests.cancel(cancel("maya.okafor")).await.unwrap();
        assert_eq!(from, RequestStatus::PendingApproval);
        assert_eq!(
            world.reload(&request).await.status,
            RequestStatus::Cancelled
        );
        assert!(
            actions(&world, &request)
                .await
                .contains(&"request.cancelled".into())
        );
        let again = world
            .requests
            .cancel(cancel("maya.okafor"))
            .await
            .unwrap_err();
        assert!(
            again.to_string().contains("can no longer be cancelled"),
            "{again}"
        );

        // An admin may cancel someone else's request.
        let other = world
            .submit(world.ask("maya.okafor", "payments-api", "payments-db:reader", "7d"))
            .await
            .request;
        let by_admin = Cancel {
            by: world.principal("jo.becker"),
            request: other.id,
            reason: None,
        };
        world.requests.cancel(by_admin).await.unwrap();
        assert_eq!(world.reload(&other).await.status, RequestStatus::Cancelled);
    }
}

#[tokio::test]
async fn a_changed_plan_voids_earlier_approvals_and_is_decided_by_policy_again() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let request = world
            .submit(world.ask("ravi.shah", "payments-api", "payments-db:writer", "7d"))
            .await
            .request;
        let approver = if request.assignee == Some(world.principal("sam.torres")) {
            "sam.torres"
        } else {
            "priya.nair"
        };
        let first = world.approve(approver, &request).await.unwrap();
        assert!(matches!(first, Decided::NextStage(_)), "{first:?}");

        let change = |ttl: &str| ChangePlan {
            by: world.principal("ravi.shah"),
            request: request.id,
            ttl: Some(Ttl::parse(ttl).unwrap()),
            end: None,
        };
        let over_max = world
            .requests
            .change_plan(change("120d"))
            .await
            .unwrap_err();
        assert!(matches!(over_max, CoreError::Refused(_)), "{over_max}");
        assert_eq!(world.reload(&request).await.plan_hash, request.plan_hash);
        let not_theirs = ChangePlan {
            by: world.principal("sam.torres"),
            ..change("3d")
        };
        let refused = world.requests.change_plan(not_theirs).await.unwrap_err();
        assert!(matches!(refused, CoreError::Forbidden(_)), "{refused}");

        world.requests.change_plan(change("3d")).await.unwrap();
        let changed = world.reload(&request).await;
        assert_ne!(changed.plan_hash, request.plan_hash);
        assert_eq!(changed.requested_ttl, Some(Ttl::parse("3d").unwrap()));
        assert!(
            actions(&world, &request)
                .await
                .contains(&"request.plan_changed".into())
        );

        // An approval of the old plan is refused; the new plan starts at its first stage,
        // which the earlier approver may decide again.
        let stale = world.approve("priya.nair", &request).await.unwrap_err();
        assert!(stale.to_string().contains("changed after"), "{stale}");
        let again = world.approve(approver, &changed).await.unwrap();
        assert!(
            matches!(again, Decided::NextStage(_)),
            "stage one again: {again:?}"
        );
        let other = if approver == "sam.torres" {
            "priya.nair"
        } else {
            "sam.torres"
        };
        assert_eq!(
            world.approve(other, &changed).await.unwrap(),
            Decided::Approved
        );
    }
}
