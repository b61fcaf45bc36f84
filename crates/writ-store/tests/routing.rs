//! The store contract for routing pending requests: round-robin assignment, overdue reads,
//! escalation and expiry guarded by what the sweep saw, cancellation. Run against SQLite
//! always and PostgreSQL when `WRIT_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent};
use writ_domain::{Request, RequestStatus, Timestamp};
use writ_store::{Route, Seen, Store, StoreError};
use writ_testkit::TestDb;
use writ_testkit::catalog::{Payments, grant_request, payments};

macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(writ_testkit::TestDb::sqlite().await).await;
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = writ_testkit::TestDb::postgres().await {
                    super::$name(db).await;
                }
            })+
        }
    };
}

contract!(
    a_pool_shares_concurrent_requests_round_robin,
    an_overdue_request_escalates_or_expires_once,
    a_request_is_cancelled_once_and_never_after_execution_began,
    group_members_are_the_active_principals_of_the_group,
);

const T0: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);
const HOUR: Duration = Duration::from_secs(3600);

async fn applied(store: &dyn Store) -> Payments {
    let payments = payments();
    let event = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    store
        .apply_catalog(payments.catalog.clone(), vec![event], T0)
        .await
        .unwrap();
    payments
}

fn submission(
    request: Request,
    event: NewAuditEvent,
    route: Option<Route>,
) -> writ_store::Submission {
    writ_store::Submission {
        request,
        decision: decision(),
        event,
        execute: None,
        decided_on: None,
        route,
        review: None,
        notify: Vec::new(),
        ticket: None,
    }
}

fn decision() -> writ_store::RequestDecision {
    writ_store::RequestDecision {
        record: serde_json::json!({ "allowed": true, "reasons": [] }),
        policy_set_hash: "ab".repeat(32),
    }
}

async fn submit(store: &dyn Store, p: &Payments, route: Route) -> Request {
    let request = grant_request(
        p.alice,
        p.payments_api,
        p.auditor,
        RequestStatus::PendingApproval,
    );
    let event = NewAuditEvent::new(T0, Actor::principal(p.alice), "request.submitted");
    store
        .submit_request(submission(request, event, Some(route)))
        .await
        .unwrap()
}

fn route(p: &Payments, due: Timestamp) -> Route {
    Route {
        pool: Some("group:payments".into()),
        candidates: vec![p.alice, p.bob, p.sam],
        sla_due: due,
        escalation: 0,
    }
}

async fn a_pool_shares_concurrent_requests_round_robin(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    let submitters: Vec<_> = (0..9)
        .map(|_| {
            let store = store.clone();
            let route = route(&p, T0.plus(HOUR));
            let request = grant_request(
                p.alice,
                p.payments_api,
                p.auditor,
                RequestStatus::PendingApproval,
            );
            tokio::spawn(async move {
                let event = NewAuditEvent::new(T0, Actor::system("test"), "request.submitted");
                store
                    .submit_request(submission(request, event, Some(route)))
                    .await
                    .unwrap()
                    .id
            })
        })
        .collect();
    let mut assignees = Vec::new();
    for submitter in submitters {
        let id = submitter.await.unwrap();
        let (stored, _) = store.request(id).await.unwrap().unwrap();
        assert_eq!(stored.sla_due, Some(T0.plus(HOUR)));
        assignees.push(stored.assignee.unwrap());
    }
    for member in [p.alice, p.bob, p.sam] {
        let turns = assignees.iter().filter(|a| **a == member).count();
        assert_eq!(
            turns, 3,
            "each of three members gets three of nine requests"
        );
    }

    let alone = Route {
        pool: None,
        candidates: vec![p.sam],
        ..route(&p, T0.plus(HOUR))
    };
    assert_eq!(submit(&*store, &p, alone).await.assignee, Some(p.sam));
    let nobody = Route {
        candidates: Vec::new(),
        ..route(&p, T0.plus(HOUR))
    };
    assert_eq!(submit(&*store, &p, nobody).await.assignee, None);
}

async fn an_overdue_request_escalates_or_expires_once(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    let due = T0.plus(HOUR);
    let request = submit(&*store, &p, route(&p, due)).await;
    assert!(store.overdue_requests(T0, 10).await.unwrap().is_empty());
    let overdue = store.overdue_requests(due, 10).await.unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].id, request.id);

    let seen = Seen {
        request: request.id,
        sla_due: due,
        escalation: 0,
    };
    let escalated = Route {
        pool: None,
        candidates: vec![p.sam],
        sla_due: due.plus(HOUR),
        escalation: 1,
    };
    let event = || NewAuditEvent::new(due, Actor::system("sla"), "request.escalated");
    store
        .escalate_request(seen, escalated.clone(), event())
        .await
        .unwrap();
    let again = store.escalate_request(seen, escalated, event()).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    let (stored, _) = store.request(request.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.assignee, stored.escalation, stored.sla_due),
        (Some(p.sam), 1, Some(due.plus(HOUR)))
    );
    assert_eq!(stored.status, RequestStatus::PendingApproval);
    assert!(store.overdue_requests(due, 10).await.unwrap().is_empty());

    let seen = Seen {
        request: request.id,
        sla_due: due.plus(HOUR),
        escalation: 1,
    };
    let expired = NewAuditEvent::new(due.plus(HOUR), Actor::system("sla"), "request.expired");
    store.expire_request(seen, expired.clone()).await.unwrap();
    let (stored, _) = store.request(request.id).await.unwrap().unwrap();
    assert_eq!(stored.status, RequestStatus::Expired);
    let again = store.expire_request(seen, expired).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert!(
        store
            .overdue_requests(due.plus(HOUR * 10), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_request_is_cancelled_once_and_never_after_execution_began(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    let request = submit(&*store, &p, route(&p, T0.plus(HOUR))).await;
    let event = || NewAuditEvent::new(T0, Actor::principal(p.alice), "request.cancelled");
    assert_eq!(
        store.cancel_request(request.id, event()).await.unwrap(),
        RequestStatus::PendingApproval
    );
    let (stored, _) = store.request(request.id).await.unwrap().unwrap();
    assert_eq!(stored.status, RequestStatus::Cancelled);
    let again = store.cancel_request(request.id, event()).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );

    let executing = grant_request(p.alice, p.payments_api, p.writer, RequestStatus::Executing);
    let submitted = NewAuditEvent::new(T0, Actor::principal(p.alice), "request.submitted");
    let executing = store
        .submit_request(submission(executing, submitted, None))
        .await
        .unwrap();
    let refused = store.cancel_request(executing.id, event()).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );
}

async fn group_members_are_the_active_principals_of_the_group(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    let mut expected = vec![p.alice, p.bob];
    expected.sort();
    let members: Vec<_> = store
        .principals_in_group("payments")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(members, expected);

    let mut catalog = p.catalog.clone();
    let bob = catalog
        .principals
        .iter_mut()
        .find(|m| m.id == p.bob)
        .unwrap();
    bob.active = false;
    let event = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    store.apply_catalog(catalog, vec![event], T0).await.unwrap();
    let members: Vec<_> = store
        .principals_in_group("payments")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(members, [p.alice]);
    assert!(
        store
            .principals_in_group("nobody")
            .await
            .unwrap()
            .is_empty()
    );
}
