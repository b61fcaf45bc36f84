//! Health endpoints, through the router without a socket.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use writ_server::{AppState, router};
use writ_testkit::TestDb;

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
        let app = router(AppState { store: db.store() });
        assert_eq!(
            get(app.clone(), "/healthz").await,
            (StatusCode::OK, serde_json::json!({"status": "ok"}))
        );
        assert_eq!(get(app.clone(), "/readyz").await.0, StatusCode::OK);
        let (status, version) = get(app, "/version").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(version["store"], db.backend());
    }
}
