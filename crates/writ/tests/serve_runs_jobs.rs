//! `writ serve` runs the job runner: a request approved while it serves is executed on its
//! target and verified; SIGTERM stops the server cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use writ_core::SystemClock;
use writ_core::requests::{Decide, NewRequest, Requests, Roles};
use writ_domain::audit::Actor;
use writ_domain::{ApprovalDecision, RequestKind, RequestStatus};

const CATALOG: &str = r#"
principals:
  - {external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}
  - {external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}
systems:
  - {name: target, connector: local, owner: alice@org.example, environment: development, criticality: low, config: {path: "TARGET"}}
entitlements:
  - {system: target, key: viewer, name: Viewer, risk: low, default_ttl: 1h, max_ttl: 1d, owner: alice@org.example}
identities:
  - {name: svc, kind: service_account, owner: alice@org.example, team: team, purpose: tests, environment: development}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_request_is_executed_by_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let target = writ_connect::local::LocalConnector::open(dir.path().join("target"));
    target.init().await.unwrap();
    target
        .declare_entitlement(&"viewer".parse().unwrap())
        .await
        .unwrap();
    let url = format!("sqlite://{}", dir.path().join("writ.db").display());
    let (store, _) = writ_store::open(&url, writ_store::OpenMode::Migrate)
        .await
        .unwrap();
    let catalog = CATALOG.replace("TARGET", &dir.path().join("target").display().to_string());
    writ_core::catalog::apply(
        &*store,
        &SystemClock,
        Actor::system("test"),
        "c.yaml",
        &catalog,
        false,
    )
    .await
    .unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["--database", &url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{line}");

    let catalog = store.catalog().await.unwrap();
    let by_email = |email: &str| {
        catalog
            .principals
            .iter()
            .find(|p| p.email.as_str() == email)
            .unwrap()
            .id
    };
    let policy = Arc::new(writ_policy::PolicyEngine::load(None).unwrap());
    let requests = Requests::new(
        store.clone(),
        policy,
        Arc::new(SystemClock),
        Roles::default(),
    );
    let request = requests
        .submit(NewRequest {
            requester: by_email("carol@org.example"),
            kind: RequestKind::Grant,
            identity: catalog.identities[0].id,
            entitlement: Some(catalog.entitlements[0].id),
            justification: String::new(),
            ttl: None,
            end: None,
            external_ref: None,
            new_owner: None,
        })
        .await
        .unwrap()
        .request;
    requests
        .decide(Decide {
            approver: by_email("alice@org.example"),
            request: request.id,
            decision: ApprovalDecision::Approve,
            reason: None,
            plan_hash: request.plan_hash.unwrap(),
        })
        .await
        .unwrap();

    // The server polls its queue every half second; give it a generous, bounded while.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let status = store.request(request.id).await.unwrap().unwrap().0.status;
        if status == RequestStatus::Fulfilled || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let exit = server.wait().unwrap();

    assert_eq!(status, RequestStatus::Fulfilled);
    use writ_connect::Connector;
    assert!(
        target
            .holds(&"svc".parse().unwrap(), &"viewer".parse().unwrap())
            .await
            .unwrap()
    );
    assert!(exit.success(), "SIGTERM stops writ cleanly: {exit:?}");
}
