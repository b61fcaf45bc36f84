use std::collections::BTreeSet;
use std::path::Path;

use futures_util::StreamExt;
use serde_json::json;
use writ_domain::{AccountKey, ConnectorKind, EntitlementKey};

use super::LocalConnector;
use super::names::{self, Decoded};
use crate::{Connector, ConnectorError, LiveAccount, LiveGrant};

fn account(key: &str) -> AccountKey {
    AccountKey::parse(key).unwrap()
}

fn entitlement(key: &str) -> EntitlementKey {
    EntitlementKey::parse(key).unwrap()
}

/// A fresh, initialized target without flushes (tests need no power-loss safety), with the
/// temporary directory that holds it.
async fn target() -> (tempfile::TempDir, LocalConnector) {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalConnector::open(dir.path().join("target")).with_fsync(false);
    local.init().await.unwrap();
    (dir, local)
}

/// A target holding account `svc` and declared entitlement `reader`.
async fn target_with_svc_and_reader() -> (tempfile::TempDir, LocalConnector) {
    let (dir, local) = target().await;
    local.ensure_account(&account("svc")).await.unwrap();
    local
        .declare_entitlement(&entitlement("reader"))
        .await
        .unwrap();
    (dir, local)
}

async fn all_grants(local: &LocalConnector) -> BTreeSet<LiveGrant> {
    local
        .list_grants()
        .map(|grant| grant.unwrap())
        .collect()
        .await
}

