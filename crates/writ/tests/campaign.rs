//! `writ campaign …` against a real server: an admin creates and launches a campaign, the
//! owner revokes from the command line, and the campaign's evidence verifies offline with
//! `writ evidence verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

use writ_core::Clock;
use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

/// Runs `writ ARGS` against `app` with `token`, off the async workers the server runs on.
async fn writ(app: &TestApp, token: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_writ"));
    command
        .env("WRIT_URL", app.url())
        .env("WRIT_TOKEN", token)
        .env_remove("WRIT_CONFIG")
        .current_dir(app.target.path())
        .args(args);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "writ {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_revokes_from_the_command_line_and_the_evidence_verifies_offline() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let token = |email: &'static str, scope| {
        let app = &app;
        async move { app.token(email, scope).await }
    };
    let carol = token("carol@org.example", TokenScope::Write).await;
    let alice = token("alice@org.example", TokenScope::Write).await;
    let sam = token("sam@org.example", TokenScope::Write).await;
    let root = token("root@org.example", TokenScope::Write).await;
    let audrey = token("audrey@org.example", TokenScope::Read).await;

    let created = writ(
        &app,
        &carol,
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
            "7d",
            "--json",
        ],
    )
    .await;
    let submitted: writ_api::SubmittedView = serde_json::from_slice(&created.stdout).unwrap();
    for approver in [&alice, &sam] {
        writ(
            &app,
            approver,
            &["request", "approve", &submitted.request.number],
        )
        .await;
    }
    app.run_jobs().await;

    let deadline = app
        .clock
        .now()
        .plus(std::time::Duration::from_secs(86_400))
        .to_string();
    let campaign = writ(
        &app,
        &root,
        &[
            "campaign",
            "create",
            "--name",
            "Production review",
            "--environment",
            "production",
            "--deadline",
            &deadline,
            "--json",
        ],
    )
    .await;
    let campaign: writ_api::CampaignView = serde_json::from_slice(&campaign.stdout).unwrap();
    let launched = writ(&app, &root, &["campaign", "launch", &campaign.id]).await;
    assert!(
        stdout(&launched).contains("1 item(s)"),
        "{}",
        stdout(&launched)
    );

    let mine = writ(&app, &alice, &["campaign", "mine"]).await;
    assert!(
        stdout(&mine).contains("Readers on target"),
        "{}",
        stdout(&mine)
    );
    let mine = writ(&app, &alice, &["campaign", "mine", "--json"]).await;
    let mine: writ_api::CampaignItemList = serde_json::from_slice(&mine.stdout).unwrap();
    let decided = writ(
        &app,
        &alice,
        &[
            "campaign",
            "decide",
            &mine.items[0].id,
            "revoke",
            "--reason",
            "the report is retired",
        ],
    )
    .await;
    assert!(
        stdout(&decided).contains("revoked (REQ-"),
        "{}",
        stdout(&decided)
    );
    app.run_jobs().await;
    let shown = writ(&app, &carol, &["campaign", "show", &campaign.id]).await;
    assert!(stdout(&shown).contains("1 revoked"), "{}", stdout(&shown));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("campaign.json");
    let key = dir.path().join("audit.pub");
    std::fs::write(&key, writ_testkit::test_signer().verifier().to_text()).unwrap();
    writ(
        &app,
        &audrey,
        &[
            "campaign",
            "evidence",
            &campaign.id,
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .await;
    let verified = writ(
        &app,
        &audrey,
        &[
            "evidence",
            "verify",
            file.to_str().unwrap(),
            "--public-key",
            key.to_str().unwrap(),
        ],
    )
    .await;
    let text = stdout(&verified);
    assert!(text.contains("campaign     Production review"), "{text}");
    assert!(text.contains("read back as gone"), "{text}");
}
