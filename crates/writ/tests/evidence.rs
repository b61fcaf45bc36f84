//! Evidence on the command line: a signing key is generated, a checkpoint signed, a request's
//! bundle exported and verified offline with the public key alone (exit 0), a changed bundle
//! refused (exit 3), the log verified against its checkpoints, and events exported as JSON
//! Lines.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

fn writ(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .current_dir(dir)
        .env_remove("WRIT_SECRET_KEY_FILE")
        .env_remove("WRIT_AUDIT_SIGNING_KEY_FILE")
        .env_remove("WRIT_DATABASE_URL")
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

const CATALOG: &str = r#"
principals:
  - {external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}
systems:
  - name: target
    connector: local
    owner: alice@org.example
    environment: development
    criticality: high
    config: {path: "target"}
identities:
  - name: svc
    kind: api_key
    owner: alice@org.example
    team: team
    purpose: reads the ledger
    environment: development
"#;

#[test]
fn a_bundle_exported_on_the_command_line_verifies_offline_and_a_changed_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir(dir.join("target")).unwrap();
    std::fs::write(dir.join("catalog.yaml"), CATALOG).unwrap();
    let keys = ok(writ(
        dir,
        &["keys", "generate", "--name", "audit.example.org/writ"],
    ));
    assert!(keys.contains("audit.example.org/writ+"), "{keys}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("writ-audit.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    ok(writ(dir, &["credential", "generate-key", "writ.key"]));
    std::fs::write(
        dir.join("writ.toml"),
        "secret_key_file = \"writ.key\"\naudit_signing_key_file = \"writ-audit.key\"\n",
    )
    .unwrap();
    ok(writ(dir, &["migrate"]));
    ok(writ(dir, &["apply", "-f", "catalog.yaml"]));
    // A first issue of the key: a request with a policy decision and its audit events.
    ok(writ(
        dir,
        &[
            "credential",
            "rotate",
            "--as",
            "alice@org.example",
            "--identity",
            "svc",
            "--system",
            "target",
            "--justification",
            "first key for the ledger reader",
        ],
    ));

    let note = ok(writ(dir, &["audit", "checkpoint"]));
    assert!(note.starts_with("audit.example.org/writ\n"), "{note}");
    assert!(
        note.contains("\n\n\u{2014} audit.example.org/writ "),
        "{note}"
    );

    ok(writ(
        dir,
        &["evidence", "export", "REQ-000001", "-o", "bundle.json"],
    ));
    let summary = ok(writ(
        dir,
        &[
            "evidence",
            "verify",
            "bundle.json",
            "--public-key",
            "writ-audit.pub",
        ],
    ));
    assert!(summary.contains("REQ-000001 (rotate)"), "{summary}");
    assert!(
        summary.contains("verified: signed by audit.example.org/writ"),
        "{summary}"
    );

    let mut bytes = std::fs::read(dir.join("bundle.json")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(dir.join("changed.json"), &bytes).unwrap();
    let refused = writ(
        dir,
        &[
            "evidence",
            "verify",
            "changed.json",
            "--public-key",
            "writ-audit.pub",
        ],
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let verified = ok(writ(
        dir,
        &["audit", "verify", "--public-key", "writ-audit.pub"],
    ));
    assert!(
        verified.contains("1 checkpoints signed by audit.example.org/writ verified"),
        "{verified}"
    );

    let lines = ok(writ(dir, &["audit", "export"]));
    let events: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.len() >= 3, "{lines}");
    assert!(
        events
            .iter()
            .all(|e| e["hash"].as_str().unwrap().len() == 64)
    );
    let later = ok(writ(dir, &["audit", "export", "--after", "2"]));
    assert_eq!(later.lines().count(), events.len() - 2);
}
