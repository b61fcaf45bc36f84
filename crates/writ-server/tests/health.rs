//! Health endpoints, through the router without a socket.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use writ_testkit::{TestApp, TestDb};

async fn get(app: axum::Router, path: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn health_ready_and_version_answer_on_each_backend() {
    for db in TestDb::each().await {
        let backend = db.backend();
        // The app owns the database; it must outlive the router.
        let test_app = TestApp::new(db).await;
        let app = test_app.router();
        assert_eq!(
            get(app.clone(), "/healthz").await,
            (StatusCode::OK, serde_json::json!({"status": "ok"}))
        );
        assert_eq!(get(app.clone(), "/readyz").await.0, StatusCode::OK);
        let (status, version) = get(app, "/version").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(version["store"], backend);
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_on_each_backend() {
    for db in TestDb::each().await {
        let test_app = TestApp::new(db).await;
        let app = test_app.router();
        let response = app
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        for line in [
            "# TYPE writ_exception_rate gauge",
            "writ_exception_rate 0",
            "writ_expiries_overdue 0",
            "writ_expiry_lag_seconds{quantile=\"0.99\"} 0",
            "writ_expiry_lag_seconds_count 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
