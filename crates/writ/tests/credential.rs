//! `writ credential …` on the command line: the secret key is written once with owner-only
//! permissions, and rotation and reveal say clearly what is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

fn writ(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .current_dir(dir)
        .env_remove("WRIT_SECRET_KEY_FILE")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_secret_key_is_written_once_and_readable_only_by_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let made = writ(dir.path(), &["credential", "generate-key", "writ.key"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let key = dir.path().join("writ.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let before = std::fs::read(&key).unwrap();
    let again = writ(dir.path(), &["credential", "generate-key", "writ.key"]);
    assert!(!again.status.success(), "never overwrites a key");
    assert_eq!(std::fs::read(&key).unwrap(), before);
    assert!(!stderr(&again).contains(&String::from_utf8_lossy(&before).to_string()));
}

#[test]
fn reveal_without_a_key_or_of_an_unknown_request_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let migrated = writ(dir.path(), &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let text = "principals:\n  - {external_id: alice, email: alice@org.example, name: Alice, groups: [team]}\n";
    std::fs::write(dir.path().join("catalog.yaml"), text).unwrap();
    let applied = writ(dir.path(), &["apply", "-f", "catalog.yaml"]);
    assert!(applied.status.success(), "{}", stderr(&applied));

    let no_key = writ(
        dir.path(),
        &[
            "credential",
            "reveal",
            "REQ-000001",
            "--as",
            "alice@org.example",
        ],
    );
    assert!(!no_key.status.success());
    assert!(
        stderr(&no_key).contains("no secret key is configured"),
        "{}",
        stderr(&no_key)
    );

    let made = writ(dir.path(), &["credential", "generate-key", "writ.key"]);
    assert!(made.status.success(), "{}", stderr(&made));
    std::fs::write(
        dir.path().join("writ.toml"),
        "secret_key_file = \"writ.key\"\n",
    )
    .unwrap();
    let unknown = writ(
        dir.path(),
        &[
            "credential",
            "reveal",
            "REQ-000042",
            "--as",
            "alice@org.example",
        ],
    );
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("REQ-000042"),
        "{}",
        stderr(&unknown)
    );
    let bad_number = writ(
        dir.path(),
        &["credential", "reveal", "42", "--as", "alice@org.example"],
    );
    assert!(
        stderr(&bad_number).contains("REQ-"),
        "{}",
        stderr(&bad_number)
    );
}
