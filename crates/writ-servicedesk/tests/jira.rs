//! Jira end to end: a signed `jira:issue_created` delivery becomes a request, its approvals and
//! fulfilment are written back to a fake Jira as comments in Atlassian Document Format with
//! the "Done" transition; bad signatures, stale and replayed deliveries, unmapped fields and
//! unknown reporters; Jira down during write-back.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::fake_desk::FakeDesk;
use support::jira::{
    app_counting_approvals, app_with_jira, comment_text, issue_created, now_ms, settings, signed,
};
use support::{approve_by_owner_and_security, deliver, only_request, post, request_count, worker};
use writ_domain::{OutboxState, RequestStatus};
use writ_servicedesk::jira::JiraDesk;
use writ_servicedesk::signature::hmac_sha256;

#[tokio::test]
async fn a_ticket_becomes_a_request_whose_fulfilment_is_written_back_verified() {
    let desk = FakeDesk::start().await;
    let app = app_with_jira(&desk).await;
    let body = issue_created(
        "OPS-42",
        "carol@org.example",
        "target/readers",
        now_ms(&app),
    );
    let (status, answer) = post(&app, "/webhooks/jira", &signed(&body, "d-1"), &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "submitted");
    assert_eq!(answer["status"], "pending_approval");

    let request = only_request(&app).await;
    let carol = app
        .state
        .store
        .principal_by_email("carol@org.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.requester, carol.id, "the reporter is the requester");
    assert_eq!(
        request.requested_ttl.map(|t| t.to_string()),
        Some("8h".into())
    );
    assert_eq!(
        request.justification,
        "svc reads the target for the nightly export"
    );
    assert_eq!(request.external_ref.as_ref().unwrap().key, "OPS-42");

    approve_by_owner_and_security(&app, request.id).await;
    app.run_jobs().await;
    let worker = worker(&app, "jira", Arc::new(JiraDesk::new(settings(&desk))));
    deliver(&worker).await;

    let comments = desk.calls_of("comment");
    assert!(comments.iter().all(|c| c.key == "OPS-42"));
    let texts: Vec<String> = comments.iter().map(comment_text).collect();
    assert!(texts[0].contains("waiting for approval"), "{texts:#?}");
    let last = texts.last().unwrap();
    let number = request.number.to_string();
    for fact in [
        format!("{number}: done; the live state was read back and matches"),
        "Entitlement: target/readers".into(),
        "Identity: svc".into(),
        "Requester: carol@org.example".into(),
        "Approvers: alice@org.example, sam@org.example".into(),
        "TTL: 8h".into(),
        "Verification: verified: read back from the live system".into(),
    ] {
        assert!(
            last.contains(&fact),
            "`{fact}` missing from the last comment:\n{last}"
        );
    }
    assert!(
        texts[..texts.len() - 1]
            .iter()
            .all(|t| !t.contains("done;")),
        "nothing says done before the read-back: {texts:#?}"
    );
    let transitions = desk.calls_of("transition");
    assert_eq!(transitions.len(), 1, "moved to Done once");
    assert_eq!(transitions[0].body["transition"]["id"], "31");
    let position = |kind: &str| desk.calls().iter().rposition(|c| c.kind == kind).unwrap();
    assert!(position("transition") < position("comment"));
    assert!(
        comments[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic "),
        "writ authenticates to Jira"
    );
    let owed = app.state.store.outbox_page(None, None, 100).await.unwrap();
    assert!(owed.iter().all(|e| e.state == OutboxState::Delivered));
    assert_eq!(
        owed.len(),
        comments.len(),
        "one comment per change, none twice"
    );
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_and_nothing_is_stored() {
    let desk = FakeDesk::start().await;
    let app = app_with_jira(&desk).await;
    let body = issue_created("OPS-1", "carol@org.example", "target/readers", now_ms(&app));
    let mut forged = signed(&body, "d-1");
    forged[0].1 = format!("sha256={}", hex::encode(hmac_sha256(b"guess", &[&body])));
    let (status, answer) = post(&app, "/webhooks/jira", &forged, &body).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "unverified");
    let unsigned = &signed(&body, "d-1")[1..];
    assert_eq!(post(&app, "/webhooks/jira", unsigned, &body).await.0, 401);
    assert_eq!(request_count(&app).await, 0);
    assert!(
        app.state
            .store
            .outbox_page(None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let (status, _) = post(&app, "/webhooks/jira", &signed(&body, "d-1"), &body).await;
    assert_eq!(
        status, 200,
        "a refused delivery's id was not recorded, so the genuine one counts"
    );
}

#[tokio::test]
async fn a_stale_delivery_is_refused() {
    let desk = FakeDesk::start().await;
    let app = app_with_jira(&desk).await;
    let an_hour_ago = now_ms(&app) - 3_600_000;
    let body = issue_created("OPS-1", "carol@org.example", "target/readers", an_hour_ago);
    let (status, answer) = post(&app, "/webhooks/jira", &signed(&body, "d-1"), &body).await;
    assert_eq!(status, 401);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stale")
    );
    assert_eq!(request_count(&app).await, 0);
}

#[tokio::test]
async fn a_replayed_delivery_changes_nothing() {
    let desk = FakeDesk::start().await;
    let app = app_with_jira(&desk).await;
    let body = issue_created("OPS-1", "carol@org.example", "target/readers", now_ms(&app));
    assert_eq!(
        post(&app, "/webhooks/jira", &signed(&body, "d-1"), &body)
            .await
            .1["outcome"],
        "submitted"
    );
    let (status, answer) = post(&app, "/webhooks/jira", &signed(&body, "d-1"), &body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["outcome"], "replay");
    let (_, answer) = post(&app, "/webhooks/jira", &signed(&body, "d-2"), &body).await;
    assert_eq!(
        answer["outcome"], "unchanged",
        "the same ticket under a new delivery id is an update with nothing new: {answer}"
    );
    only_request(&app).await;
}

#[tokio::test]
async fn an_unmapped_entitlement_or_unknown_reporter_is_refused_with_the_reason_on_the_ticket() {
    let desk = FakeDesk::start().await;
    let app = app_with_jira(&desk).await;
    let cases = [
        (
            "OPS-1",
            "carol@org.example",
            "target/everything",
            "`target/everything` is not a catalog entitlement",
        ),
        (
            "OPS-2",
            "mallory@elsewhere.example",
            "target/readers",
            "the reporter `mallory@elsewhere.example` is not an active writ principal",
        ),
    ];
    for (i, (key, reporter, entitlement, _)) in cases.iter().enumerate() {
        let body = issue_created(key, reporter, entitlement, now_ms(&app));
        let (status, answer) = post(
            &app,
            "/webhooks/jira",
            &signed(&body, &format!("d-{i}")),
            &body,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(answer["outcome"], "refused", "{answer}");
    }
    assert_eq!(
        request_count(&app).await,
        0,
        "free text never becomes a request"
    );
    deliver(&worker(
        &app,
        "jira",
        Arc::new(JiraDesk::new(settings(&desk))),
    ))
    .await;
    let comments = desk.calls_of("comment");
    assert_eq!(comments.len(), 2);
    for (key, _, _, reason) in cases {
        let comment = comments.iter().find(|c| c.key == key).unwrap();
        let text = comment_text(comment);
        assert!(text.contains("refused"), "{text}");
        assert!(text.contains(reason), "`{reason}` missing from:\n{text}");
    }
    assert!(desk.calls_of("transition").is_empty());
}

#[tokio::test]
async fn notes_written_while_jira_is_down_arrive_once_it_returns_exactly_once() {
    let desk = FakeDesk::start().await;
    let app = app_with_jira(&desk).await;
    let body = issue_created("OPS-9", "carol@org.example", "target/readers", now_ms(&app));
    post(&app, "/webhooks/jira", &signed(&body, "d-9"), &body).await;
    let request = only_request(&app).await;
    approve_by_owner_and_security(&app, request.id).await;
    app.run_jobs().await;

    desk.set_down(true);
    let worker = worker(&app, "jira", Arc::new(JiraDesk::new(settings(&desk))));
    deliver(&worker).await;
    assert!(desk.calls().is_empty());
    let waiting = app
        .state
        .store
        .outbox_page(Some(OutboxState::Pending), None, 100)
        .await
        .unwrap();
    assert!(!waiting.is_empty());
    assert!(
        waiting[0].last_error.as_deref().unwrap().contains("503"),
        "{waiting:?}"
    );

    desk.set_down(false);
    for _ in 0..20 {
        app.clock.advance(Duration::from_secs(3600));
        deliver(&worker).await;
    }
    let owed = app.state.store.outbox_page(None, None, 100).await.unwrap();
    assert!(
        owed.iter().all(|e| e.state == OutboxState::Delivered),
        "{owed:?}"
    );
    assert_eq!(
        desk.calls_of("comment").len(),
        owed.len(),
        "each note exactly once"
    );
    assert_eq!(desk.calls_of("transition").len(), 1);
    let last = comment_text(desk.calls_of("comment").last().unwrap());
    assert!(last.contains("done;"), "{last}");
}

#[tokio::test]
async fn desk_approvals_are_evidence_and_count_only_if_configured_and_eligible() {
    let desk = FakeDesk::start().await;
    for count in [false, true] {
        let app = app_counting_approvals(&desk, count).await;
        let body = issue_created("OPS-3", "carol@org.example", "target/readers", now_ms(&app));
        let (_, answer) = post(&app, "/webhooks/jira", &signed(&body, "d-3"), &body).await;
        assert_eq!(answer["outcome"], "submitted", "{answer}");
        let request = only_request(&app).await;
        let evidence = app
            .state
            .store
            .audit_events_about(&[format!("request:{}", request.id)])
            .await
            .unwrap();
        let received = evidence
            .iter()
            .find(|e| e.action == "ticket.approvals_received")
            .expect("desk approvals kept as evidence");
        assert!(
            received.data.contains("alice@org.example")
                && received.data.contains("carol@org.example")
        );

        let approvals = app.state.store.approvals_of(request.id).await.unwrap();
        let alice = app
            .state
            .store
            .principal_by_email("alice@org.example")
            .await
            .unwrap()
            .unwrap();
        if count {
            assert_eq!(
                approvals.len(),
                1,
                "only the eligible approver counts: {approvals:?}"
            );
            assert_eq!(approvals[0].approver, alice.id);
        } else {
            assert!(approvals.is_empty(), "evidence only unless configured");
        }
        assert_eq!(
            app.state
                .store
                .request(request.id)
                .await
                .unwrap()
                .unwrap()
                .0
                .status,
            RequestStatus::PendingApproval,
            "security still has to approve in writ"
        );
    }
}
