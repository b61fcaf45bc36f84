//! Jira as the tests see it: settings over a fake Jira, an app taking its webhooks, issue
//! events as Jira Cloud sends them, signed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use writ_domain::RequestStatus;
use writ_servicedesk::jira::JiraSettings;
use writ_servicedesk::signature::hmac_sha256;
use writ_servicedesk::{FieldMap, Secret};
use writ_testkit::{TestApp, TestDb};

use super::fake_desk::{Call, FakeDesk};

pub const WEBHOOK_SECRET: &str = "jira-webhook-secret";
/// Who approved every test ticket in Jira: the identity's owner, who may decide the owner
/// stage, and the requester, who never approves their own request.
pub const APPROVERS: [&str; 2] = ["alice@org.example", "carol@org.example"];

pub fn settings(desk: &FakeDesk) -> JiraSettings {
    JiraSettings {
        name: "jira".into(),
        base_url: desk.url.clone(),
        user: "writ-bot@org.example".into(),
        api_token: Secret::new("jira-api-token"),
        webhook_secret: Secret::new(WEBHOOK_SECRET),
        fields: FieldMap {
            entitlement: "customfield_10050".into(),
            identity: "customfield_10051".into(),
            ttl: Some("customfield_10052".into()),
            justification: Some("description".into()),
            approvers: Some("customfield_10053".into()),
        },
        transitions: HashMap::from([(RequestStatus::Fulfilled, "Done".into())]),
        max_skew: Duration::from_secs(600),
    }
}

pub async fn app_with_jira(desk: &FakeDesk) -> TestApp {
    app_counting_approvals(desk, false).await
}

pub async fn app_counting_approvals(desk: &FakeDesk, count_approvals: bool) -> TestApp {
    app_on(TestDb::sqlite().await, desk, count_approvals).await
}

/// An app over `db` taking `desk`'s webhooks, counting its approvals or not.
pub async fn app_on(db: TestDb, desk: &FakeDesk, count_approvals: bool) -> TestApp {
    let mut app = TestApp::new(db).await;
    app.state.webhooks.jira = Some(Arc::new(writ_server::Desk {
        settings: settings(desk),
        count_approvals,
    }));
    app
}

/// A `jira:issue_created` delivery as Jira Cloud sends it (abridged to the fields writ reads,
/// plus a few it ignores), approved by [`APPROVERS`], sent at `sent_ms`.
pub fn issue_created(key: &str, reporter: &str, entitlement: &str, sent_ms: i64) -> Vec<u8> {
    issue_event("created", key, reporter, entitlement, &APPROVERS, sent_ms)
}

/// A `jira:issue_<event>` delivery (`created` or `updated`) approved by `approvers`.
pub fn issue_event(
    event: &str,
    key: &str,
    reporter: &str,
    entitlement: &str,
    approvers: &[&str],
    sent_ms: i64,
) -> Vec<u8> {
    serde_json::json!({
        "timestamp": sent_ms,
        "webhookEvent": format!("jira:issue_{event}"),
        "issue_event_type_name": format!("issue_{event}"),
        "user": { "accountId": "5b10a2844c20165700ede21g", "displayName": "Carol Teammate" },
        "issue": {
            "id": "10042",
            "self": format!("https://example.atlassian.net/rest/api/3/issue/10042"),
            "key": key,
            "fields": {
                "summary": "Read access for svc",
                "issuetype": { "id": "10001", "name": "Access request" },
                "project": { "id": "10000", "key": "OPS", "name": "Operations" },
                "reporter": {
                    "accountId": "5b10a2844c20165700ede21g",
                    "emailAddress": reporter,
                    "displayName": "Carol Teammate",
                    "active": true
                },
                "description": { "type": "doc", "version": 1, "content": [
                    { "type": "paragraph", "content": [
                        { "type": "text", "text": "svc reads the target for the nightly export" }
                    ]}
                ]},
                "customfield_10050": { "self": "https://example.atlassian.net/rest/api/3/customFieldOption/10020", "value": entitlement, "id": "10020" },
                "customfield_10051": "svc",
                "customfield_10052": "8h",
                "customfield_10053": approvers.iter().map(|email| serde_json::json!({
                    "accountId": format!("acc-{email}"), "emailAddress": email, "active": true
                })).collect::<Vec<_>>()
            }
        }
    })
    .to_string()
    .into_bytes()
}

pub fn signed(body: &[u8], delivery: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "x-hub-signature",
            format!(
                "sha256={}",
                hex::encode(hmac_sha256(WEBHOOK_SECRET.as_bytes(), &[body]))
            ),
        ),
        ("x-atlassian-webhook-identifier", delivery.to_string()),
        ("x-atlassian-webhook-flow", "Primary".into()),
    ]
}

pub fn now_ms(app: &TestApp) -> i64 {
    use writ_core::Clock;
    app.clock.now().as_micros() / 1000
}

pub fn comment_text(call: &Call) -> String {
    let mut out = Vec::new();
    for paragraph in call.body["body"]["content"].as_array().unwrap() {
        for node in paragraph["content"].as_array().unwrap() {
            out.push(node["text"].as_str().unwrap().to_string());
        }
    }
    out.join("\n")
}
