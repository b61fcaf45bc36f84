//! The store contract for the outbox: notes owed to a ticket in the transaction that changes
//! its request, claimed in order with a lease, retried, dead-lettered and sent again; inbound
//! replays recognised. Run against SQLite always and PostgreSQL when `WRIT_TEST_POSTGRES_URL`
//! is set.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    ExternalRef, OutboxState, Request, RequestStatus, TicketOutcome, TicketRecord, Timestamp,
};
use writ_store::{ClaimRequest, JobFailure, Store, StoreError};
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
    each_change_of_a_ticket_born_request_owes_its_ticket_one_note_in_order,
    a_claimed_note_is_not_claimed_again_until_its_lease_passes,
    a_failing_delivery_is_retried_then_dead_lettered_and_may_be_sent_again,
    a_refused_ticket_owes_a_note_without_a_request,
    a_replayed_inbound_delivery_is_recognised,
    a_ticket_makes_one_request_even_delivered_at_once_and_a_refused_one_is_taken_in_again,
    a_webhook_endpoint_is_owed_each_event_after_it_was_configured_once,
);

const T0: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);
const MINUTE: Duration = Duration::from_secs(60);

fn ticket() -> ExternalRef {
    ExternalRef {
        system: "jira".into(),
        key: "OPS-7".into(),
        url: None,
    }
}

async fn applied(store: &dyn Store) -> Payments {
    let payments = payments();
    let event = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    store
        .apply_catalog(payments.catalog.clone(), vec![event], T0)
        .await
        .unwrap();
    payments
}

async fn submit(store: &dyn Store, p: &Payments, external_ref: Option<ExternalRef>) -> Request {
    submit_ticket(store, p, external_ref, None).await.unwrap()
}

async fn submit_ticket(
    store: &dyn Store,
    p: &Payments,
    external_ref: Option<ExternalRef>,
    ticket: Option<TicketRecord>,
) -> Result<Request, StoreError> {
    let mut request = grant_request(
        p.alice,
        p.payments_api,
        p.auditor,
        RequestStatus::PendingApproval,
    );
    request.external_ref = external_ref;
    let event = NewAuditEvent::new(T0, Actor::principal(p.alice), "request.submitted")
        .subject(SubjectRef::new("request", request.id));
    store
        .submit_request(writ_store::Submission {
            request,
            decision: writ_store::RequestDecision {
                record: serde_json::json!({ "allowed": true, "reasons": [] }),
                policy_set_hash: "ab".repeat(32),
            },
            event,
            execute: None,
            decided_on: None,
            route: None,
            review: None,
            notify: Vec::new(),
            ticket,
        })
        .await
}

fn claim(now: Timestamp) -> ClaimRequest<'static> {
    ClaimRequest {
        worker: "test",
        now,
        lease_for: MINUTE,
        limit: 10,
    }
}

async fn each_change_of_a_ticket_born_request_owes_its_ticket_one_note_in_order(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    let born = submit(&*store, &p, Some(ticket())).await;
    submit(&*store, &p, None).await;
    let cancel = NewAuditEvent::new(T0, Actor::principal(p.alice), "request.cancelled")
        .subject(SubjectRef::new("request", born.id));
    store.cancel_request(born.id, cancel).await.unwrap();

    let owed = store.outbox_page(None, None, 10).await.unwrap();
    assert_eq!(
        owed.len(),
        2,
        "two changes of the ticket-born request, none of the other"
    );
    assert!(
        owed.iter()
            .all(|e| e.ticket == Some(ticket()) && e.request == Some(born.id))
    );
    assert_eq!(
        owed.iter().map(|e| e.request_status).collect::<Vec<_>>(),
        [
            Some(RequestStatus::PendingApproval),
            Some(RequestStatus::Cancelled)
        ],
        "each note carries the status right after its change"
    );

    let first = store.claim_outbox(claim(T0)).await.unwrap();
    assert_eq!(first.len(), 1, "the later note waits for the earlier one");
    assert_eq!(first[0].id, owed[0].id);
    assert_eq!(first[0].attempts, 1);
    store.outbox_delivered(first[0].id, T0).await.unwrap();
    let second = store.claim_outbox(claim(T0)).await.unwrap();
    assert_eq!(
        second.iter().map(|e| e.id).collect::<Vec<_>>(),
        [owed[1].id]
    );
}

