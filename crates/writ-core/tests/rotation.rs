//! Credential rotation end to end through the use cases: submit (policy, sealed current
//! credential, maintenance window), the job runner rotates on a real target and proves the new
//! credential works and the old one does not, and the requester reveals the new secret once.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::sync::Arc;
use std::time::Duration;

use org::{Org, PgTarget, catalog_yaml, local_target, psql};
use writ_connect::{Connector, ProcessEnv, Registry, Secret};
use writ_core::execute::Executor;
use writ_core::rotate::{NewRotation, Reveal, Rotations, Sealer, SecretKey};
use writ_core::runner::JobRunner;
use writ_core::{Clock, CoreError};
use writ_domain::{AccountKey, IdentityKind, Request, RequestStatus, Timestamp};
use writ_testkit::TestDb;

/// An organisation with rotation wired in: the use cases and a runner that seal with one key.
struct Rotating {
    org: Org,
    rotations: Rotations,
    reveal: Reveal,
    runner: JobRunner,
}

impl Rotating {
    async fn new(db: TestDb, prefix: &str, config: &str) -> Self {
        Self::with_catalog(db, &catalog_yaml(prefix, config, "development")).await
    }

    async fn with_catalog(db: TestDb, yaml: &str) -> Self {
        let org = Org::with_catalog(db, yaml).await;
        let sealer = Arc::new(Sealer::new(&SecretKey::generate().unwrap()));
        let store = org.db.store();
        let clock = org.clock.clone() as Arc<dyn Clock>;
        let executor = Executor::new(
            store.clone(),
            Arc::new(Registry::new(ProcessEnv)),
            clock.clone(),
        )
        .with_sealer(sealer.clone());
        let runner = JobRunner::new(store.clone(), executor, clock.clone(), "rotation-worker");
        Self {
            rotations: Rotations::new(
                org.requests.clone(),
                store.clone(),
                clock.clone(),
                Some(sealer.clone()),
            ),
            reveal: Reveal::new(store, clock, Some(sealer)),
            runner,
            org,
        }
    }

    /// Alice, the identity's owner, asks to rotate its credential on the target.
    async fn submit(&self, current: Option<&str>, not_before: Option<Timestamp>) -> Request {
        let catalog = self.org.db.store().catalog().await.unwrap();
        let submitted = self
            .rotations
            .submit(NewRotation {
                requester: self.org.id_of("alice@org.example").await,
                identity: catalog.identities[0].id,
                system: catalog.systems[0].id,
                justification: "quarterly rotation".into(),
                current: current.map(Secret::new),
                not_before,
            })
            .await
            .unwrap();
        assert!(
            submitted.explanation.decision.allowed,
            "{:?}",
            submitted.explanation.decision
        );
        assert_eq!(submitted.request.status, RequestStatus::Approved);
        submitted.request
    }

    async fn reveal_as(&self, email: &str, request: &Request) -> Result<Secret, CoreError> {
        let who = self.org.id_of(email).await;
        self.reveal
            .reveal(who, request.number)
            .await
            .map(|revealed| revealed.secret)
    }

    /// Sealed secrets the store still holds for `request`, counted independently of writ.
    async fn sealed_rows(&self, request: &Request) -> i64 {
        let sql = format!(
            "SELECT count(*) FROM sealed_secrets WHERE request_id = {}",
            match self.org.db.backend() {
                "sqlite" => format!("X'{}'", request.id.as_uuid().simple()),
                _ => format!("'{}'", request.id.as_uuid()),
            }
        );
        query_count(&self.org.db, &sql).await
    }
}

async fn query_count(db: &TestDb, sql: &str) -> i64 {
    let out = match db.backend() {
        "sqlite" => {
            let path = db.url().trim_start_matches("sqlite://");
            let output = std::process::Command::new("sqlite3")
                .args([path, sql])
                .output()
                .expect("the sqlite3 shell reads the store independently of writ");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap()
        }
        _ => psql(db.url(), None, sql),
    };
    out.trim().parse().unwrap()
}

