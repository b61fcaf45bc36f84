//! `TestApp`: writ's HTTP server on a fresh store, with a small organisation around a `local`
//! target, use cases over a manual clock, and a job runner the test drives (`run_jobs`).

use std::net::SocketAddr;
use std::sync::Arc;

use writ_connect::{ProcessEnv, Registry};
use writ_core::Clock;
use writ_core::evidence::{Bundles, Checkpointer};
use writ_core::execute::Executor;
use writ_core::requests::{Requests, Roles};
use writ_core::rotate::{Reveal, Rotations, Sealer, SecretKey};
use writ_core::runner::JobRunner;
use writ_core::tokens::Tokens;
use writ_domain::TokenScope;
use writ_domain::audit::Actor;
use writ_domain::checkpoint::NoteSigner;
use writ_policy::PolicyEngine;
use writ_server::AppState;

use crate::{ManualClock, TestDb};

/// The organisation every `TestApp` starts with: Alice owns `svc`; Carol asks; Sam and Priya
/// are in `security`; Root is an admin and Audrey an auditor. `target` is a production
/// `local` system, so `target/readers` needs its identity's owner and security to approve.
pub fn catalog_yaml(target_path: &str) -> String {
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
  - {{external_id: sam, email: sam@org.example, name: Sam Security, groups: [security]}}
  - {{external_id: priya, email: priya@org.example, name: Priya Security, groups: [security]}}
  - {{external_id: root, email: root@org.example, name: Root Admin, groups: [writ-admins]}}
  - {{external_id: audrey, email: audrey@org.example, name: Audrey Auditor, groups: [writ-auditors]}}
systems:
  - name: target
    connector: local
    owner: alice@org.example
    environment: production
    criticality: high
    config: {{path: "{target_path}"}}
entitlements:
  - system: target
    key: readers
    name: Readers
    risk: medium
    default_ttl: 8h
    max_ttl: 7d
    owner: sam@org.example
    allowed_identity_kinds: [service_account]
    break_glass: {{max_ttl: 1h}}
identities:
  - name: svc
    kind: service_account
    owner: alice@org.example
    team: team
    purpose: the service under test
    environment: production
"#
    )
}

/// writ's HTTP surface over a fresh store and organisation; [`TestApp::spawn`] also serves it
/// on a free loopback port until dropped.
pub struct TestApp {
    /// The store.
    pub db: TestDb,
    /// The clock every use case reads.
    pub clock: Arc<ManualClock>,
    /// What the handlers reach.
    pub state: AppState,
    /// The job runner; tests run it with [`TestApp::run_jobs`].
    pub runner: JobRunner,
    /// Rotate requests (sealed under a key of this app's own).
    pub rotations: Rotations,
    /// The `local` target's directory.
    pub target: tempfile::TempDir,
    addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// The app over `db`, with [`catalog_yaml`] applied; not listening.
    pub async fn new(db: TestDb) -> Self {
        let target = tempfile::tempdir().unwrap();
        let local = writ_connect::local::LocalConnector::open(target.path());
        local.init().await.unwrap();
        local
            .declare_entitlement(&"readers".parse().unwrap())
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new());
        let store = db.store();
        writ_core::catalog::apply(
            &*store,
            &*clock,
            Actor::system("test"),
            "org.yaml",
            &catalog_yaml(&target.path().display().to_string()),
            false,
        )
        .await
        .unwrap();
        let as_clock = || clock.clone() as Arc<dyn Clock>;
        let policy = Arc::new(PolicyEngine::load(None).unwrap());
        let requests = Requests::new(store.clone(), policy, as_clock(), Roles::default());
        let sealer = Arc::new(Sealer::new(&SecretKey::generate().unwrap()));
        let executor = Executor::new(
            store.clone(),
            Arc::new(Registry::new(ProcessEnv)),
            as_clock(),
        )
        .with_sealer(sealer.clone());
        let rotations = Rotations::new(
            requests.clone(),
            store.clone(),
            as_clock(),
            Some(sealer.clone()),
        );
        let runner = JobRunner::new(store.clone(), executor, as_clock(), "test-worker");
        let campaigns = writ_core::campaigns::Campaigns::new(
            store.clone(),
            requests.clone(),
            as_clock(),
            Roles::default(),
        );
        let state = AppState {
            store: store.clone(),
            clock: as_clock(),
            requests,
            campaigns,
            reveal: Reveal::new(store.clone(), as_clock(), Some(sealer)),
            tokens: Tokens::new(store.clone(), as_clock(), Roles::default()),
            bundles: Bundles::new(
                store.clone(),
                Some(Checkpointer::new(
                    store,
                    Arc::new(test_signer()),
                    as_clock(),
                )),
            ),
            portal: writ_server::PortalConfig::default(),
            webhooks: Default::default(),
        };
        Self {
            db,
            clock,
            state,
            runner,
            rotations,
            target,
            addr: None,
            stop: None,
        }
    }

    /// The app over `db`, serving on `127.0.0.1:0` until dropped.
    pub async fn spawn(db: TestDb) -> Self {
        Self::spawn_with(Self::new(db).await).await
    }

    /// The app over `db` with the portal's one-time demo logins on, serving on
    /// `127.0.0.1:0` until dropped; [`TestApp::login_link`] issues links.
    pub async fn spawn_demo(db: TestDb) -> Self {
        let mut app = Self::new(db).await;
        app.state.portal.demo = Some(writ_server::DemoLogins::default());
        Self::spawn_with(app).await
    }

    /// A one-time login path (`/portal/login/demo?code=…`) for `email`; needs demo logins on.
    pub fn login_link(&self, email: &str) -> String {
        let code = self
            .state
            .portal
            .demo
            .as_ref()
            .expect("demo logins are on (spawn_demo)")
            .issue(
                email,
                self.clock.now().plus(writ_server::DEMO_LINK_LIFETIME),
            )
            .unwrap();
        format!("/portal/login/demo?code={code}")
    }

    async fn spawn_with(mut app: Self) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        app.addr = Some(listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        app.stop = Some(stop);
        tokio::spawn(writ_server::serve(
            listener,
            app.state.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        app
    }

    /// The router, for tests without a socket.
    pub fn router(&self) -> axum::Router {
        writ_server::router(self.state.clone())
    }

    /// The base URL of a spawned app, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!(
            "http://{}",
            self.addr.expect("TestApp::spawn serves; new does not")
        )
    }

    /// A new API token for `email` with `scope`.
    pub async fn token(&self, email: &str, scope: TokenScope) -> String {
        self.state
            .tokens
            .create(
                email,
                scope,
                std::time::Duration::from_secs(86_400),
                Actor::system("test"),
            )
            .await
            .unwrap()
            .secret
    }

    /// Runs due jobs until none is left; returns how many ran.
    pub async fn run_jobs(&self) -> usize {
        let mut ran = 0;
        loop {
            match self.runner.run_once().await.unwrap() {
                0 => return ran,
                n => ran += n,
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The key a [`TestApp`] signs audit checkpoints with; its public half verifies bundles the
/// app exports.
pub fn test_signer() -> NoteSigner {
    // A fixed seed and a valid name: this cannot fail.
    #[allow(clippy::expect_used)]
    NoteSigner::from_seed("test.writ.example/audit", [11; 32]).expect("a valid key name")
}