async fn a_claimed_note_is_not_claimed_again_until_its_lease_passes(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    submit(&*store, &p, Some(ticket())).await;
    assert_eq!(store.claim_outbox(claim(T0)).await.unwrap().len(), 1);
    assert!(store.claim_outbox(claim(T0)).await.unwrap().is_empty());
    let again = store.claim_outbox(claim(T0.plus(MINUTE))).await.unwrap();
    assert_eq!(
        again.len(),
        1,
        "a worker that died leaves its note to another"
    );
    assert_eq!(again[0].attempts, 2);
}

async fn a_failing_delivery_is_retried_then_dead_lettered_and_may_be_sent_again(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    submit(&*store, &p, Some(ticket())).await;
    let entry = store.claim_outbox(claim(T0)).await.unwrap().remove(0);
    let retry_at = T0.plus(MINUTE * 5);
    let failure = store
        .outbox_failed(entry.id, "jira answered 503", Some(retry_at), T0)
        .await
        .unwrap();
    assert_eq!(failure, JobFailure::Retried(retry_at));
    assert!(
        store
            .claim_outbox(claim(T0.plus(MINUTE)))
            .await
            .unwrap()
            .is_empty()
    );

    let entry = store.claim_outbox(claim(retry_at)).await.unwrap().remove(0);
    let failure = store
        .outbox_failed(entry.id, "jira answered 503", None, retry_at)
        .await
        .unwrap();
    assert_eq!(failure, JobFailure::DeadLettered);
    assert_eq!(
        store.undelivered_outbox().await.unwrap(),
        (0, 1),
        "none pending, one dead"
    );
    let dead = store
        .outbox_page(Some(OutboxState::Dead), None, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("jira answered 503"));
    let events = store
        .audit_events_about(&[format!("outbox:{}", entry.id)])
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "outbox.dead_lettered");

    let resend = NewAuditEvent::new(retry_at, Actor::system("test"), "outbox.redelivered")
        .subject(SubjectRef::new("outbox", entry.id));
    store
        .redeliver_outbox(entry.id, resend.clone())
        .await
        .unwrap();
    assert!(matches!(
        store.redeliver_outbox(entry.id, resend).await,
        Err(StoreError::Conflict { .. })
    ));
    let again = store.claim_outbox(claim(retry_at)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].attempts, 1,
        "a resent note counts its attempts afresh"
    );
}

async fn a_refused_ticket_owes_a_note_without_a_request(db: TestDb) {
    let store = db.store();
    let event = NewAuditEvent::new(T0, Actor::system("jira"), "ticket.refused")
        .subject(SubjectRef::new("ticket", "jira:OPS-7"))
        .data(serde_json::json!({ "reason": "no entitlement `orders/admin`" }));
    let refused = TicketRecord::received(ticket(), "carol@org.example", Default::default(), T0)
        .refused("no entitlement `orders/admin`");
    store.refuse_ticket(refused, event).await.unwrap();
    let stored = store.ticket("jira", "OPS-7").await.unwrap().unwrap();
    assert_eq!(stored.outcome, TicketOutcome::Rejected);
    assert_eq!(
        stored.reason.as_deref(),
        Some("no entitlement `orders/admin`")
    );
    assert_eq!(stored.request, None);
    assert_eq!(
        store
            .tickets_page(Some(TicketOutcome::Rejected), None, 10)
            .await
            .unwrap(),
        vec![stored]
    );
    assert!(
        store
            .tickets_page(Some(TicketOutcome::Submitted), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let owed = store.claim_outbox(claim(T0)).await.unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].ticket, Some(ticket()));
    assert_eq!(owed[0].request, None);
    let (seq, _) = store.audit_head().await.unwrap().unwrap();
    assert_eq!(
        owed[0].audit_seq, seq,
        "the note reports the refusal's audit event"
    );
}

