//! ServiceNow end to end: a record posted by writ's business rule (signed over timestamp and
//! body) becomes a request; its approvals and verified fulfilment are written back to a fake
//! instance through the Table API as `work_notes` with the configured `state`; bad signature,
//! stale timestamp, replay, unmapped entitlement fixed by the after-update rule; the instance
//! down during write-back.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use support::fake_desk::FakeDesk;
use support::{approve_by_owner_and_security, deliver, only_request, post, request_count, worker};
use writ_core::Clock;
use writ_domain::{OutboxState, RequestStatus, TicketOutcome};
use writ_servicedesk::servicenow::{ServiceNowDesk, ServiceNowSettings};
use writ_servicedesk::signature::timestamped_signature;
use writ_servicedesk::{FieldMap, Secret};
use writ_testkit::{TestApp, TestDb};

const WEBHOOK_SECRET: &str = "servicenow-webhook-secret";
const SYS_ID: &str = "9d385017c611228701d22104cc95c371";

fn settings(desk: &FakeDesk) -> ServiceNowSettings {
    ServiceNowSettings {
        name: "servicenow".into(),
        base_url: desk.url.clone(),
        table: "sc_req_item".into(),
        user: "writ.integration".into(),
        password: Secret::new("servicenow-password"),
        webhook_secret: Secret::new(WEBHOOK_SECRET),
        fields: FieldMap {
            entitlement: "u_entitlement".into(),
            identity: "u_identity".into(),
            ttl: Some("u_ttl".into()),
            justification: Some("description".into()),
            approvers: None,
        },
        states: HashMap::from([
            (RequestStatus::Fulfilled, "3".into()),
            (RequestStatus::Rejected, "4".into()),
        ]),
        max_skew: Duration::from_secs(600),
    }
}

async fn app_with_servicenow(desk: &FakeDesk) -> TestApp {
    let mut app = TestApp::new(TestDb::sqlite().await).await;
    app.state.webhooks.servicenow = Some(Arc::new(writ_server::Desk {
        settings: settings(desk),
        count_approvals: false,
    }));
    app
}

/// The body the README's business rule posts for a requested item.
fn record(entitlement: &str) -> Vec<u8> {
    serde_json::json!({
        "sys_id": SYS_ID,
        "number": "RITM0010001",
        "table": "sc_req_item",
        "reporter": { "email": "carol@org.example", "user_name": "carol" },
        "fields": {
            "short_description": "Read access for svc",
            "description": "svc reads the target for the nightly export",
            "u_entitlement": entitlement,
            "u_identity": "svc",
            "u_ttl": "8h"
        },
        "approvers": []
    })
    .to_string()
    .into_bytes()
}

fn signed(
    app: &TestApp,
    body: &[u8],
    delivery: &str,
    age: Duration,
) -> Vec<(&'static str, String)> {
    let sent = (app.clock.now().as_micros() / 1_000_000 - age.as_secs() as i64).to_string();
    vec![
        ("x-writ-delivery", delivery.to_string()),
        (
            "x-writ-signature",
            timestamped_signature(WEBHOOK_SECRET.as_bytes(), &sent, body),
        ),
        ("x-writ-timestamp", sent),
    ]
}

