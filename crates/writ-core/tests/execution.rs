//! Verified fulfilment end to end through the use cases: submit, approve, the job runner
//! executes on a real target and reads it back; only then is the request fulfilled.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::sync::Arc;
use std::time::Duration;

use org::{Org, PgTarget, catalog_yaml, local_target};
use writ_connect::Connector;
use writ_core::Clock;
use writ_core::execute::Executed;
use writ_core::requests::{Decided, NewRequest};
use writ_domain::audit::Actor;
use writ_domain::job::{JobPayload, NewJob};
use writ_domain::{Request, RequestKind, RequestStatus};
use writ_testkit::TestDb;

#[tokio::test]
async fn an_approved_request_is_fulfilled_only_after_the_local_target_reads_it_back() {
    for db in TestDb::each().await {
        let (_dir, target, config) = local_target("x_", true).await;
        let org = Org::new(db, "x_", &config, "development").await;

        let request = org.submit().await;
        assert_eq!(org.status(&request).await, RequestStatus::PendingApproval);
        assert_eq!(
            org.runner.run_once().await.unwrap(),
            0,
            "nothing runs before approval"
        );
        assert_eq!(
            org.approve("alice@org.example", &request).await.unwrap(),
            Decided::Approved
        );

        let approved_at = org.clock.now();
        org.clock.advance(Duration::from_secs(30));
        assert_eq!(org.runner.run_once().await.unwrap(), 1);
        assert_eq!(org.status(&request).await, RequestStatus::Fulfilled);
        assert!(
            target
                .holds(&"x_svc".parse().unwrap(), &"x_readers".parse().unwrap())
                .await
                .unwrap()
        );
        let actions = org.audit_actions().await;
        assert!(
            actions.ends_with(&["request.executing".into(), "request.fulfilled".into()]),
            "{actions:?}"
        );
        let fulfilled = org
            .db
            .store()
            .audit_page(0, 100_000)
            .await
            .unwrap()
            .pop()
            .unwrap();
        let data: serde_json::Value = serde_json::from_str(&fulfilled.data).unwrap();
        let expected_end = approved_at.plus(Duration::from_secs(30 + 8 * 3600));
        assert_eq!(
            data["expires_at"],
            expected_end.to_string(),
            "the TTL counts from the read-back"
        );

        // Replays change nothing: the queue refuses a second job, a direct re-run is a no-op.
        let job = NewJob::new(
            JobPayload::ExecuteRequest {
                request_id: request.id,
                plan_hash: request.plan_hash.unwrap(),
            },
            org.clock.now(),
        );
        let event = writ_domain::audit::NewAuditEvent::new(
            org.clock.now(),
            Actor::system("test"),
            "job.enqueued",
        );
        assert!(matches!(
            org.db.store().enqueue_job(job, event).await.unwrap(),
            writ_store::Enqueued::Replay(_)
        ));
        let again = org
            .executor
            .execute(request.id, request.plan_hash.unwrap())
            .await
            .unwrap();
        assert_eq!(again, Executed::Replay(RequestStatus::Fulfilled));
        assert_eq!(
            org.audit_actions().await.len(),
            actions.len(),
            "a replay writes nothing"
        );
    }
}

#[tokio::test]
async fn a_request_cancelled_after_approval_is_never_executed() {
    for db in TestDb::each().await {
        let (_dir, target, config) = local_target("c_", true).await;
        let org = Org::new(db, "c_", &config, "development").await;
        let carol = org.id_of("carol@org.example").await;
        let cancel = |request: &Request| writ_core::requests::Cancel {
            by: carol,
            request: request.id,
            reason: Some("the report moved to another service".into()),
        };
        let request = org.submit().await;
        org.approve("alice@org.example", &request).await.unwrap();
        let from = org.requests.cancel(cancel(&request)).await.unwrap();
        assert_eq!(from, RequestStatus::Approved);
        assert_eq!(org.runner.run_once().await.unwrap(), 1, "its job runs");
        assert_eq!(org.status(&request).await, RequestStatus::Cancelled);
        assert!(
            !target
                .holds(&"c_svc".parse().unwrap(), &"c_readers".parse().unwrap())
                .await
                .unwrap(),
            "and changes nothing on the target"
        );

        // Once executed, cancelling is refused: the access is undone by a revocation.
        let fulfilled = org.submit().await;
        org.approve("alice@org.example", &fulfilled).await.unwrap();
        org.runner.run_once().await.unwrap();
        assert_eq!(org.status(&fulfilled).await, RequestStatus::Fulfilled);
        let late = org.requests.cancel(cancel(&fulfilled)).await.unwrap_err();
        assert!(late.to_string().contains("fulfilled"), "{late}");
    }
}

#[tokio::test]
async fn a_missing_entitlement_on_the_target_fails_the_request_with_the_error() {
    let (_dir, _target, config) = local_target("y_", false).await;
    let org = Org::new(TestDb::sqlite().await, "y_", &config, "development").await;
    let request = org.submit().await;
    org.approve("alice@org.example", &request).await.unwrap();
    assert_eq!(org.runner.run_once().await.unwrap(), 1);
    assert_eq!(org.status(&request).await, RequestStatus::Failed);
    assert!(
        org.audit_actions()
            .await
            .contains(&"request.failed".to_string())
    );
    assert_eq!(
        org.runner.run_once().await.unwrap(),
        0,
        "a permanent failure is not retried"
    );
}

