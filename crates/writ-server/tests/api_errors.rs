//! The API's error shape and authentication, through the router without a socket: every
//! caller mistake is a 4xx in `{ "error": { "code", "message", "details" } }` naming the
//! field, never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {bytes:?}"));
    (status, value)
}

/// Asserts the one error shape, and returns its `details`.
fn error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> Value {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["details"].is_object(), "{body}");
    error["details"].clone()
}

#[tokio::test]
async fn calls_without_a_valid_token_are_401() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let (status, body) = call(&app, "GET", "/api/v1/requests", None, None).await;
    error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    for bad in ["writ_0000", "nonsense", ""] {
        let (status, body) = call(&app, "GET", "/api/v1/requests", Some(bad), None).await;
        error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // A revoked token stops working at once, and its secret is in no answer.
    let created = app
        .state
        .tokens
        .create(
            "carol@org.example",
            TokenScope::Write,
            std::time::Duration::from_secs(3600),
            writ_domain::audit::Actor::system("test"),
        )
        .await
        .unwrap();
    let (status, _) = call(&app, "GET", "/api/v1/requests", Some(&created.secret), None).await;
    assert_eq!(status, StatusCode::OK);
    app.state
        .tokens
        .revoke(created.token.id, writ_domain::audit::Actor::system("test"))
        .await
        .unwrap();
    let (status, body) = call(&app, "GET", "/api/v1/requests", Some(&created.secret), None).await;
    error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(!body.to_string().contains(&created.secret));
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let token = app.token("carol@org.example", TokenScope::Read).await;
    let (status, _) = call(&app, "GET", "/api/v1/grants", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    // The scheme is case-insensitive; another scheme is not a bearer token.
    for (header, expected) in [
        (format!("bearer {token}"), StatusCode::OK),
        (format!("Basic {token}"), StatusCode::UNAUTHORIZED),
    ] {
        let request = Request::get("/api/v1/grants")
            .header(header::AUTHORIZATION, header)
            .body(Body::empty())
            .unwrap();
        let response = app.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), expected);
    }
    app.clock.advance(std::time::Duration::from_secs(86_401));
    let (status, body) = call(&app, "GET", "/api/v1/grants", Some(&token), None).await;
    error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn auditors_and_read_tokens_cannot_change_anything() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let auditor = app.token("audrey@org.example", TokenScope::Write).await;
    let reader = app.token("carol@org.example", TokenScope::Read).await;
    let body = r#"{"identity": "svc", "entitlement": "target/readers", "justification": "x"}"#;
    for token in [&auditor, &reader] {
        let (status, answer) =
            call(&app, "POST", "/api/v1/requests", Some(token), Some(body)).await;
        error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
        let (status, answer) = call(
            &app,
            "POST",
            "/api/v1/requests/REQ-1/approve",
            Some(token),
            Some(r#"{"plan_hash": "00"}"#),
        )
        .await;
        error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }
    // Auditors read everything, the audit log included; others may not read the log.
    let (status, _) = call(&app, "GET", "/api/v1/audit", Some(&auditor), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = call(&app, "GET", "/api/v1/audit", Some(&reader), None).await;
    error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn malformed_bodies_are_400s_naming_the_field() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let token = app.token("carol@org.example", TokenScope::Write).await;
    let cases = [
        ("{not json", "body"),
        (
            r#"{"identity": "svc", "justification": "x", "colour": "red"}"#,
            "colour",
        ),
        (r#"{"justification": "x"}"#, "identity"),
        (r#"{"identity": 5, "justification": "x"}"#, "identity"),
        (
            r#"{"identity": "svc", "justification": "x", "ttl": "forever"}"#,
            "ttl",
        ),
        (
            r#"{"identity": "svc", "justification": "x", "kind": "steal"}"#,
            "kind",
        ),
        (
            r#"{"identity": "nobody", "justification": "x"}"#,
            "identity",
        ),
        (
            r#"{"identity": "svc", "entitlement": "readers", "justification": "x"}"#,
            "entitlement",
        ),
        (
            r#"{"identity": "svc", "entitlement": "target/nope", "justification": "x"}"#,
            "entitlement",
        ),
        (
            r#"{"identity": "svc", "justification": "x", "end": "tomorrow"}"#,
            "end",
        ),
        (r#"[1, 2]"#, "body"),
        (
            r#"{"identity": "svc", "kind": "rotate", "justification": "x"}"#,
            "kind",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) =
            call(&app, "POST", "/api/v1/requests", Some(&token), Some(body)).await;
        let details = error(status, &answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(details["field"], field, "{body}: {answer}");
    }
    let huge = format!(
        r#"{{"identity": "svc", "justification": "{}"}}"#,
        "x".repeat(3 << 20)
    );
    let (status, answer) = call(&app, "POST", "/api/v1/requests", Some(&token), Some(&huge)).await;
    error(status, &answer, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    let (status, answer) = call(
        &app,
        "POST",
        "/api/v1/requests/REQ-1/approve",
        Some(&token),
        Some(r#"{"plan_hash": "not-a-hash"}"#),
    )
    .await;
    let details = error(status, &answer, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(details["field"], "plan_hash");
}

#[tokio::test]
async fn malformed_queries_and_paths_are_400s_naming_the_parameter() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let token = app.token("carol@org.example", TokenScope::Read).await;
    let cases = [
        ("/api/v1/requests?limit=501", "limit"),
        ("/api/v1/requests?limit=0", "limit"),
        ("/api/v1/requests?limit=many", "limit"),
        ("/api/v1/requests?bogus=1", "bogus"),
        ("/api/v1/requests?status=happy", "status"),
        ("/api/v1/requests?after=7", "after"),
        ("/api/v1/requests?identity=nobody", "identity"),
        ("/api/v1/grants?expiring_before=soon", "expiring_before"),
        ("/api/v1/grants?after=REQ-1", "after"),
        ("/api/v1/audit?after=x", "after"),
        ("/api/v1/requests/42", "number"),
    ];
    let auditor = app.token("audrey@org.example", TokenScope::Read).await;
    for (path, field) in cases {
        let token = if path.starts_with("/api/v1/audit") {
            &auditor
        } else {
            &token
        };
        let (status, answer) = call(&app, "GET", path, Some(token), None).await;
        let details = error(status, &answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(details["field"], field, "{path}: {answer}");
    }
}

#[tokio::test]
async fn what_does_not_exist_is_a_404_in_the_same_shape() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let token = app.token("carol@org.example", TokenScope::Write).await;
    for path in [
        "/api/v1/requests/REQ-999",
        "/api/v1/identities/ghost",
        "/api/v1/nothing",
    ] {
        let (status, body) = call(&app, "GET", path, Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["error"]["code"].is_string());
    }
    let (status, body) = call(&app, "DELETE", "/api/v1/requests", Some(&token), None).await;
    error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let (status, body) = call(&app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(writ_server::openapi()));
}

#[tokio::test]
async fn a_server_failure_is_an_opaque_500() {
    for db in TestDb::each().await {
        let app = TestApp::new(db).await;
        let token = app.token("carol@org.example", TokenScope::Read).await;
        app.db
            .tamper(
                "ALTER TABLE grants RENAME TO grants_elsewhere",
                "ALTER TABLE grants RENAME TO grants_elsewhere",
            )
            .await;
        let (status, body) = call(&app, "GET", "/api/v1/grants", Some(&token), None).await;
        error(status, &body, StatusCode::INTERNAL_SERVER_ERROR, "internal");
        let text = body.to_string();
        assert!(!text.contains("grants"), "nothing internal leaks: {text}");
        assert_eq!(body["error"]["details"], json!({}));
    }
}

#[tokio::test]
async fn a_token_stops_working_when_its_principal_leaves() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let token = app.token("carol@org.example", TokenScope::Write).await;
    let (status, _) = call(&app, "GET", "/api/v1/requests", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let yaml = writ_testkit::catalog_yaml(&app.target.path().display().to_string()).replace(
        "name: Carol Teammate, groups: [team]}",
        "name: Carol Teammate, groups: [team], active: false}",
    );
    writ_core::catalog::apply(
        &*app.db.store(),
        &*app.clock,
        writ_domain::audit::Actor::system("test"),
        "org.yaml",
        &yaml,
        false,
    )
    .await
    .unwrap();
    let (status, body) = call(&app, "GET", "/api/v1/requests", Some(&token), None).await;
    error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}
