//! `writ token create|list|revoke` on SQLite and PostgreSQL: a token is shown once, listed
//! by id with its principal, scope and state (never the token), and gone from the list of
//! working tokens once revoked.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

use writ_testkit::TestDb;

fn writ(db: &TestDb, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["--database", db.url()])
        .args(args)
        .env_remove("WRIT_CONFIG")
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

#[tokio::test]
async fn tokens_are_listed_without_their_secret_and_leave_the_list_when_revoked() {
    for db in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog.yaml");
        std::fs::write(&catalog, writ_testkit::catalog_yaml("/nonexistent")).unwrap();
        writ(&db, &["apply", "-f", catalog.to_str().unwrap()]);

        let created = writ(
            &db,
            &[
                "token",
                "create",
                "--principal",
                "audrey@org.example",
                "--scope",
                "read",
            ],
        );
        let secret = stdout(&created).trim().to_string();
        let about = String::from_utf8_lossy(&created.stderr).into_owned();
        let id = about.split_whitespace().nth(1).unwrap().to_string();
        writ(
            &db,
            &["token", "create", "--principal", "carol@org.example"],
        );

        let listed = stdout(&writ(&db, &["token", "list"]));
        assert!(listed.starts_with("TOKEN"), "{listed}");
        assert_eq!(
            listed.lines().count(),
            3,
            "a header and two tokens: {listed}"
        );
        let row = listed.lines().find(|l| l.starts_with(&id)).unwrap();
        assert!(row.contains("audrey@org.example"), "{row}");
        assert!(row.contains(" read ") && row.ends_with("valid"), "{row}");
        assert!(!listed.contains(&secret), "the token itself is never shown");

        writ(&db, &["token", "revoke", &id]);
        let working = stdout(&writ(&db, &["token", "list"]));
        assert!(!working.contains(&id), "{working}");
        let all = stdout(&writ(&db, &["token", "list", "--all"]));
        let row = all.lines().find(|l| l.starts_with(&id)).unwrap();
        assert!(row.contains("revoked"), "{row}");
    }
}
