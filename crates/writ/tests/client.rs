//! The client commands against a real server on a free port: tables for people, `--json`
//! for scripts, and the documented exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

/// Runs `writ ARGS` against `app` with `token`, off the async workers the server runs on.
async fn writ(app: &TestApp, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_writ"));
    command
        .env("WRIT_URL", app.url())
        .env_remove("WRIT_TOKEN")
        .env_remove("WRIT_CONFIG")
        .current_dir(app.target.path())
        .args(args);
    if let Some(token) = token {
        command.env("WRIT_TOKEN", token);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_from_the_command_line_to_fulfilled() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let carol = app.token("carol@org.example", TokenScope::Write).await;
    let alice = app.token("alice@org.example", TokenScope::Write).await;
    let sam = app.token("sam@org.example", TokenScope::Write).await;

    let catalog = writ(&app, Some(&carol), &["catalog", "list"]).await;
    assert!(catalog.status.success(), "{}", stderr(&catalog));
    let text = stdout(&catalog);
    assert!(text.starts_with("ENTITLEMENT"), "{text}");
    assert!(text.contains("target/readers"), "{text}");

    let created = writ(
        &app,
        Some(&carol),
        &[
            "request",
            "create",
            "--identity",
            "svc",
            "--entitlement",
            "target/readers",
            "--justification",
            "nightly report",
            "--ttl",
            "8h",
            "--json",
        ],
    )
    .await;
    assert!(created.status.success(), "{}", stderr(&created));
    let submitted: writ_api::SubmittedView = serde_json::from_slice(&created.stdout).unwrap();
    let number = submitted.request.number;
    assert_eq!(submitted.request.status, "pending_approval");

    for approver in [&alice, &sam] {
        let approved = writ(&app, Some(approver), &["request", "approve", &number]).await;
        assert!(approved.status.success(), "{}", stderr(&approved));
    }
    app.run_jobs().await;

    let shown = writ(&app, Some(&carol), &["request", "show", &number]).await;
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(text.contains("fulfilled"), "{text}");
    assert!(
        text.contains("svc") && text.contains("target/readers"),
        "names, not ids: {text}"
    );

    let listed = writ(
        &app,
        Some(&carol),
        &["request", "list", "--status", "fulfilled"],
    )
    .await;
    let text = stdout(&listed);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // Aligned: every column starts where its header does.
    let status_at = lines[0].find("STATUS").unwrap();
    assert_eq!(
        &lines[1][status_at..status_at + "fulfilled".len()],
        "fulfilled"
    );

    let grants = writ(
        &app,
        Some(&carol),
        &["grant", "list", "--identity", "svc", "--json"],
    )
    .await;
    let page: writ_api::GrantPage = serde_json::from_slice(&grants.stdout).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, "active");

    let identity = writ(&app, Some(&carol), &["identity", "show", "svc"]).await;
    assert!(
        stdout(&identity).contains("alice@org.example"),
        "{}",
        stdout(&identity)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_what_went_wrong() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let carol = app.token("carol@org.example", TokenScope::Write).await;
    let audrey = app.token("audrey@org.example", TokenScope::Write).await;
    let code = |output: &Output| output.status.code().unwrap();

    let no_token = writ(&app, None, &["request", "list"]).await;
    assert_eq!(code(&no_token), 2, "{}", stderr(&no_token));
    assert!(stderr(&no_token).contains("WRIT_TOKEN"));

    let forged = writ(&app, Some("writ_forged"), &["request", "list"]).await;
    assert_eq!(code(&forged), 4, "{}", stderr(&forged));

    let auditor = writ(
        &app,
        Some(&audrey),
        &[
            "request",
            "create",
            "--identity",
            "svc",
            "--justification",
            "x",
        ],
    )
    .await;
    assert_eq!(code(&auditor), 4, "{}", stderr(&auditor));

    let missing = writ(&app, Some(&carol), &["request", "show", "REQ-77"]).await;
    assert_eq!(code(&missing), 5, "{}", stderr(&missing));

    let bad = writ(&app, Some(&carol), &["request", "list", "--limit", "9000"]).await;
    assert_eq!(code(&bad), 2, "{}", stderr(&bad));
    assert!(stderr(&bad).contains("limit"), "{}", stderr(&bad));

    let number = {
        let created = writ(
            &app,
            Some(&carol),
            &[
                "request",
                "create",
                "--identity",
                "svc",
                "--entitlement",
                "target/readers",
                "--justification",
                "x",
                "--json",
            ],
        )
        .await;
        serde_json::from_slice::<writ_api::SubmittedView>(&created.stdout)
            .unwrap()
            .request
            .number
    };
    let cancelled = writ(&app, Some(&carol), &["request", "cancel", &number]).await;
    assert!(cancelled.status.success(), "{}", stderr(&cancelled));
    let again = writ(&app, Some(&carol), &["request", "approve", &number]).await;
    assert_eq!(code(&again), 6, "{}", stderr(&again));

    let unreachable = {
        let mut command = Command::new(env!("CARGO_BIN_EXE_writ"));
        command
            .env("WRIT_URL", "http://127.0.0.1:9")
            .env("WRIT_TOKEN", &carol)
            .args(["grant", "list"]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    };
    assert_eq!(code(&unreachable), 7, "{}", stderr(&unreachable));
    assert!(
        !stderr(&unreachable).contains(&carol),
        "the token never shows"
    );
}

/// A hand-made account holding `readers` on the app's `local` target, laid out the way the
/// connector lays it out: reconciliation finds it unowned and its access unapproved.
fn rogue_account(app: &TestApp, key: &str) {
    let target = app.target.path();
    std::fs::create_dir_all(target.join("accounts")).unwrap();
    std::fs::create_dir_all(target.join("entitlements/readers")).unwrap();
    std::fs::write(
        target.join(format!("accounts/{key}.json")),
        format!(r#"{{"key":"{key}","enabled":true}}"#),
    )
    .unwrap();
    std::fs::write(target.join(format!("entitlements/readers/{key}")), "").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_listed_accepted_and_refused_adoption_over_the_api() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    rogue_account(&app, "rogue");
    let reconcile = tokio::task::spawn_blocking({
        let url = app.db.url().to_string();
        move || {
            Command::new(env!("CARGO_BIN_EXE_writ"))
                .args(["--database", &url, "reconcile"])
                .env_remove("WRIT_CONFIG")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(reconcile.status.success(), "{}", stderr(&reconcile));
    let carol = app.token("carol@org.example", TokenScope::Write).await;
    let alice = app.token("alice@org.example", TokenScope::Write).await;
    let code = |output: &Output| output.status.code().unwrap();

    let table = writ(&app, Some(&carol), &["finding", "list", "--status", "open"]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("ID"), "{text}");
    let row = text.lines().find(|l| l.contains("rogue/readers")).unwrap();
    assert!(
        row.contains("unapproved_access") && row.contains("target"),
        "{row}"
    );

    let listed = writ(
        &app,
        Some(&carol),
        &["finding", "list", "--kind", "unapproved_access", "--json"],
    )
    .await;
    let page: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["subject"], "rogue/readers");
    let id = items[0]["id"].as_str().unwrap().to_string();

    // The account is nobody's: there is nothing to adopt it for, and the answer says why.
    let adopt = writ(
        &app,
        Some(&carol),
        &["finding", "adopt", &id, "--justification", "we need it"],
    )
    .await;
    assert_eq!(code(&adopt), 2, "{}", stderr(&adopt));
    assert!(
        stderr(&adopt).contains("names no registered identity"),
        "{}",
        stderr(&adopt)
    );

    // Carol neither administers writ nor owns the system; Alice owns it.
    let until = "2099-01-01T00:00:00Z";
    let accept = [
        "finding",
        "accept",
        &id,
        "--reason",
        "migrating",
        "--until",
        until,
    ];
    let refused = writ(&app, Some(&carol), &accept).await;
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    let accepted = writ(&app, Some(&alice), &accept).await;
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    assert!(
        stdout(&accepted).contains("accepted until"),
        "{}",
        stdout(&accepted)
    );
    let again = writ(&app, Some(&alice), &accept).await;
    assert_eq!(code(&again), 2, "not open any more: {}", stderr(&again));

    let events = app.db.store().audit_page(0, 1000).await.unwrap();
    let accepted_by = events
        .iter()
        .find(|e| e.action == "finding.accepted")
        .expect("the acceptance is in the audit log");
    assert!(
        accepted_by
            .actor
            .to_string()
            .contains(&alice_id(&app).await),
        "{:?}",
        accepted_by.actor
    );
}

async fn alice_id(app: &TestApp) -> String {
    app.db
        .store()
        .principal_by_email("alice@org.example")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}
