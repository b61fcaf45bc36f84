//! `writ reconcile` and `writ finding …` on a `local` target, on SQLite and PostgreSQL: a
//! membership and an account created by hand are found, listed, accepted, and resolved once
//! removed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

use writ_testkit::TestDb;

fn writ(db: &TestDb, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["--database", db.url()])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn catalog(target: &Path) -> String {
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@x.example, name: Alice, groups: [team]}}
  - {{external_id: bob, email: bob@x.example, name: Bob, groups: [team]}}
systems:
  - {{name: files, connector: local, owner: alice@x.example, environment: development, criticality: low, config: {{path: "{}"}}}}
entitlements:
  - {{system: files, key: readers, name: Readers, risk: low, default_ttl: 1h, max_ttl: 1d, owner: alice@x.example}}
"#,
        target.display()
    )
}

/// A hand-made account holding `readers`, written the way the local connector lays it out.
fn rogue(target: &Path) {
    std::fs::create_dir_all(target.join("accounts")).unwrap();
    std::fs::create_dir_all(target.join("entitlements/readers")).unwrap();
    std::fs::write(
        target.join("accounts/rogue.json"),
        r#"{"key":"rogue","enabled":true}"#,
    )
    .unwrap();
    std::fs::write(target.join("entitlements/readers/rogue"), "").unwrap();
}

#[tokio::test]
async fn reconcile_finds_what_was_made_by_hand_and_findings_are_listed_accepted_and_resolved() {
    for db in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let file = dir.path().join("catalog.yaml");
        std::fs::write(&file, catalog(&target)).unwrap();
        writ(&db, &["apply", "-f", file.to_str().unwrap()]);
        rogue(&target);

        let summary = stdout(&writ(&db, &["reconcile", "--system", "files"]));
        let row = summary.lines().find(|l| l.starts_with("files")).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        // system, accounts, grants, traced, integrity, unapproved, orphaned, missing, unowned…
        assert_eq!(
            &cells[..9],
            ["files", "1", "1", "0", "0.00%", "1", "0", "0", "1"],
            "{summary}"
        );
        assert!(
            summary.contains("entitlement integrity, every system: 0.00% (0 of 1"),
            "{summary}"
        );

        let listed = stdout(&writ(
            &db,
            &[
                "finding",
                "list",
                "--as",
                "bob@x.example",
                "--status",
                "open",
                "--json",
            ],
        ));
        let findings: Vec<serde_json::Value> = listed
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(findings.len(), 2, "{listed}");
        let unapproved = findings
            .iter()
            .find(|f| f["kind"] == "unapproved_access")
            .unwrap();
        assert_eq!(unapproved["subject"], "rogue/readers");
        let id = unapproved["id"].as_str().unwrap();

        // Bob is neither an admin nor the system's owner; Alice owns the system.
        let refused = Command::new(env!("CARGO_BIN_EXE_writ"))
            .args([
                "--database",
                db.url(),
                "finding",
                "accept",
                id,
                "--as",
                "bob@x.example",
            ])
            .args(["--reason", "fine", "--until", "2099-01-01T00:00:00Z"])
            .output()
            .unwrap();
        assert!(!refused.status.success());
        writ(
            &db,
            &[
                "finding",
                "accept",
                id,
                "--as",
                "alice@x.example",
                "--reason",
                "being migrated",
                "--until",
                "2099-01-01T00:00:00Z",
            ],
        );
        let accepted = stdout(&writ(
            &db,
            &[
                "finding",
                "list",
                "--as",
                "bob@x.example",
                "--status",
                "accepted",
            ],
        ));
        assert!(accepted.contains("rogue/readers"), "{accepted}");

        std::fs::remove_file(target.join("entitlements/readers/rogue")).unwrap();
        std::fs::remove_file(target.join("accounts/rogue.json")).unwrap();
        let fixed = stdout(&writ(&db, &["reconcile"]));
        assert!(fixed.contains("100.00%"), "{fixed}");
        let open = stdout(&writ(
            &db,
            &[
                "finding",
                "list",
                "--as",
                "bob@x.example",
                "--status",
                "open",
            ],
        ));
        assert_eq!(open.lines().count(), 1, "only the header: {open}");
        let resolved = stdout(&writ(
            &db,
            &[
                "finding",
                "list",
                "--as",
                "bob@x.example",
                "--status",
                "resolved",
            ],
        ));
        assert_eq!(resolved.lines().count(), 3, "{resolved}");
    }
}
