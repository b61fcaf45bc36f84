//! `writ policy check` and `writ policy explain` as an operator uses them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

fn writ(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_shipped_policies_check_clean() {
    let output = writ(&["policy", "check"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("policy set valid"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn an_invalid_operator_policy_is_named_with_file_and_position_and_serve_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tighten.cedar"),
        "@id(\"no_weekend\")\n@reason(\"not on weekends\")\nforbid (principal, action == Action::\"grant\", resource)\nwhen { resource.no_such_attribute };\n",
    )
    .unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let output = writ(&["policy", "check", "--dir", dir_arg]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("tighten.cedar:4:"),
        "file and line: {stderr}"
    );
    assert!(stderr.contains("no_such_attribute"), "{stderr}");

    let db = dir.path().join("writ.db");
    let serve = writ(&[
        "--database",
        &format!("sqlite://{}", db.display()),
        "--policy-dir",
        dir_arg,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(serve.status.code(), Some(1));
    assert!(
        text(&serve.stderr).contains("refusing to start"),
        "{}",
        text(&serve.stderr)
    );
    assert!(!db.exists(), "nothing was created");
}

#[test]
fn explain_shows_every_reason_as_a_requester_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("writ.db").display());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.yaml");
    assert!(
        writ(&["--database", &url, "apply", "-f", example.to_str().unwrap()])
            .status
            .success()
    );

    let refused = writ(&[
        "--database",
        &url,
        "policy",
        "explain",
        "--requester",
        "lena.fischer@acmepay.example",
        "--identity",
        "payments-deploy-pipeline",
        "--entitlement",
        "ci-pipelines:deploy-production",
        "--ttl",
        "30d",
        "--justification",
        "release train",
    ]);
    let stdout = text(&refused.stdout);
    assert!(refused.status.success(), "{}", text(&refused.stderr));
    assert!(stdout.contains("rejected:"), "{stdout}");
    assert!(
        stdout.contains("requested TTL 30d exceeds the maximum of 1w"),
        "{stdout}"
    );
    assert!(stdout.contains("[ttl_within_max]"), "{stdout}");

    let allowed = writ(&[
        "--database",
        &url,
        "policy",
        "explain",
        "--requester",
        "lena.fischer@acmepay.example",
        "--identity",
        "payments-deploy-pipeline",
        "--entitlement",
        "ci-pipelines:deploy-production",
        "--ttl",
        "2d",
        "--justification",
        "release train",
    ]);
    let stdout = text(&allowed.stdout);
    assert!(stdout.contains("allowed"), "{stdout}");
    assert!(stdout.contains("approval stages:"), "{stdout}");

    let unknown = writ(&[
        "--database",
        &url,
        "policy",
        "explain",
        "--requester",
        "nobody@x.example",
        "--identity",
        "payments-api",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no principal with e-mail `nobody@x.example`"));
}

#[tokio::test]
async fn explain_shows_the_decision_a_stored_request_was_submitted_under() {
    use std::sync::Arc;
    use writ_core::requests::{NewRequest, Requests, Roles};

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("writ.db").display());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.yaml");
    assert!(
        writ(&["--database", &url, "apply", "-f", example.to_str().unwrap()])
            .status
            .success()
    );

    let (store, _) = writ_store::open(&url, writ_store::OpenMode::Existing)
        .await
        .unwrap();
    let catalog = store.catalog().await.unwrap();
    let lena = catalog
        .principals
        .iter()
        .find(|p| p.email.as_str().starts_with("lena"))
        .unwrap()
        .id;
    let pipeline = catalog
        .identities
        .iter()
        .find(|i| i.name.as_str() == "payments-deploy-pipeline")
        .unwrap()
        .id;
    let deploy = catalog
        .entitlements
        .iter()
        .find(|e| e.key.as_str() == "deploy-production")
        .unwrap()
        .id;
    let policy = Arc::new(writ_policy::PolicyEngine::load(None).unwrap());
    let requests = Requests::new(
        store,
        policy,
        Arc::new(writ_core::SystemClock),
        Roles::default(),
    );
    let submitted = requests
        .submit(NewRequest {
            requester: lena,
            kind: writ_domain::RequestKind::Grant,
            identity: pipeline,
            entitlement: Some(deploy),
            justification: "release train".into(),
            ttl: Some("30d".parse().unwrap()),
            end: None,
            external_ref: None,
            new_owner: None,
        })
        .await
        .unwrap();
    let number = submitted.request.number.to_string();

    let output = writ(&["--database", &url, "policy", "explain", &number]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains(&format!("{number}: rejected")), "{stdout}");
    assert!(
        stdout.contains("requested TTL 30d exceeds the maximum of 1w"),
        "{stdout}"
    );
}
