//! `writ audit verify` against databases edited behind writ's back with SQL, on SQLite and
//! PostgreSQL: intact → exit 0 with the count; altered, deleted, reordered → exit 3 naming
//! the first bad event.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

use writ_domain::Timestamp;
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_testkit::TestDb;

/// Disables the append-only guard, as an attacker with database access would.
const SQLITE_UNGUARD: &str =
    "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;";
const POSTGRES_UNGUARD: &str = "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;";

fn verify(db: &TestDb) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["--database", db.url(), "audit", "verify"])
        .output()
        .unwrap()
}

async fn db_with_ten_events() -> Vec<TestDb> {
    let dbs = TestDb::each().await;
    for db in &dbs {
        let events = (1..=10)
            .map(|n| {
                NewAuditEvent::new(
                    Timestamp::from_micros(n),
                    Actor::system("test"),
                    "test.appended",
                )
                .data(serde_json::json!({ "n": n }))
            })
            .collect();
        db.store().append_audit(events).await.unwrap();
    }
    dbs
}

async fn tamper(db: &TestDb, sql: &str) {
    db.tamper(
        &format!("{SQLITE_UNGUARD} {sql}"),
        &format!("{POSTGRES_UNGUARD} {sql}"),
    )
    .await;
}

fn assert_broken_at(db: &TestDb, output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{}: {stderr}", db.backend());
    assert!(
        stderr.contains(expected),
        "{}: expected `{expected}` in: {stderr}",
        db.backend()
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
}

#[tokio::test]
async fn an_intact_chain_exits_zero_with_its_count() {
    for db in db_with_ten_events().await {
        let output = verify(&db);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}: {}",
            db.backend(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("intact: 10 events"), "{stdout}");
    }
}

#[tokio::test]
async fn an_altered_event_is_named() {
    for db in db_with_ten_events().await {
        tamper(
            &db,
            r#"UPDATE audit_events SET data = '{"n":99}' WHERE seq = 4;"#,
        )
        .await;
        assert_broken_at(&db, &verify(&db), "audit event 4 was altered");
    }
}

#[tokio::test]
async fn a_deleted_event_is_named() {
    for db in db_with_ten_events().await {
        tamper(&db, "DELETE FROM audit_events WHERE seq = 6;").await;
        assert_broken_at(&db, &verify(&db), "audit event 6 is missing");
    }
}

#[tokio::test]
async fn reordered_events_are_named() {
    for db in db_with_ten_events().await {
        tamper(
            &db,
            "UPDATE audit_events SET seq = -3 WHERE seq = 3; \
             UPDATE audit_events SET seq = 3 WHERE seq = 5; \
             UPDATE audit_events SET seq = 5 WHERE seq = -3;",
        )
        .await;
        assert_broken_at(&db, &verify(&db), "audit event 3 was altered");
    }
}
