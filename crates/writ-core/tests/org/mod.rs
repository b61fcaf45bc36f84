//! A small organisation around one target system, for execution tests: its catalog, use
//! cases over a manual clock, and the targets it runs on (a `local` directory, or a database
//! and unique roles on the test PostgreSQL cluster).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;

use writ_connect::{ProcessEnv, Registry};
use writ_core::execute::Executor;
use writ_core::requests::{Decide, Decided, NewRequest, Requests, Roles};
use writ_core::runner::JobRunner;
use writ_core::{Clock, CoreError};
use writ_domain::audit::Actor;
use writ_domain::{ApprovalDecision, Request, RequestKind, RequestStatus, Ttl};
use writ_policy::PolicyEngine;
use writ_testkit::{ManualClock, TestDb};

/// A small organisation around one target system, named with a unique prefix so tests on a
/// shared PostgreSQL cluster never collide.
pub struct Org {
    pub db: TestDb,
    pub clock: Arc<ManualClock>,
    pub requests: Requests,
    pub executor: Executor,
    pub runner: JobRunner,
}

pub fn catalog_yaml(prefix: &str, system_config: &str, environment: &str) -> String {
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
  - {{external_id: sam, email: sam@org.example, name: Sam Security, groups: [security]}}
  - {{external_id: priya, email: priya@org.example, name: Priya Security, groups: [security]}}
systems:
  - name: target
    connector: {connector}
    owner: alice@org.example
    environment: {environment}
    criticality: high
    config: {system_config}
entitlements:
  - system: target
    key: {prefix}readers
    name: Readers
    risk: medium
    default_ttl: 8h
    max_ttl: 7d
    owner: sam@org.example
    allowed_identity_kinds: [service_account]
identities:
  - name: {prefix}svc
    kind: service_account
    owner: alice@org.example
    team: team
    purpose: the service under test
    environment: {environment}
"#,
        connector = if system_config.contains("path") {
            "local"
        } else {
            "postgres"
        },
    )
}

impl Org {
    pub async fn new(db: TestDb, prefix: &str, system_config: &str, environment: &str) -> Self {
        Self::with_catalog(db, &catalog_yaml(prefix, system_config, environment)).await
    }

    /// The organisation `yaml` describes.
    pub async fn with_catalog(db: TestDb, yaml: &str) -> Self {
        let clock = Arc::new(ManualClock::new());
        let store = db.store();
        writ_core::catalog::apply(
            &*store,
            &*clock,
            Actor::system("test"),
            "org.yaml",
            yaml,
            false,
        )
        .await
        .unwrap();
        let policy = Arc::new(PolicyEngine::load(None).unwrap());
        let requests = Requests::new(
            store.clone(),
            policy,
            clock.clone() as Arc<dyn Clock>,
            Roles::default(),
        );
        let executor = Executor::new(
            store.clone(),
            Arc::new(Registry::new(ProcessEnv)),
            clock.clone() as Arc<dyn Clock>,
        );
        let runner = JobRunner::new(
            store,
            executor.clone(),
            clock.clone() as Arc<dyn Clock>,
            "test-worker",
        );
        Self {
            db,
            clock,
            requests,
            executor,
            runner,
        }
    }

    /// Applies `yaml` as the catalog now (e.g. a system's changed configuration).
    pub async fn apply(&self, yaml: &str) {
        writ_core::catalog::apply(
            &*self.db.store(),
            &*self.clock,
            Actor::system("test"),
            "org.yaml",
            yaml,
            false,
        )
        .await
        .unwrap();
    }

    pub async fn id_of(&self, email: &str) -> writ_domain::PrincipalId {
        let catalog = self.db.store().catalog().await.unwrap();
        catalog
            .principals
            .iter()
            .find(|p| p.email.as_str() == email)
            .unwrap()
            .id
    }

    /// Carol asks read access for the service for 8 hours.
    pub async fn submit(&self) -> Request {
        self.submit_for(0).await
    }