#[tokio::test]
async fn a_production_grant_appears_in_pg_auth_members_after_two_approvals() {
    let Some(target) = PgTarget::new().await else {
        return;
    };
    let org = Org::new(
        TestDb::postgres().await.unwrap(),
        &target.prefix,
        &target.config(5432),
        "production",
    )
    .await;
    let request = org.submit().await;
    assert_eq!(
        org.approve("alice@org.example", &request).await.unwrap(),
        Decided::NextStage("security".parse().unwrap())
    );
    assert_eq!(
        org.runner.run_once().await.unwrap(),
        0,
        "one approval is not enough"
    );
    assert!(!target.is_member());
    assert_eq!(
        org.approve("sam@org.example", &request).await.unwrap(),
        Decided::Approved
    );
    assert_eq!(org.runner.run_once().await.unwrap(), 1);
    assert!(target.is_member(), "the membership is live");
    assert_eq!(org.status(&request).await, RequestStatus::Fulfilled);
}

#[tokio::test]
async fn an_unreachable_target_keeps_the_request_executing_until_it_is_back() {
    let Some(target) = PgTarget::new().await else {
        return;
    };
    let org = Org::new(
        TestDb::postgres().await.unwrap(),
        &target.prefix,
        &target.config(1),
        "development",
    )
    .await;
    let request = org.submit().await;
    org.approve("alice@org.example", &request).await.unwrap();
    assert_eq!(org.runner.run_once().await.unwrap(), 1);
    assert_eq!(
        org.status(&request).await,
        RequestStatus::Executing,
        "a transient failure is retried"
    );
    assert_eq!(
        org.runner.run_once().await.unwrap(),
        0,
        "not before its backoff"
    );

    // The operator fixes the port; the retry after the backoff completes it.
    let yaml = catalog_yaml(&target.prefix, &target.config(5432), "development");
    writ_core::catalog::apply(
        &*org.db.store(),
        &*org.clock,
        Actor::system("test"),
        "org.yaml",
        &yaml,
        false,
    )
    .await
    .unwrap();
    org.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(org.runner.run_once().await.unwrap(), 1);
    assert_eq!(org.status(&request).await, RequestStatus::Fulfilled);
    assert!(target.is_member());
}

#[tokio::test]
async fn two_approvers_deciding_the_last_stage_at_once_give_one_execution() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("z_", true).await;
        let org = Org::new(db, "z_", &config, "production").await;
        let request = org.submit().await;
        org.approve("alice@org.example", &request).await.unwrap();
        let (sam, priya) = tokio::join!(
            org.approve("sam@org.example", &request),
            org.approve("priya@org.example", &request)
        );
        let approved = [&sam, &priya]
            .iter()
            .filter(|r| matches!(r, Ok(Decided::Approved)))
            .count();
        assert_eq!(approved, 1, "{sam:?} {priya:?}");
        assert_eq!(org.runner.run_once().await.unwrap(), 1, "one execution");
        assert_eq!(org.runner.run_once().await.unwrap(), 0);
        assert_eq!(org.status(&request).await, RequestStatus::Fulfilled);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_approvals_all_complete() {
    // More concurrent deciders than the store has read connections: none may wait on another.
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("c_", true).await;
        let org = Arc::new(Org::new(db, "c_", &config, "development").await);
        let mut pending = Vec::new();
        for _ in 0..12 {
            pending.push(org.submit().await);
        }
        let deciders: Vec<_> = pending
            .into_iter()
            .map(|request| {
                let org = org.clone();
                tokio::spawn(async move { org.approve("alice@org.example", &request).await })
            })
            .collect();
        let started = std::time::Instant::now();
        for decider in deciders {
            assert_eq!(decider.await.unwrap().unwrap(), Decided::Approved);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "approvals waited on each other"
        );
    }
}

#[tokio::test]
async fn revoking_access_never_granted_succeeds_and_grants_nothing() {
    let (_dir, target, config) = local_target("r_", true).await;
    let org = Org::new(TestDb::sqlite().await, "r_", &config, "development").await;
    let catalog = org.db.store().catalog().await.unwrap();
    let submitted = org
        .requests
        .submit(NewRequest {
            requester: org.id_of("alice@org.example").await,
            kind: RequestKind::Revoke,
            identity: catalog.identities[0].id,
            entitlement: Some(catalog.entitlements[0].id),
            justification: "no longer needed".into(),
            ttl: None,
            end: None,
            external_ref: None,
            new_owner: None,
        })
        .await
        .unwrap();
    assert!(
        submitted.explanation.decision.allowed,
        "{:?}",
        submitted.explanation.decision
    );
    assert_eq!(
        submitted.request.status,
        RequestStatus::Approved,
        "a revocation needs no approval"
    );
    assert_eq!(org.runner.run_once().await.unwrap(), 1);
    assert_eq!(
        org.status(&submitted.request).await,
        RequestStatus::Fulfilled,
        "revoking access that was never there succeeds"
    );
    let holds = target
        .holds(&"r_svc".parse().unwrap(), &"r_readers".parse().unwrap())
        .await;
    assert!(!holds.unwrap_or(false), "nothing was granted");
}
