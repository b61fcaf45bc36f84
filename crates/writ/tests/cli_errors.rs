//! Bad input gets one clear line on stderr and a non-zero exit, and never a password.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

fn writ_fails(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line for {args:?}: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn an_unparsable_url_is_named() {
    let stderr = writ_fails(&["--database", "mysql://root:hunter2@db/writ", "migrate"]);
    assert!(stderr.contains("invalid database URL"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    let stderr = writ_fails(&[
        "--database",
        "postgres://writ:hunter2@127.0.0.1:1/writ",
        "migrate",
    ]);
    assert!(
        stderr.contains("cannot connect to PostgreSQL at `127.0.0.1:1/writ`"),
        "{stderr}"
    );
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn a_file_that_is_not_a_database_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    let stderr = writ_fails(&[
        "--database",
        &format!("sqlite://{}", path.display()),
        "migrate",
    ]);
    assert!(stderr.contains("is not a SQLite database"), "{stderr}");
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.starts_with("these are my notes"),
        "the file was changed"
    );
}

#[test]
fn a_read_only_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let read_only = read_only_dir(dir.path());
    let db = read_only.join("writ.db");
    let stderr = writ_fails(&[
        "--database",
        &format!("sqlite://{}", db.display()),
        "migrate",
    ]);
    assert!(stderr.contains("is not writable"), "{stderr}");
}

/// A directory this process cannot write: a mode-0555 directory, or where that does not bind
/// (root ignores modes), `/sys`, which refuses new files to everyone.
fn read_only_dir(scratch: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch.join("read-only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::File::create(dir.join("probe")).is_err() {
        return dir;
    }
    std::path::PathBuf::from("/sys")
}

#[test]
fn verify_does_not_create_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("absent.db");
    let stderr = writ_fails(&[
        "--database",
        &format!("sqlite://{}", db.display()),
        "audit",
        "verify",
    ]);
    assert!(stderr.contains("no such file"), "{stderr}");
    assert!(!db.exists());
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("writ.toml");
    std::fs::write(&config, "databse_url = \"sqlite://x.db\"\n").unwrap();
    let stderr = writ_fails(&["--config", config.to_str().unwrap(), "migrate"]);
    assert!(stderr.contains("databse_url"), "{stderr}");
}