    /// Carol asks the catalog's `index`-th entitlement for the service for 8 hours.
    pub async fn submit_for(&self, index: usize) -> Request {
        let catalog = self.db.store().catalog().await.unwrap();
        let submitted = self
            .requests
            .submit(NewRequest {
                requester: self.id_of("carol@org.example").await,
                kind: RequestKind::Grant,
                identity: catalog.identities[0].id,
                entitlement: Some(catalog.entitlements[index].id),
                justification: "reads the ledger for the nightly report".into(),
                ttl: Some(Ttl::parse("8h").unwrap()),
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await
            .unwrap();
        assert!(
            submitted.explanation.decision.allowed,
            "{:?}",
            submitted.explanation.decision
        );
        submitted.request
    }

    pub async fn approve(&self, email: &str, request: &Request) -> Result<Decided, CoreError> {
        self.requests
            .decide(Decide {
                approver: self.id_of(email).await,
                request: request.id,
                decision: ApprovalDecision::Approve,
                reason: None,
                plan_hash: request.plan_hash.unwrap(),
            })
            .await
    }

    pub async fn status(&self, request: &Request) -> RequestStatus {
        self.db
            .store()
            .request(request.id)
            .await
            .unwrap()
            .unwrap()
            .0
            .status
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        self.db
            .store()
            .audit_page(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

/// A `local` target in a temporary directory with `<prefix>readers` declared (unless
/// `declare` is false), and the system config that points at it.
pub async fn local_target(
    prefix: &str,
    declare: bool,
) -> (
    tempfile::TempDir,
    writ_connect::local::LocalConnector,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let target = writ_connect::local::LocalConnector::open(dir.path());
    target.init().await.unwrap();
    if declare {
        target
            .declare_entitlement(&format!("{prefix}readers").parse().unwrap())
            .await
            .unwrap();
    }
    let config = format!(r#"{{path: "{}"}}"#, dir.path().display());
    (dir, target, config)
}

/// Runs SQL on the test cluster with psql, independently of writ, and returns the output.
pub fn psql(admin_url: &str, database: Option<&str>, sql: &str) -> String {
    let url = match database {
        Some(db) => writ_store::scratch::database_url(admin_url, db),
        None => admin_url.to_string(),
    };
    let output = Command::new("psql")
        .args([url.as_str(), "-tAc", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A target database and a unique role prefix on the test cluster, removed afterwards.
pub struct PgTarget {
    pub admin_url: String,
    pub database: String,
    pub prefix: String,
}

impl PgTarget {
    pub async fn new() -> Option<Self> {
        let admin_url = writ_testkit::postgres_admin_url()?;
        let (database, _) =
            writ_store::scratch::create_postgres_database(&admin_url, "writ_target")
                .await
                .unwrap();
        let prefix = format!("t{}_", &uuid_hex()[..10]);
        psql(
            &admin_url,
            None,
            &format!("CREATE ROLE {prefix}readers NOLOGIN"),
        );
        Some(Self {
            admin_url,
            database,
            prefix,
        })
    }

    pub fn config(&self, port: u16) -> String {
        format!(
            r#"{{host: 127.0.0.1, port: {port}, database: {}, user: postgres, sslmode: disable, connect_timeout_secs: 1}}"#,
            self.database
        )
    }

    pub fn is_member(&self) -> bool {
        let sql = format!(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
             JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = '{p}readers' AND u.rolname = '{p}svc'",
            p = self.prefix
        );
        psql(&self.admin_url, None, &sql) == "1"
    }
}

impl Drop for PgTarget {
    fn drop(&mut self) {
        let p = &self.prefix;
        let _ = Command::new("psql")
            .args([
                &self.admin_url,
                "-tAc",
                &format!("DROP ROLE IF EXISTS {p}svc; DROP ROLE IF EXISTS {p}readers;"),
            ])
            .output();
        let _ = Command::new("psql")
            .args([
                &self.admin_url,
                "-tAc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            ])
            .output();
    }
}

pub fn uuid_hex() -> String {
    format!("{:032x}", fastrand::u128(..))
}
