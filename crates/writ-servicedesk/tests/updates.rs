//! Tickets delivered again, through Jira: every ticket is stored, refused ones included; an
//! update that fixes a refused ticket makes it a request; approvers added later are evidence
//! and count where policy lets them; a redelivery after a crash, or two deliveries at once,
//! never make a second request. On SQLite, and PostgreSQL when configured.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;

use support::fake_desk::FakeDesk;
use support::jira::{app_on, comment_text, issue_event, now_ms, settings, signed};
use support::{deliver, only_request, post, request_count, worker};
use writ_core::intake::{Intake, Received};
use writ_domain::{RequestStatus, TicketOutcome};
use writ_servicedesk::jira::JiraDesk;
use writ_testkit::{TestApp, TestDb};

const CAROL: &str = "carol@org.example";

async fn send(app: &TestApp, body: &[u8], delivery: &str) -> serde_json::Value {
    let (status, answer) = post(app, "/webhooks/jira", &signed(body, delivery), body).await;
    assert_eq!(status, 200, "delivery `{delivery}`: {answer}");
    answer
}

/// Carol's ticket `OPS-5`, `created` or `updated`, sent now.
fn ticket(app: &TestApp, event: &str, entitlement: &str, approvers: &[&str]) -> Vec<u8> {
    issue_event(event, "OPS-5", CAROL, entitlement, approvers, now_ms(app))
}

fn update(app: &TestApp, entitlement: &str, approvers: &[&str]) -> Vec<u8> {
    ticket(app, "updated", entitlement, approvers)
}

async fn approvers_of(app: &TestApp, request: writ_domain::RequestId) -> Vec<String> {
    let mut emails = Vec::new();
    for approval in app.state.store.approvals_of(request).await.unwrap() {
        let principal = app.state.store.principal(approval.approver).await.unwrap();
        emails.push(principal.unwrap().email.to_string());
    }
    emails
}

#[tokio::test]
async fn a_refused_ticket_is_stored_with_its_reason_and_an_update_that_fixes_it_is_a_request() {
    for db in TestDb::each().await {
        let desk = FakeDesk::start().await;
        let app = app_on(db, &desk, false).await;
        let created = ticket(&app, "created", "target/everything", &[]);
        assert_eq!(send(&app, &created, "d-1").await["outcome"], "refused");

        let rejected = app
            .state
            .store
            .tickets_page(Some(TicketOutcome::Rejected), None, 10)
            .await
            .unwrap();
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        let reason = "`target/everything` is not a catalog entitlement";
        assert!(rejected[0].reason.as_deref().unwrap().contains(reason));
        assert_eq!(rejected[0].reporter, CAROL);
        assert_eq!(
            rejected[0].fields.entitlement.as_deref(),
            Some("target/everything")
        );
        assert_eq!(rejected[0].request, None);

        // Jira sends an update for writ's own comment: the same refusal is not told again.
        let unchanged = update(&app, "target/everything", &[]);
        assert_eq!(send(&app, &unchanged, "d-2").await["outcome"], "refused");
        let jira = worker(&app, "jira", Arc::new(JiraDesk::new(settings(&desk))));
        deliver(&jira).await;
        let comments = desk.calls_of("comment");
        assert_eq!(comments.len(), 1, "one note per refusal");
        assert!(comment_text(&comments[0]).contains(reason));

        let fixed = update(&app, "target/readers", &[]);
        let answer = send(&app, &fixed, "d-3").await;
        assert_eq!(answer["outcome"], "submitted", "{answer}");
        let request = only_request(&app).await;
        assert_eq!(request.status, RequestStatus::PendingApproval);
        let ticket = app
            .state
            .store
            .ticket("jira", "OPS-5")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ticket.outcome, TicketOutcome::Submitted);
        assert_eq!(ticket.request, Some(request.id));
        assert_eq!(ticket.reason, None);
        assert_eq!(ticket.id, rejected[0].id, "still the ticket first received");
        deliver(&jira).await;
        let last = comment_text(desk.calls_of("comment").last().unwrap());
        assert!(last.contains("waiting for approval"), "{last}");
    }
}

