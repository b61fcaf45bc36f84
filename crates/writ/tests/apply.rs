//! `writ apply` with the example catalog, on SQLite and PostgreSQL: plan first, idempotent,
//! all errors at once, never a partial write.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use writ_testkit::TestDb;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog.yaml")
}

fn apply(db: &TestDb, file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["--database", db.url(), "apply", "-f"])
        .arg(file)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn audit_len(db: &TestDb) -> u64 {
    db.store()
        .audit_head()
        .await
        .unwrap()
        .map_or(0, |(seq, _)| seq)
}

#[tokio::test]
async fn applying_the_example_twice_changes_nothing_the_second_time() {
    for db in TestDb::each().await {
        let first = apply(&db, &example(), &[]);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(
            stdout(&first).contains("  + entitlement payments-db:writer"),
            "{}",
            stdout(&first)
        );
        assert!(stdout(&first).contains("0 unchanged"));
        let events = audit_len(&db).await;
        let catalog = db.store().catalog().await.unwrap();
        assert_eq!(
            events as usize,
            catalog.principals.len()
                + catalog.systems.len()
                + catalog.entitlements.len()
                + catalog.sod_rules.len()
                + catalog.identities.len(),
            "one event per created object"
        );

        let second = apply(&db, &example(), &[]);
        assert!(second.status.success());
        assert!(
            stdout(&second).contains("plan: 0 to create, 0 to update"),
            "{}",
            stdout(&second)
        );
        assert!(stdout(&second).contains("nothing to apply"));
        assert_eq!(
            audit_len(&db).await,
            events,
            "no audit event the second time"
        );
        assert_eq!(db.store().catalog().await.unwrap(), catalog);
    }
}

#[tokio::test]
async fn a_dry_run_prints_the_plan_and_writes_nothing() {
    for db in TestDb::each().await {
        let output = apply(&db, &example(), &["--dry-run"]);
        assert!(output.status.success());
        assert!(
            stdout(&output).contains("  + system payments-db"),
            "{}",
            stdout(&output)
        );
        assert!(stdout(&output).contains("dry run: nothing changed"));
        assert!(db.store().catalog().await.unwrap().is_empty());
        assert_eq!(audit_len(&db).await, 0);
    }
}

#[tokio::test]
async fn a_changed_field_is_one_update_and_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.yaml");
    let text = std::fs::read_to_string(example()).unwrap();
    let text = text.replacen("purpose: ", "purpose: (renamed) ", 1);
    std::fs::write(&changed, text).unwrap();
    for db in TestDb::each().await {
        assert!(apply(&db, &example(), &[]).status.success());
        let before = audit_len(&db).await;
        let output = apply(&db, &changed, &[]);
        assert!(output.status.success());
        assert!(
            stdout(&output).contains("0 to create, 1 to update"),
            "{}",
            stdout(&output)
        );
        assert!(stdout(&output).contains("(purpose)"), "{}", stdout(&output));
        assert_eq!(audit_len(&db).await, before + 1);
    }
}

#[tokio::test]
async fn a_bad_file_reports_every_problem_with_its_path_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(example()).unwrap();
    let text = text
        .replace("max_ttl: 7d", "max_ttl: 9x")
        .replacen("owner: ", "onwer: ", 1);
    std::fs::write(&bad, text).unwrap();
    for db in TestDb::each().await {
        let output = apply(&db, &bad, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("bad.yaml: systems[0].onwer: unknown field"),
            "{stderr}"
        );
        assert!(
            stderr.contains("bad.yaml: systems[0].owner: missing required field"),
            "{stderr}"
        );
        assert!(stderr.contains(".max_ttl: invalid ttl `9x`"), "{stderr}");
        assert!(
            stderr.lines().filter(|l| l.contains("max_ttl")).count() > 1,
            "all errors, not the first: {stderr}"
        );
        assert!(
            db.store().catalog().await.unwrap().is_empty(),
            "nothing was written"
        );
        assert_eq!(audit_len(&db).await, 0);
    }
}

#[tokio::test]
async fn objects_left_out_of_the_file_are_kept_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let shorter = dir.path().join("shorter.yaml");
    let text = std::fs::read_to_string(example()).unwrap();
    let cut = text.rfind("\n  - name: ").unwrap();
    std::fs::write(&shorter, &text[..cut]).unwrap();
    for db in TestDb::each().await {
        assert!(apply(&db, &example(), &[]).status.success());
        let before = db.store().catalog().await.unwrap();
        let output = apply(&db, &shorter, &[]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout(&output).contains("(not in the file; kept, never deleted)"),
            "{}",
            stdout(&output)
        );
        assert_eq!(db.store().catalog().await.unwrap(), before);
    }
}
