//! Outbound webhooks end to end: every change after an endpoint is configured arrives as a
//! CloudEvents 1.0 event signed per Standard Webhooks, once, even across the receiver being
//! down for a while.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::fake_desk::FakeDesk;
use support::{approve_by_owner_and_security, deliver};
use writ_core::outbox::OutboxWorker;
use writ_core::requests::NewRequest;
use writ_domain::{OutboxState, RequestKind};
use writ_servicedesk::Secret;
use writ_servicedesk::events::{SigningKey, WebhookEndpoint, WebhookSender};
use writ_testkit::{TestApp, TestDb};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn endpoint(desk: &FakeDesk) -> WebhookEndpoint {
    WebhookEndpoint {
        name: "siem".into(),
        url: format!("{}/events", desk.url),
        key: SigningKey::parse(&Secret::new(SECRET)).unwrap(),
        source: "https://writ.test".into(),
    }
}

async fn submit(app: &TestApp) -> writ_domain::Request {
    let store = &app.state.store;
    let carol = store
        .principal_by_email("carol@org.example")
        .await
        .unwrap()
        .unwrap();
    let svc = store.identity_named("svc").await.unwrap().unwrap();
    let target = store.system_named("target").await.unwrap().unwrap();
    let readers = store
        .entitlement_keyed(target.id, "readers")
        .await
        .unwrap()
        .unwrap();
    app.state
        .requests
        .submit(NewRequest {
            requester: carol.id,
            kind: RequestKind::Grant,
            identity: svc.id,
            entitlement: Some(readers.id),
            justification: "nightly export".into(),
            ttl: None,
            end: None,
            external_ref: None,
            new_owner: None,
        })
        .await
        .unwrap()
        .request
}

#[tokio::test]
async fn every_change_arrives_once_as_a_signed_cloud_event() {
    let desk = FakeDesk::start().await;
    let app = TestApp::new(TestDb::sqlite().await).await;
    let worker = OutboxWorker::new(app.state.store.clone(), app.clock.clone())
        .with_endpoint("siem", Arc::new(WebhookSender::new(endpoint(&desk))));
    deliver(&worker).await;
    assert!(
        desk.calls().is_empty(),
        "the catalog applied before the endpoint is not sent"
    );

    let request = submit(&app).await;
    desk.set_down(true);
    deliver(&worker).await;
    desk.set_down(false);
    approve_by_owner_and_security(&app, request.id).await;
    app.run_jobs().await;
    for _ in 0..20 {
        app.clock.advance(Duration::from_secs(3600));
        deliver(&worker).await;
    }

    let events = desk.calls_of("event");
    let owed = app.state.store.outbox_page(None, None, 100).await.unwrap();
    assert!(
        owed.iter().all(|e| e.state == OutboxState::Delivered),
        "{owed:?}"
    );
    assert_eq!(events.len(), owed.len(), "each event once");
    let types: Vec<&str> = events
        .iter()
        .map(|e| e.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.first(),
        Some(&"dev.writ.request.submitted"),
        "{types:?}"
    );
    assert_eq!(
        types.last(),
        Some(&"dev.writ.request.fulfilled"),
        "{types:?}"
    );
    let key = SigningKey::parse(&Secret::new(SECRET)).unwrap();
    for event in &events {
        assert_eq!(event.body["specversion"], "1.0");
        assert_eq!(event.body["source"], "https://writ.test");
        assert_eq!(
            event.headers["content-type"],
            "application/cloudevents+json"
        );
        let id = &event.headers["webhook-id"];
        let timestamp: i64 = event.headers["webhook-timestamp"].parse().unwrap();
        assert_eq!(
            event.headers["webhook-signature"],
            key.sign(id, timestamp, &event.raw),
            "signed per Standard Webhooks"
        );
    }
    let fulfilled = &events.last().unwrap().body;
    assert_eq!(
        fulfilled["data"]["request"]["number"],
        request.number.to_string()
    );
    assert_eq!(fulfilled["data"]["request"]["status"], "fulfilled");
    assert_eq!(fulfilled["subject"], format!("request:{}", request.id));
}
