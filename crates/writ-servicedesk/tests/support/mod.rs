//! What the service-desk tests share: a writ app with its organisation, signed deliveries
//! sent through the router, and an outbox worker run until idle.
#![allow(dead_code)]

pub mod fake_desk;
pub mod jira;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;
use writ_core::outbox::{OutboxWorker, TicketDesk};
use writ_core::requests::Decide;
use writ_domain::{ApprovalDecision, RequestId};
use writ_testkit::TestApp;

/// Sends `body` to `path` with `headers`; returns the status and the JSON answer.
pub async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let mut request = Request::post(path).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = app
        .router()
        .oneshot(request.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// An outbox worker delivering `desk`'s notes, retrying after a second.
pub fn worker(app: &TestApp, name: &str, desk: Arc<dyn TicketDesk>) -> OutboxWorker {
    OutboxWorker::new(app.state.store.clone(), app.clock.clone()).with_desk(name, desk)
}

/// Runs `worker` until nothing is due now.
pub async fn deliver(worker: &OutboxWorker) {
    while worker.run_once().await.unwrap() > 0 {}
}

/// Alice (the identity's owner) and Sam (security) approve `request`.
pub async fn approve_by_owner_and_security(app: &TestApp, request: RequestId) {
    for email in ["alice@org.example", "sam@org.example"] {
        let (current, _) = app.state.store.request(request).await.unwrap().unwrap();
        let approver = app
            .state
            .store
            .principal_by_email(email)
            .await
            .unwrap()
            .unwrap();
        app.state
            .requests
            .decide(Decide {
                approver: approver.id,
                request,
                decision: ApprovalDecision::Approve,
                reason: None,
                plan_hash: current.plan_hash.unwrap(),
            })
            .await
            .unwrap();
    }
}

/// How many requests writ holds.
pub async fn request_count(app: &TestApp) -> usize {
    let requests = app.state.store.requests_page(Default::default(), 10);
    requests.await.unwrap().len()
}

/// The only request writ holds.
pub async fn only_request(app: &TestApp) -> writ_domain::Request {
    let mut requests = app
        .state
        .store
        .requests_page(Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}
