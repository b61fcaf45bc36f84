//! The committed OpenAPI document is the one the code generates.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = format!("{}\n", writ_server::openapi_json());
    assert!(
        committed == generated,
        "docs/openapi.json differs from the API's code: regenerate it with \
         `cargo run -p writ -- openapi > docs/openapi.json`"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_every_path_secured_by_bearer_tokens() {
    let doc: serde_json::Value = serde_json::from_str(&writ_server::openapi_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    for path in [
        "/api/v1/requests",
        "/api/v1/requests/{number}",
        "/api/v1/requests/{number}/approve",
        "/api/v1/grants",
        "/api/v1/identities/{identity}",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}