fn key(name: &str) -> AccountKey {
    name.parse().unwrap()
}

#[tokio::test]
async fn a_first_issue_then_a_rotation_on_the_local_target_deliver_each_secret_once() {
    for db in TestDb::each().await {
        let (_dir, target, config) = local_target("r_", false).await;
        let world = Rotating::new(db, "r_", &config).await;
        let account = key("r_svc");

        // A first issue needs no current credential: writ has none on record.
        let first = world.submit(None, None).await;
        assert_eq!(world.runner.run_once().await.unwrap(), 1);
        assert_eq!(world.org.status(&first).await, RequestStatus::Fulfilled);
        assert_eq!(
            world.sealed_rows(&first).await,
            1,
            "waiting for its delivery"
        );
        let issued = world.reveal_as("alice@org.example", &first).await.unwrap();
        assert_eq!(issued.expose().len(), 64);
        assert!(target.check_credential(&account, &issued).await.unwrap());
        assert_eq!(world.sealed_rows(&first).await, 0, "wiped once revealed");
        let again = world
            .reveal_as("alice@org.example", &first)
            .await
            .unwrap_err();
        assert!(again.to_string().contains("revealed already"), "{again}");

        // Now writ has a credential on record: the current one must be handed over.
        let catalog = world.org.db.store().catalog().await.unwrap();
        let refused = world
            .rotations
            .submit(NewRotation {
                requester: world.org.id_of("alice@org.example").await,
                identity: catalog.identities[0].id,
                system: catalog.systems[0].id,
                justification: "rotate".into(),
                current: None,
                not_before: None,
            })
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("hand over"), "{refused}");

        let second = world.submit(Some(issued.expose()), None).await;
        assert_eq!(world.runner.run_once().await.unwrap(), 1);
        assert_eq!(world.org.status(&second).await, RequestStatus::Fulfilled);
        let rotated = world.reveal_as("alice@org.example", &second).await.unwrap();
        assert_ne!(rotated.expose(), issued.expose());
        assert!(target.check_credential(&account, &rotated).await.unwrap());
        assert!(!target.check_credential(&account, &issued).await.unwrap());

        let actions = world.org.audit_actions().await;
        assert!(
            actions.ends_with(&[
                "request.submitted".into(),
                "request.executing".into(),
                "request.fulfilled".into(),
                "credential.revealed".into(),
            ]),
            "{actions:?}"
        );
        // No secret, in clear, anywhere in the audit log.
        let log = format!(
            "{:?}",
            world.org.db.store().audit_page(0, 10_000).await.unwrap()
        );
        assert!(!log.contains(rotated.expose()) && !log.contains(issued.expose()));
    }
}

#[tokio::test]
async fn an_api_key_identity_is_issued_its_key_and_rotated_the_same_way() {
    for db in TestDb::each().await {
        let (_dir, target, config) = local_target("k_", false).await;
        let yaml = catalog_yaml("k_", &config, "development")
            .replace("kind: service_account", "kind: api_key");
        let world = Rotating::with_catalog(db, &yaml).await;
        let catalog = world.org.db.store().catalog().await.unwrap();
        assert_eq!(catalog.identities[0].kind, IdentityKind::ApiKey);
        let account = key("k_svc");

        let issue = world.submit(None, None).await;
        assert_eq!(world.runner.run_once().await.unwrap(), 1);
        assert_eq!(world.org.status(&issue).await, RequestStatus::Fulfilled);
        let issued = world.reveal_as("alice@org.example", &issue).await.unwrap();
        assert!(target.check_credential(&account, &issued).await.unwrap());

        let rotation = world.submit(Some(issued.expose()), None).await;
        assert_eq!(world.runner.run_once().await.unwrap(), 1);
        assert_eq!(world.org.status(&rotation).await, RequestStatus::Fulfilled);
        let rotated = world
            .reveal_as("alice@org.example", &rotation)
            .await
            .unwrap();
        assert!(target.check_credential(&account, &rotated).await.unwrap());
        assert!(
            !target.check_credential(&account, &issued).await.unwrap(),
            "the old key no longer works"
        );
        assert_eq!(world.sealed_rows(&rotation).await, 0);
    }
}

