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