#[tokio::test]
async fn a_record_becomes_a_request_whose_fulfilment_is_written_back_with_its_state() {
    let desk = FakeDesk::start().await;
    let app = app_with_servicenow(&desk).await;
    let body = record("target/readers");
    let headers = signed(&app, &body, "g-1", Duration::ZERO);
    let (status, answer) = post(&app, "/webhooks/servicenow", &headers, &body).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (200, Some("submitted")),
        "{answer}"
    );
    let request = only_request(&app).await;
    assert_eq!(request.external_ref.as_ref().unwrap().key, SYS_ID);

    approve_by_owner_and_security(&app, request.id).await;
    app.run_jobs().await;
    let worker = worker(
        &app,
        "servicenow",
        Arc::new(ServiceNowDesk::new(settings(&desk))),
    );
    desk.set_down(true);
    deliver(&worker).await;
    assert!(desk.calls().is_empty());
    desk.set_down(false);
    for _ in 0..20 {
        app.clock.advance(Duration::from_secs(3600));
        deliver(&worker).await;
    }

    let patches = desk.calls_of("patch");
    let owed = app.state.store.outbox_page(None, None, 100).await.unwrap();
    assert!(
        owed.iter().all(|e| e.state == OutboxState::Delivered),
        "{owed:?}"
    );
    assert_eq!(patches.len(), owed.len(), "each note exactly once");
    assert!(patches.iter().all(|p| p.key == SYS_ID));
    let last = patches.last().unwrap();
    assert_eq!(last.body["state"], "3", "closed complete once fulfilled");
    let notes = last.body["work_notes"].as_str().unwrap();
    for fact in [
        "done; the live state was read back and matches",
        "Entitlement: target/readers",
        "Identity: svc",
        "Approvers: alice@org.example, sam@org.example",
        "TTL: 8h",
        "Verification: verified",
    ] {
        assert!(notes.contains(fact), "`{fact}` missing from:\n{notes}");
    }
    assert!(
        patches[..patches.len() - 1]
            .iter()
            .all(|p| p.body.get("state").is_none()),
        "no state is set before the read-back"
    );
}

#[tokio::test]
async fn bad_signatures_stale_timestamps_and_replays_change_nothing() {
    let desk = FakeDesk::start().await;
    let app = app_with_servicenow(&desk).await;
    let body = record("target/readers");
    let mut forged = signed(&app, &body, "g-1", Duration::ZERO);
    forged[1].1 = timestamped_signature(b"guess", &forged[2].1, &body);
    assert_eq!(
        post(&app, "/webhooks/servicenow", &forged, &body).await.0,
        401
    );
    let stale = signed(&app, &body, "g-1", Duration::from_secs(3600));
    assert_eq!(
        post(&app, "/webhooks/servicenow", &stale, &body).await.0,
        401
    );
    assert_eq!(request_count(&app).await, 0);

    let genuine = signed(&app, &body, "g-1", Duration::ZERO);
    assert_eq!(
        post(&app, "/webhooks/servicenow", &genuine, &body).await.1["outcome"],
        "submitted"
    );
    assert_eq!(
        post(&app, "/webhooks/servicenow", &genuine, &body).await.1["outcome"],
        "replay"
    );
    assert_eq!(request_count(&app).await, 1);
}

#[tokio::test]
async fn an_unmapped_entitlement_is_refused_in_the_work_notes_and_the_fixed_record_is_a_request() {
    let desk = FakeDesk::start().await;
    let app = app_with_servicenow(&desk).await;
    let body = record("please give svc admin on everything");
    let headers = signed(&app, &body, "g-1", Duration::ZERO);
    let (_, answer) = post(&app, "/webhooks/servicenow", &headers, &body).await;
    assert_eq!(answer["outcome"], "refused");
    assert_eq!(request_count(&app).await, 0);
    deliver(&worker(
        &app,
        "servicenow",
        Arc::new(ServiceNowDesk::new(settings(&desk))),
    ))
    .await;
    let patches = desk.calls_of("patch");
    assert_eq!(patches.len(), 1);
    let notes = patches[0].body["work_notes"].as_str().unwrap();
    assert!(notes.contains("is not a catalog entitlement"), "{notes}");
    let stored = app.state.store.ticket("servicenow", SYS_ID).await.unwrap();
    let stored = stored.unwrap();
    assert_eq!(stored.outcome, TicketOutcome::Rejected);
    assert!(
        stored
            .reason
            .unwrap()
            .contains("is not a catalog entitlement")
    );

    // The after-update rule posts the record again once the field is fixed.
    let fixed = record("target/readers");
    let headers = signed(&app, &fixed, "g-2", Duration::ZERO);
    let (_, answer) = post(&app, "/webhooks/servicenow", &headers, &fixed).await;
    assert_eq!(answer["outcome"], "submitted", "{answer}");
    let request = only_request(&app).await;
    let stored = app.state.store.ticket("servicenow", SYS_ID).await.unwrap();
    assert_eq!(stored.unwrap().request, Some(request.id));
}