#[tokio::test]
async fn only_the_requester_may_reveal_and_nothing_is_taken_without_a_secret_key() {
    let db = TestDb::sqlite().await;
    let (_dir, _target, config) = local_target("q_", false).await;
    let world = Rotating::new(db, "q_", &config).await;
    let request = world.submit(None, None).await;
    world.runner.run_once().await.unwrap();
    let forbidden = world
        .reveal_as("carol@org.example", &request)
        .await
        .unwrap_err();
    assert!(matches!(forbidden, CoreError::Forbidden(_)), "{forbidden}");
    assert_eq!(
        world.sealed_rows(&request).await,
        1,
        "still there for alice"
    );
    world
        .reveal_as("alice@org.example", &request)
        .await
        .unwrap();

    let store = world.org.db.store();
    let clock = world.org.clock.clone() as Arc<dyn Clock>;
    let keyless = Rotations::new(world.org.requests.clone(), store, clock, None);
    let catalog = world.org.db.store().catalog().await.unwrap();
    let err = keyless
        .submit(NewRotation {
            requester: world.org.id_of("alice@org.example").await,
            identity: catalog.identities[0].id,
            system: catalog.systems[0].id,
            justification: "rotate".into(),
            current: Some(Secret::new("whatever")),
            not_before: None,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("secret_key_file"), "{err}");
}

#[tokio::test]
async fn a_rotation_waits_for_its_maintenance_window() {
    let db = TestDb::sqlite().await;
    let (_dir, target, config) = local_target("w_", false).await;
    let world = Rotating::new(db, "w_", &config).await;
    let window = world.org.clock.now().plus(Duration::from_secs(3600));
    let request = world.submit(None, Some(window)).await;
    world.org.clock.advance(Duration::from_secs(3599));
    assert_eq!(
        world.runner.run_once().await.unwrap(),
        0,
        "not before the window"
    );
    assert_eq!(world.org.status(&request).await, RequestStatus::Approved);
    world.org.clock.advance(Duration::from_secs(1));
    assert_eq!(world.runner.run_once().await.unwrap(), 1);
    assert_eq!(world.org.status(&request).await, RequestStatus::Fulfilled);
    let secret = world
        .reveal_as("alice@org.example", &request)
        .await
        .unwrap();
    assert!(
        target
            .check_credential(&key("w_svc"), &secret)
            .await
            .unwrap()
    );
}

/// The role's stored password verifier, read independently of writ.
fn verifier_of(target: &PgTarget, role: &str) -> String {
    psql(
        &target.admin_url,
        None,
        &format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"),
    )
}

#[tokio::test]
async fn on_postgres_a_wrong_current_password_changes_nothing_and_a_right_one_rotates_it() {
    let Some(pg) = PgTarget::new().await else {
        eprintln!("skipped: set WRIT_TEST_POSTGRES_URL to run against a real PostgreSQL");
        return;
    };
    for db in TestDb::each().await {
        let config = format!(
            r#"{{host: 127.0.0.1, port: 5432, database: {}, user: postgres, sslmode: disable}}"#,
            pg.database
        );
        let world = Rotating::new(db, &pg.prefix, &config).await;
        let role = format!("{}svc", pg.prefix);
        let account = key(&role);
        psql(
            &pg.admin_url,
            None,
            &format!(
                "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'Current-Pw-1'"
            ),
        );
        let before = verifier_of(&pg, &role);
        let connector = writ_connect::connector_for(
            &world.org.db.store().catalog().await.unwrap().systems[0],
            &ProcessEnv,
        )
        .unwrap();

        // A wrong current password: the request fails and the role keeps its password.
        let wrong = world.submit(Some("Current-Pw-2"), None).await;
        assert_eq!(world.runner.run_once().await.unwrap(), 1);
        assert_eq!(world.org.status(&wrong).await, RequestStatus::Failed);
        assert_eq!(verifier_of(&pg, &role), before, "nothing changed");
        assert!(
            connector
                .check_credential(&account, &Secret::new("Current-Pw-1"))
                .await
                .unwrap()
        );
        assert_eq!(
            world.sealed_rows(&wrong).await,
            0,
            "the handed-over secret is wiped"
        );
        let nothing = world
            .reveal_as("alice@org.example", &wrong)
            .await
            .unwrap_err();
        assert!(nothing.to_string().contains("failed"), "{nothing}");

        // The right one: rotated, the old password no longer checks, the new one does.
        let right = world.submit(Some("Current-Pw-1"), None).await;
        assert_eq!(
            world.sealed_rows(&right).await,
            1,
            "the current one, sealed"
        );
        assert_eq!(world.runner.run_once().await.unwrap(), 1);
        assert_eq!(world.org.status(&right).await, RequestStatus::Fulfilled);
        assert_ne!(verifier_of(&pg, &role), before);
        let new = world.reveal_as("alice@org.example", &right).await.unwrap();
        assert!(connector.check_credential(&account, &new).await.unwrap());
        assert!(
            !connector
                .check_credential(&account, &Secret::new("Current-Pw-1"))
                .await
                .unwrap()
        );
        // Revealed once, then gone from the database: no sealed row, and neither secret in
        // clear in any table or the audit log.
        assert!(world.reveal_as("alice@org.example", &right).await.is_err());
        assert_eq!(world.sealed_rows(&right).await, 0);
        let log = format!(
            "{:?}",
            world.org.db.store().audit_page(0, 10_000).await.unwrap()
        );
        assert!(!log.contains(new.expose()) && !log.contains("Current-Pw-1"));
        if world.org.db.backend() == "sqlite" {
            let path = world
                .org
                .db
                .url()
                .trim_start_matches("sqlite://")
                .to_string();
            for file in [path.clone(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    for secret in [new.expose(), "Current-Pw-1"] {
                        assert!(
                            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                            "a secret in clear in {file}"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn offboarding_revokes_the_credentials_and_wipes_secrets_awaiting_delivery() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("o_", true).await;
        let world = Rotating::new(db, "o_", &config).await;
        let issued = world.submit(None, None).await;
        world.runner.run_once().await.unwrap();
        assert_eq!(world.org.status(&issued).await, RequestStatus::Fulfilled);
        assert_eq!(world.sealed_rows(&issued).await, 1, "not revealed yet");
        let active = "SELECT count(*) FROM credentials WHERE status = 'active'";
        assert_eq!(query_count(&world.org.db, active).await, 1);

        let catalog = world.org.db.store().catalog().await.unwrap();
        let offboard = world
            .org
            .requests
            .submit(writ_core::requests::NewRequest {
                requester: world.org.id_of("alice@org.example").await,
                kind: writ_domain::RequestKind::Offboard,
                identity: catalog.identities[0].id,
                entitlement: None,
                justification: "the service was retired".into(),
                ttl: None,
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await
            .unwrap()
            .request;
        while world.runner.run_once().await.unwrap() > 0 {}
        assert_eq!(world.org.status(&offboard).await, RequestStatus::Fulfilled);
        assert_eq!(query_count(&world.org.db, active).await, 0);
        let revoked = "SELECT count(*) FROM credentials WHERE status = 'revoked'";
        assert_eq!(query_count(&world.org.db, revoked).await, 1);
        assert_eq!(
            world.sealed_rows(&issued).await,
            0,
            "wiped with the identity"
        );
        let late = world.reveal_as("alice@org.example", &issued).await;
        assert!(late.is_err(), "nothing left to reveal: {late:?}");
    }
}