fn permanent_message(result: Result<impl std::fmt::Debug, ConnectorError>) -> String {
    match result {
        Err(ConnectorError::Permanent(message)) => message,
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

#[tokio::test]
async fn grant_and_revoke_are_idempotent_and_say_whether_they_changed_anything() {
    let (_dir, local) = target_with_svc_and_reader().await;
    let (svc, reader) = (account("svc"), entitlement("reader"));

    let first = local.grant(&svc, &reader).await.unwrap();
    assert_eq!(first.operation, "grant");
    assert!(first.changed);
    assert_eq!(first.detail["file"], "entitlements/reader/svc");
    assert!(!local.grant(&svc, &reader).await.unwrap().changed);

    assert!(local.revoke(&svc, &reader).await.unwrap().changed);
    assert!(!local.revoke(&svc, &reader).await.unwrap().changed);
}

#[tokio::test]
async fn holds_reads_back_grants_and_revocations() {
    let (_dir, local) = target_with_svc_and_reader().await;
    let (svc, reader) = (account("svc"), entitlement("reader"));

    assert!(!local.holds(&svc, &reader).await.unwrap());
    local.grant(&svc, &reader).await.unwrap();
    assert!(local.holds(&svc, &reader).await.unwrap());
    local.revoke(&svc, &reader).await.unwrap();
    assert!(!local.holds(&svc, &reader).await.unwrap());
    assert!(
        !local
            .holds(&svc, &entitlement("never-declared"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_membership_removed_by_hand_is_no_longer_held() {
    let (_dir, local) = target_with_svc_and_reader().await;
    let (svc, reader) = (account("svc"), entitlement("reader"));
    local.grant(&svc, &reader).await.unwrap();

    std::fs::remove_file(local.path().join("entitlements/reader/svc")).unwrap();

    assert!(!local.holds(&svc, &reader).await.unwrap());
    assert!(all_grants(&local).await.is_empty());
}

#[tokio::test]
async fn granting_an_undeclared_entitlement_is_permanent() {
    let (_dir, local) = target_with_svc_and_reader().await;

    let message = permanent_message(local.grant(&account("svc"), &entitlement("admin")).await);

    assert!(
        message.contains("entitlement `admin` is not declared"),
        "{message}"
    );
}

#[tokio::test]
async fn granting_to_a_missing_account_is_permanent() {
    let (_dir, local) = target_with_svc_and_reader().await;

    let message = permanent_message(local.grant(&account("ghost"), &entitlement("reader")).await);

    assert!(
        message.contains("account `ghost` does not exist"),
        "{message}"
    );
}

#[tokio::test]
async fn revoking_from_a_missing_account_or_entitlement_changes_nothing() {
    let (_dir, local) = target_with_svc_and_reader().await;

    let missing_account = local
        .revoke(&account("ghost"), &entitlement("reader"))
        .await
        .unwrap();
    let missing_entitlement = local
        .revoke(&account("svc"), &entitlement("admin"))
        .await
        .unwrap();

    assert!(!missing_account.changed);
    assert!(!missing_entitlement.changed);
}

#[tokio::test]
async fn declaring_an_entitlement_twice_changes_nothing_the_second_time() {
    let (_dir, local) = target().await;

    assert!(
        local
            .declare_entitlement(&entitlement("reader"))
            .await
            .unwrap()
            .changed
    );
    assert!(
        !local
            .declare_entitlement(&entitlement("reader"))
            .await
            .unwrap()
            .changed
    );
}

#[tokio::test]
async fn disable_and_ensure_round_trip_an_account() {
    let (_dir, local) = target().await;
    let svc = account("svc");

    assert!(local.ensure_account(&svc).await.unwrap().changed);
    assert!(!local.ensure_account(&svc).await.unwrap().changed);
    let enabled = LiveAccount {
        key: svc.clone(),
        enabled: true,
    };
    assert_eq!(local.list_accounts().await.unwrap(), vec![enabled.clone()]);

    assert!(local.disable_account(&svc).await.unwrap().changed);
    assert!(!local.disable_account(&svc).await.unwrap().changed);
    let disabled = LiveAccount {
        key: svc.clone(),
        enabled: false,
    };
    assert_eq!(local.list_accounts().await.unwrap(), vec![disabled]);
    let on_disk = std::fs::read_to_string(local.path().join("accounts/svc.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&on_disk).unwrap(),
        json!({"key": "svc", "enabled": false})
    );

    assert!(local.ensure_account(&svc).await.unwrap().changed);
    assert_eq!(local.list_accounts().await.unwrap(), vec![enabled]);
}

#[tokio::test]
async fn disabling_a_missing_account_changes_nothing_and_says_it_does_not_exist() {
    let (_dir, local) = target().await;

    let receipt = local.disable_account(&account("ghost")).await.unwrap();

    assert!(!receipt.changed);
    assert_eq!(receipt.detail["exists"], false);
    assert!(local.list_accounts().await.unwrap().is_empty());
}

/// Every file and folder under `dir`, recursively.
fn every_path(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push(path.clone());
        if path.is_dir() {
            every_path(&path, out);
        }
    }
}

#[tokio::test]
async fn hostile_keys_stay_inside_the_directory_and_round_trip() {
    let (dir, local) = target().await;
    let long_unicode = "ключ🦀".repeat(51); // 255 characters, far over a file name when escaped
    let hostile = [
        "../etc/passwd",
        "/etc/passwd",
        "a/b",
        ".",
        "..",
        "...",
        ".hidden",
        "~tilde",
        "100%2F",
        "svc billing",
        "złoty€",
        "x.json",
        "cn=svc,ou=bots\\",
        long_unicode.as_str(),
        &".".repeat(255),
    ];
    let mut expected = BTreeSet::new();
    for key in hostile {
        local.ensure_account(&account(key)).await.unwrap();
        local.declare_entitlement(&entitlement(key)).await.unwrap();
    }
    for (i, account_key) in hostile.iter().enumerate() {
        // Each account gets its own entitlement and the next one, so pairs cannot be confused.
        for entitlement_key in [hostile[i], hostile[(i + 1) % hostile.len()]] {
            let (a, e) = (account(account_key), entitlement(entitlement_key));
            assert!(local.grant(&a, &e).await.unwrap().changed, "{account_key}");
            assert!(local.holds(&a, &e).await.unwrap(), "{account_key}");
            expected.insert(LiveGrant {
                account: a,
                entitlement: e,
            });
        }
    }

    assert_eq!(all_grants(&local).await, expected);
    let accounts: BTreeSet<_> = local
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|live| live.key.as_str().to_owned())
        .collect();
    let keys: BTreeSet<_> = hostile.iter().map(|key| (*key).to_owned()).collect();
    assert_eq!(accounts, keys);

    // Nothing escaped: the temporary directory holds only the target, every name under it is
    // one the connector writes, and there are exactly as many files as things written.
    let outside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(outside.len(), 1);
    let mut paths = Vec::new();
    every_path(local.path(), &mut paths);
    for path in &paths {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255, "{name}");
        assert!(!name.starts_with('.') || name == ".key", "{name}");
    }
    let key_files = paths.iter().filter(|p| p.ends_with(".key")).count();
    let expected_paths = 2 + hostile.len() * 2 + expected.len() + key_files;
    assert_eq!(paths.len(), expected_paths);

    for grant in &expected {
        assert!(
            local
                .revoke(&grant.account, &grant.entitlement)
                .await
                .unwrap()
                .changed
        );
    }
    assert!(all_grants(&local).await.is_empty());
}

#[test]
fn names_are_safe_and_decode_to_their_key() {
    for key in [
        "svc", "..", ".", "a/b", "%", "~x", "ключ", "a\u{0}b", ".env",
    ] {
        let encoded = names::encode(key);
        assert!(!encoded.hashed);
        assert!(!encoded.name.contains('/') && !encoded.name.contains('\0'));
        assert!(!encoded.name.starts_with('.'), "{}", encoded.name);
        assert_eq!(names::decode(&encoded.name), Decoded::Key(key.to_owned()));
    }
    assert_eq!(names::encode("a/b").name, "a%2Fb");
    assert_eq!(names::encode("..").name, "%2E.");

    let long = names::encode(&"é".repeat(255));
    assert!(long.hashed);
    assert_eq!(names::decode(&long.name), Decoded::Hashed);
    assert!(names::is_name_of(&long.name, &"é".repeat(255)));
    assert!(!names::is_name_of(&long.name, &"e".repeat(255)));
}

#[test]
fn names_the_connector_never_writes_are_foreign() {
    for name in ["a%2fb", "a b", "a%2", "%ZZ", "a%FF", "~abc", "ä"] {
        assert_eq!(names::decode(name), Decoded::Foreign, "{name}");
    }
    assert_eq!(names::decode(".tmpXYZ"), Decoded::Internal);
}

#[tokio::test]
async fn a_file_put_in_the_target_by_hand_fails_the_listing_permanently() {
    let (_dir, local) = target_with_svc_and_reader().await;
    local
        .grant(&account("svc"), &entitlement("reader"))
        .await
        .unwrap();
    std::fs::write(local.path().join("entitlements/reader/not escaped"), "").unwrap();

    let listed: Vec<_> = local.list_grants().collect().await;

    let error = listed.into_iter().find_map(Result::err).unwrap();
    assert!(!error.is_transient());
    assert!(error.to_string().contains("not escaped"), "{error}");
}

#[tokio::test]
async fn list_grants_streams_every_membership_created() {
    let (_dir, local) = target().await;
    let mut expected = BTreeSet::new();
    for e in ["reader", "writer"] {
        local.declare_entitlement(&entitlement(e)).await.unwrap();
    }
    for a in ["svc-1", "svc-2", "svc-3"] {
        local.ensure_account(&account(a)).await.unwrap();
        for e in ["reader", "writer"] {
            local.grant(&account(a), &entitlement(e)).await.unwrap();
            expected.insert(LiveGrant {
                account: account(a),
                entitlement: entitlement(e),
            });
        }
    }
    local
        .revoke(&account("svc-2"), &entitlement("writer"))
        .await
        .unwrap();
    expected.remove(&LiveGrant {
        account: account("svc-2"),
        entitlement: entitlement("writer"),
    });

    assert_eq!(all_grants(&local).await, expected);
}

#[tokio::test]
async fn list_grants_streams_twenty_thousand_populated_memberships() {
    let (_dir, local) = target().await;
    let entitlements = 7;
    let accounts = 20_000 / entitlements + 1;
    let grants = (0..20_000).map(move |i| LiveGrant {
        account: account(&format!("svc-{}", i % accounts)),
        entitlement: entitlement(&format!("role-{}", i / accounts)),
    });
    let keys = (0..accounts).map(|i| account(&format!("svc-{i}")));
    local.populate(keys, grants).await.unwrap();

    // Counted as they arrive: the stream never gathers them in one collection.
    let (count, errors) = local
        .list_grants()
        .fold((0_usize, 0_usize), |(count, errors), grant| async move {
            match grant {
                Ok(_) => (count + 1, errors),
                Err(_) => (count, errors + 1),
            }
        })
        .await;

    assert_eq!((count, errors), (20_000, 0));
    assert_eq!(local.list_accounts().await.unwrap().len(), accounts);
    assert!(
        local
            .holds(&account("svc-0"), &entitlement("role-0"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_listing_dropped_early_stops_cleanly() {
    let (_dir, local) = target().await;
    let grants = (0..3_000).map(|i| LiveGrant {
        account: account(&format!("svc-{i}")),
        entitlement: entitlement("reader"),
    });
    local.populate(Vec::new(), grants).await.unwrap();

    let first: Vec<_> = local.list_grants().take(10).collect().await;

    assert_eq!(first.len(), 10);
    assert!(first.iter().all(Result::is_ok));
}

#[tokio::test]
async fn check_passes_on_an_initialized_target() {
    let (_dir, local) = target().await;

    local.check().await.unwrap();
    assert_eq!(local.kind(), ConnectorKind::Local);
}

#[tokio::test]
async fn check_of_a_missing_or_uninitialized_directory_is_permanent() {
    let dir = tempfile::tempdir().unwrap();

    let missing = LocalConnector::open(dir.path().join("nowhere"));
    let message = permanent_message(missing.check().await);
    assert!(message.contains("does not exist"), "{message}");

    std::fs::write(dir.path().join("file"), "").unwrap();
    let not_a_directory = LocalConnector::open(dir.path().join("file"));
    let message = permanent_message(not_a_directory.check().await);
    assert!(message.contains("is not a directory"), "{message}");

    let empty = LocalConnector::open(dir.path());
    let message = permanent_message(empty.check().await);
    assert!(
        message.contains("not an initialized local target"),
        "{message}"
    );
}

#[tokio::test]
async fn check_of_a_read_only_directory_is_permanent() {
    use std::os::unix::fs::PermissionsExt;

    let (_dir, local) = target().await;
    let root = local.path().to_owned();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o555)).unwrap();

    // Root (and CAP_DAC_OVERRIDE) ignores modes: when this probe can write, the directory is
    // not read-only for this process and there is nothing to assert.
    let modes_enforced = std::fs::write(root.join("probe"), "").is_err();
    let result = local.check().await;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();

    if modes_enforced {
        let message = permanent_message(result);
        assert!(message.contains("cannot write in"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_grants_to_different_accounts_all_land() {
    let (_dir, local) = target().await;
    let local = local.with_fsync(true);
    let reader = entitlement("reader");
    local.declare_entitlement(&reader).await.unwrap();
    let keys: Vec<_> = (0..64).map(|i| account(&format!("svc-{i}"))).collect();

    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (local, key, reader) = (local.clone(), key.clone(), reader.clone());
            tokio::spawn(async move {
                local.ensure_account(&key).await.unwrap();
                // Two grants of the same membership race too: exactly one may report a change.
                let (a, b) = tokio::join!(local.grant(&key, &reader), local.grant(&key, &reader));
                u8::from(a.unwrap().changed) + u8::from(b.unwrap().changed)
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 1);
    }

    let listed: BTreeSet<_> = all_grants(&local)
        .await
        .into_iter()
        .map(|grant| grant.account)
        .collect();
    assert_eq!(listed, keys.into_iter().collect());
}

#[test]
fn config_gives_the_path_and_flushes_by_default() {
    let local =
        LocalConnector::from_config(&json!({"path": "/var/lib/writ/local/payments"})).unwrap();
    assert_eq!(local.path(), Path::new("/var/lib/writ/local/payments"));
    assert!(local.fsync());

    let fast = LocalConnector::from_config(&json!({"path": "/tmp/x", "fsync": false})).unwrap();
    assert!(!fast.fsync());
}

#[test]
fn bad_config_is_permanent_and_names_the_setting() {
    let cases = [
        (json!({}), "`path` is required"),
        (json!({"path": ""}), "`path` must be a non-empty string"),
        (json!({"path": 7}), "`path` must be a non-empty string"),
        (json!({"path": "/x", "fsync": "yes"}), "`fsync` must be"),
        (
            json!({"path": "/x", "paht": "/y"}),
            "`paht` is not a setting",
        ),
        (json!("/x"), "must be an object"),
    ];
    for (config, expected) in cases {
        let message = permanent_message(LocalConnector::from_config(&config));
        assert!(message.contains(expected), "{config}: {message}");
    }
}

#[tokio::test]
async fn a_rotated_credential_checks_and_the_previous_one_no_longer_does() {
    let (dir, local) = target_with_svc_and_reader().await;
    let svc = account("svc");
    let (first, second) = (
        crate::Secret::new("first-secret"),
        crate::Secret::new("second-secret"),
    );
    // No credential yet: nothing checks.
    assert!(!local.check_credential(&svc, &first).await.unwrap());

    let receipt = local.rotate_credential(&svc, &first).await.unwrap();
    assert_eq!(receipt.operation, "rotate_credential");
    assert!(local.check_credential(&svc, &first).await.unwrap());
    assert!(!local.check_credential(&svc, &second).await.unwrap());

    local.rotate_credential(&svc, &second).await.unwrap();
    assert!(local.check_credential(&svc, &second).await.unwrap());
    assert!(!local.check_credential(&svc, &first).await.unwrap());

    // The target keeps a salted hash, never the secret.
    let stored = std::fs::read_to_string(dir.path().join("target/credentials/svc.json")).unwrap();
    assert!(!stored.contains("second-secret"), "{stored}");
    assert!(!receipt.detail.to_string().contains("first-secret"));
}

#[tokio::test]
async fn a_missing_account_has_no_credential_and_cannot_be_given_one() {
    let (_dir, local) = target().await;
    let ghost = account("ghost");
    let secret = crate::Secret::new("s");
    assert!(!local.check_credential(&ghost, &secret).await.unwrap());
    let message = permanent_message(local.rotate_credential(&ghost, &secret).await);
    assert!(message.contains("does not exist"), "{message}");
}