async fn a_replayed_inbound_delivery_is_recognised(db: TestDb) {
    let store = db.store();
    assert!(store.record_inbound("jira", "d-1", T0).await.unwrap());
    assert!(!store.record_inbound("jira", "d-1", T0).await.unwrap());
    assert!(store.record_inbound("servicenow", "d-1", T0).await.unwrap());
    assert!(store.inbound_seen("jira", "d-1").await.unwrap());
    assert!(!store.inbound_seen("jira", "d-2").await.unwrap());
}

async fn a_ticket_makes_one_request_even_delivered_at_once_and_a_refused_one_is_taken_in_again(
    db: TestDb,
) {
    let store = db.store();
    let p = applied(&*store).await;
    let fresh = || TicketRecord::received(ticket(), "carol@org.example", Default::default(), T0);
    let received = |reason: &str| fresh().refused(reason);
    let refusal = || NewAuditEvent::new(T0, Actor::system("jira"), "ticket.refused");
    store
        .refuse_ticket(received("no identity"), refusal())
        .await
        .unwrap();
    let first = store.ticket("jira", "OPS-7").await.unwrap().unwrap();

    // Two deliveries of the fixed ticket at once: one request, the other write refused whole.
    let (a, b) = tokio::join!(
        submit_ticket(&*store, &p, Some(ticket()), Some(fresh())),
        submit_ticket(&*store, &p, Some(ticket()), Some(fresh())),
    );
    let (made, taken) = match (a, b) {
        (Ok(made), Err(taken)) | (Err(taken), Ok(made)) => (made, taken),
        other => panic!("exactly one submission writes: {other:?}"),
    };
    assert!(matches!(taken, StoreError::TicketTaken { .. }), "{taken}");
    assert_eq!(
        store
            .requests_page(Default::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let stored = store.ticket("jira", "OPS-7").await.unwrap().unwrap();
    assert_eq!(stored.outcome, TicketOutcome::Submitted);
    assert_eq!(stored.request, Some(made.id));
    assert_eq!(stored.reason, None);
    assert_eq!(
        (stored.id, stored.received_at),
        (first.id, first.received_at),
        "the record stays the one first received"
    );

    let again = store
        .refuse_ticket(received("no identity"), refusal())
        .await;
    assert!(
        matches!(again, Err(StoreError::TicketTaken { .. })),
        "{again:?}"
    );
    assert_eq!(store.ticket("jira", "OPS-7").await.unwrap(), Some(stored));
}

async fn a_webhook_endpoint_is_owed_each_event_after_it_was_configured_once(db: TestDb) {
    let store = db.store();
    let p = applied(&*store).await;
    let endpoint = "webhook:siem";
    assert_eq!(
        store.fan_out_events(endpoint, 100, T0).await.unwrap(),
        0,
        "starts at the head"
    );
    let request = submit(&*store, &p, None).await;
    let noise = NewAuditEvent::new(T0, Actor::system("outbox"), "outbox.redelivered");
    store.append_audit(vec![noise]).await.unwrap();
    assert_eq!(store.fan_out_events(endpoint, 100, T0).await.unwrap(), 1);
    assert_eq!(
        store.fan_out_events(endpoint, 100, T0).await.unwrap(),
        0,
        "owed once"
    );
    let owed = store.outbox_page(None, None, 10).await.unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].destination, endpoint);
    assert_eq!(owed[0].request, Some(request.id));
    assert_eq!(owed[0].request_status, Some(RequestStatus::PendingApproval));
}
