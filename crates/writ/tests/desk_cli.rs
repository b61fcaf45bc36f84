//! `writ outbox list|redeliver`: a dead-lettered ticket note is listed with its error and sent
//! again; `writ ticket list --rejected` lists the refused ticket with its reason. On SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};
use std::time::Duration;

use writ_domain::Timestamp;
use writ_store::ClaimRequest;
use writ_testkit::TestDb;

fn writ(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["--database", db.url()])
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_dead_letter_is_listed_with_its_error_and_sent_again() {
    for db in TestDb::each().await {
        let store = db.store();
        let now = Timestamp::now_utc();
        writ_testkit::refuse_ticket(&*store, "OPS-5", now).await;
        let claim = ClaimRequest {
            worker: "test",
            now,
            lease_for: Duration::from_secs(60),
            limit: 1,
        };
        let entry = store.claim_outbox(claim).await.unwrap().remove(0);
        let error = "jira (comment) answered 403 Forbidden";
        store
            .outbox_failed(entry.id, error, None, now)
            .await
            .unwrap();

        let rejected = writ(&db, &["ticket", "list", "--rejected"]);
        assert!(
            rejected.status.success(),
            "{}",
            String::from_utf8_lossy(&rejected.stderr)
        );
        let listed = stdout(&rejected);
        assert!(listed.contains("jira:OPS-5"), "{listed}");
        assert!(listed.contains("rejected"), "{listed}");
        assert!(listed.contains("is not a catalog entitlement"), "{listed}");
        let json = stdout(&writ(&db, &["ticket", "list", "--json"]));
        let ticket: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(ticket["reference"]["key"], "OPS-5");
        assert_eq!(ticket["outcome"], "rejected");

        let dead = writ(&db, &["outbox", "list", "--state", "dead"]);
        assert!(
            dead.status.success(),
            "{}",
            String::from_utf8_lossy(&dead.stderr)
        );
        let listed = stdout(&dead);
        assert!(listed.contains(&entry.id.to_string()), "{listed}");
        assert!(listed.contains("jira:OPS-5"), "{listed}");
        assert!(listed.contains(error), "{listed}");

        let id = entry.id.to_string();
        assert!(writ(&db, &["outbox", "redeliver", &id]).status.success());
        let again = writ(&db, &["outbox", "redeliver", &id]);
        assert!(
            !again.status.success(),
            "only a dead delivery is sent again"
        );
        let pending = stdout(&writ(
            &db,
            &["outbox", "list", "--state", "pending", "--json"],
        ));
        let entry: serde_json::Value = serde_json::from_str(pending.trim()).unwrap();
        assert_eq!(entry["id"], id);
        assert_eq!(entry["attempts"], 0);
    }
}