#[tokio::test]
async fn approvers_added_later_are_evidence_and_count_once_where_policy_lets_them() {
    for db in TestDb::each().await {
        let desk = FakeDesk::start().await;
        let app = app_on(db, &desk, true).await;
        let created = ticket(&app, "created", "target/readers", &[]);
        assert_eq!(send(&app, &created, "d-1").await["outcome"], "submitted");
        let request = only_request(&app).await;

        // The requester approving their own ticket is evidence, never a decision.
        let answer = send(&app, &update(&app, "target/readers", &[CAROL]), "d-2").await;
        assert_eq!(answer["outcome"], "updated", "{answer}");
        assert!(approvers_of(&app, request.id).await.is_empty());

        let both = update(&app, "target/readers", &[CAROL, "alice@org.example"]);
        let answer = send(&app, &both, "d-3").await;
        assert_eq!(answer["outcome"], "updated", "{answer}");
        assert_eq!(approvers_of(&app, request.id).await, ["alice@org.example"]);
        let evidence = app
            .state
            .store
            .audit_events_about(&[format!("request:{}", request.id)])
            .await
            .unwrap();
        let received: Vec<_> = evidence
            .iter()
            .filter(|e| e.action == "ticket.approvals_received")
            .collect();
        assert_eq!(
            received.len(),
            2,
            "one record per update that brought approvers"
        );
        let alice: serde_json::Value = serde_json::from_str(&received[1].data).unwrap();
        assert_eq!(alice["approvers"].as_array().unwrap().len(), 1, "{alice}");
        assert_eq!(alice["approvers"][0]["counted"], true, "{alice}");

        // Sent again: nothing new, nothing counted twice.
        let answer = send(&app, &both, "d-4").await;
        assert_eq!(answer["outcome"], "unchanged", "{answer}");
        assert_eq!(approvers_of(&app, request.id).await, ["alice@org.example"]);

        let security = update(
            &app,
            "target/readers",
            &[CAROL, "alice@org.example", "sam@org.example"],
        );
        let answer = send(&app, &security, "d-5").await;
        assert_eq!(answer["status"], "approved", "{answer}");

        let late = update(&app, "target/readers", &["priya@org.example"]);
        let answer = send(&app, &late, "d-6").await;
        assert_eq!(answer["outcome"], "unchanged", "past approval: {answer}");
        assert_eq!(approvers_of(&app, request.id).await.len(), 2);
        assert_eq!(request_count(&app).await, 1);
    }
}

#[tokio::test]
async fn a_redelivery_after_a_crash_or_two_deliveries_at_once_make_one_request() {
    for db in TestDb::each().await {
        let desk = FakeDesk::start().await;
        let app = app_on(db, &desk, true).await;
        let created = ticket(&app, "created", "target/readers", &["alice@org.example"]);
        // The intake ran and committed, then writ died before recording the delivery id.
        let headers = signed(&created, "d-1");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let inbound = writ_servicedesk::jira::accept(
            &settings(&desk),
            header,
            &created,
            writ_core::Clock::now(&*app.clock),
        )
        .unwrap();
        let intake = Intake::new(
            app.state.store.clone(),
            app.state.requests.clone(),
            app.clock.clone(),
        )
        .counting_desk_approvals(true);
        let received = intake.receive(inbound.ticket.unwrap()).await.unwrap();
        assert!(matches!(received, Received::Submitted(_)), "{received:?}");
        assert!(!app.state.store.inbound_seen("jira", "d-1").await.unwrap());

        // Jira retries the delivery: handled as an update of the ticket, not a new one.
        let answer = send(&app, &created, "d-1").await;
        assert_eq!(answer["outcome"], "unchanged", "{answer}");
        assert_eq!(send(&app, &created, "d-1").await["outcome"], "replay");
        let request = only_request(&app).await;
        assert_eq!(
            approvers_of(&app, request.id).await.len(),
            1,
            "counted once"
        );

        // A new ticket delivered twice at once under two ids: one request; the other delivery
        // is an update, or, while the first one's write waits for its commit, answered 409
        // and its retry is an update.
        let other = issue_event(
            "created",
            "OPS-6",
            CAROL,
            "target/readers",
            &[],
            now_ms(&app),
        );
        let (two, three) = (signed(&other, "d-2"), signed(&other, "d-3"));
        let (a, b) = tokio::join!(
            post(&app, "/webhooks/jira", &two, &other),
            post(&app, "/webhooks/jira", &three, &other),
        );
        let (first, second, loser) = if a.1["outcome"] == "submitted" {
            (a, b, "d-3")
        } else {
            (b, a, "d-2")
        };
        assert_eq!(
            (first.0, &first.1["outcome"]),
            (200, &"submitted".into()),
            "{first:?}"
        );
        match second.0 {
            200 => assert_eq!(second.1["outcome"], "unchanged", "{second:?}"),
            409 => assert_eq!(send(&app, &other, loser).await["outcome"], "unchanged"),
            _ => panic!("{second:?}"),
        }
        assert_eq!(request_count(&app).await, 2);
    }
}
