//! The connector against the real PostgreSQL named by `WRIT_TEST_POSTGRES_URL` (skipped with a
//! message when it is unset; failing when it is set but unreachable). Roles are cluster-wide,
//! so every test names its roles with its own random `t<hex>_` prefix, and a guard drops every
//! role with that prefix when the test ends, passed or failed.

use std::collections::BTreeSet;
use std::str::FromStr;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool};
use writ_domain::{AccountKey, EntitlementKey};

use super::PostgresConnector;
use crate::{Connector, ConnectorError, LiveAccount, LiveGrant, ProcessEnv};

/// The cluster under test, seen through an admin connection, and this test's role prefix.
struct Cluster {
    options: PgConnectOptions,
    admin: PgPool,
    prefix: String,
}

/// The cluster, or `None` (with a message) when `WRIT_TEST_POSTGRES_URL` is unset.
async fn cluster() -> Option<Cluster> {
    let Ok(url) = std::env::var("WRIT_TEST_POSTGRES_URL") else {
        eprintln!(
            "skipped: set WRIT_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) \
             to run the postgres connector tests"
        );
        return None;
    };
    let options = PgConnectOptions::from_str(&url)
        .expect("WRIT_TEST_POSTGRES_URL is a postgres:// URL")
        .disable_statement_logging();
    let admin = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.clone())
        .await
        .unwrap_or_else(|e| panic!("WRIT_TEST_POSTGRES_URL is set but unreachable: {e}"));
    let prefix = format!("t{}_", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    Some(Cluster {
        options,
        admin,
        prefix,
    })
}

impl Cluster {
    /// `name` with this test's prefix.
    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The prefix this test's connectors give accounts.
    fn account_prefix(&self) -> String {
        self.name("nhi_")
    }

    /// Connector config for this cluster as the URL's user, plus `extra` keys.
    fn config(&self, extra: Value) -> Value {
        let mut config = json!({
            "host": self.options.get_host(),
            "port": self.options.get_port(),
            "database": self.options.get_database().unwrap_or("postgres"),
            "user": self.options.get_username(),
            "sslmode": "disable",
        });
        if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
            config.extend(extra);
        }
        config
    }

    /// A connector as the admin user whose accounts are this test's `nhi_` roles.
    fn connector(&self) -> PostgresConnector {
        self.connector_with(json!({"role_prefix": self.account_prefix()}))
    }

    fn connector_with(&self, extra: Value) -> PostgresConnector {
        PostgresConnector::from_config(&self.config(extra), &ProcessEnv).unwrap()
    }

    async fn sql(&self, sql: String) {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&self.admin)
            .await
            .unwrap();
    }

    /// `name` quoted by the server's own `quote_ident`, independent of the connector's.
    async fn quoted(&self, name: &str) -> String {
        sqlx::query_scalar("SELECT quote_ident($1)")
            .bind(name)
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }

    /// Creates a role as the admin with the given attributes (`LOGIN`, `NOLOGIN`, ...).
    async fn create_role(&self, name: &str, attributes: &str) {
        let quoted = self.quoted(name).await;
        self.sql(format!("CREATE ROLE {quoted} {attributes}")).await;
    }

    /// `rolcanlogin` of `name`, or `None` when no such role exists.
    async fn can_login(&self, name: &str) -> Option<bool> {
        sqlx::query_scalar("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1")
            .bind(name)
            .fetch_optional(&self.admin)
            .await
            .unwrap()
    }

    /// Whether `pg_auth_members` holds `member` in `group`, read independently of the connector.
    async fn is_member(&self, member: &str, group: &str) -> bool {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_auth_members
             WHERE member = (SELECT oid FROM pg_roles WHERE rolname = $1)
               AND roleid = (SELECT oid FROM pg_roles WHERE rolname = $2)",
        )
        .bind(member)
        .bind(group)
        .fetch_one(&self.admin)
        .await
        .unwrap();
        count > 0
    }

    /// Every role carrying this test's prefix.
    async fn own_roles(&self) -> BTreeSet<String> {
        sqlx::query_scalar::<_, String>(
            "SELECT rolname::text FROM pg_roles WHERE starts_with(rolname, $1)",
        )
        .bind(&self.prefix)
        .fetch_all(&self.admin)
        .await
        .unwrap()
        .into_iter()
        .collect()
    }

    /// Sessions open as `name`.
    async fn sessions_of(&self, name: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = $1")
            .bind(name)
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }

    /// A session as `role`: trust auth on 127.0.0.1 lets the test log in as any role.
    async fn connect_as(&self, role: &str) -> Result<PgConnection, sqlx::Error> {
        PgConnection::connect_with(&self.options.clone().username(role)).await
    }
}

impl Drop for Cluster {
    /// Drops every role this test created. Runs on its own thread and runtime because `Drop`
    /// cannot await, and also while a failed test unwinds.
    fn drop(&mut self) {
        let options = self.options.clone();
        let prefix = self.prefix.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&options).await?;
                let roles: Vec<String> = sqlx::query_scalar(
                    "SELECT quote_ident(rolname) FROM pg_roles WHERE starts_with(rolname, $1)",
                )
                .bind(&prefix)
                .fetch_all(&mut conn)
                .await?;
                for quoted in roles {
                    sqlx::query(AssertSqlSafe(format!("DROP ROLE IF EXISTS {quoted}")))
                        .execute(&mut conn)
                        .await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the roles starting with `{}`", self.prefix);
        }
    }
}

fn account(name: &str) -> AccountKey {
    AccountKey::parse(name).unwrap()
}

fn entitlement(name: &str) -> EntitlementKey {
    EntitlementKey::parse(name).unwrap()
}

fn permanent(result: Result<impl std::fmt::Debug, ConnectorError>) -> String {
    match result {
        Err(ConnectorError::Permanent(message)) => message,
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

fn transient(result: Result<impl std::fmt::Debug, ConnectorError>) -> String {
    match result {
        Err(ConnectorError::Transient(message)) => message,
        other => panic!("expected a transient error, got {other:?}"),
    }
}

async fn grants_of(connector: &PostgresConnector) -> BTreeSet<(String, String)> {
    connector
        .list_grants()
        .map_ok(|g| (g.account.to_string(), g.entitlement.to_string()))
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn check_passes_for_a_role_that_may_create_roles() {
    let Some(pg) = cluster().await else { return };
    pg.connector().check().await.unwrap();
}

#[tokio::test]
async fn ensure_account_creates_a_login_role_once_and_re_enables_it() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let name = pg.name("nhi_billing");

    let created = connector.ensure_account(&account(&name)).await.unwrap();
    assert!(created.changed);
    assert_eq!(created.operation, "ensure_account");
    assert_eq!(pg.can_login(&name).await, Some(true));
    // The password is random and handed to nobody; the receipt does not carry it.
    assert!(
        !created
            .detail
            .to_string()
            .to_lowercase()
            .contains("password")
    );
    assert!(!created.detail.to_string().contains("SCRAM"));

    let again = connector.ensure_account(&account(&name)).await.unwrap();
    assert!(!again.changed);

    let quoted = pg.quoted(&name).await;
    pg.sql(format!("ALTER ROLE {quoted} NOLOGIN")).await;
    let re_enabled = connector.ensure_account(&account(&name)).await.unwrap();
    assert!(re_enabled.changed);
    assert_eq!(pg.can_login(&name).await, Some(true));
}

#[tokio::test]
async fn ensure_account_stores_a_scram_verifier_not_a_clear_password() {
    let Some(pg) = cluster().await else { return };
    let name = pg.name("nhi_scram");
    pg.connector()
        .ensure_account(&account(&name))
        .await
        .unwrap();
    let stored: Option<String> =
        sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
            .bind(&name)
            .fetch_one(&pg.admin)
            .await
            .unwrap();
    let stored = stored.expect("the role has a password");
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
}

#[tokio::test]
async fn grant_and_revoke_change_pg_auth_members_once_and_holds_reads_them_back() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let (login, group) = (pg.name("nhi_exporter"), pg.name("grp_reader"));
    pg.create_role(&group, "NOLOGIN").await;
    connector.ensure_account(&account(&login)).await.unwrap();
    let (key, ent) = (account(&login), entitlement(&group));
    assert!(!connector.holds(&key, &ent).await.unwrap());

    let granted = connector.grant(&key, &ent).await.unwrap();
    assert!(granted.changed);
    assert!(pg.is_member(&login, &group).await);
    assert!(connector.holds(&key, &ent).await.unwrap());
    assert!(!connector.grant(&key, &ent).await.unwrap().changed);

    let revoked = connector.revoke(&key, &ent).await.unwrap();
    assert!(revoked.changed);
    assert!(!pg.is_member(&login, &group).await);
    assert!(!connector.holds(&key, &ent).await.unwrap());
    assert!(!connector.revoke(&key, &ent).await.unwrap().changed);
}

#[tokio::test]
async fn grant_refuses_missing_roles_and_login_roles_as_groups_permanently() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let login = pg.name("nhi_a");
    connector.ensure_account(&account(&login)).await.unwrap();

    let missing_group = pg.name("grp_missing");
    let message = permanent(
        connector
            .grant(&account(&login), &entitlement(&missing_group))
            .await,
    );
    assert!(message.contains("does not exist"), "{message}");
    assert!(pg.can_login(&missing_group).await.is_none());

    let group = pg.name("grp_real");
    pg.create_role(&group, "NOLOGIN").await;
    let message = permanent(
        connector
            .grant(&account(&pg.name("nhi_ghost")), &entitlement(&group))
            .await,
    );
    assert!(message.contains("does not exist"), "{message}");

    let other_login = pg.name("other_login");
    pg.create_role(&other_login, "LOGIN").await;
    let message = permanent(
        connector
            .grant(&account(&login), &entitlement(&other_login))
            .await,
    );
    assert!(message.contains("login role"), "{message}");
    assert!(!pg.is_member(&login, &other_login).await);
}

#[tokio::test]
async fn revoking_from_missing_roles_succeeds_without_change() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let login = pg.name("nhi_a");
    connector.ensure_account(&account(&login)).await.unwrap();
    let receipt = connector
        .revoke(&account(&login), &entitlement(&pg.name("grp_missing")))
        .await
        .unwrap();
    assert!(!receipt.changed);
    let receipt = connector
        .revoke(&account(&pg.name("nhi_ghost")), &entitlement("anything"))
        .await
        .unwrap();
    assert!(!receipt.changed);
}

#[tokio::test]
async fn accounts_outside_the_prefix_or_too_long_are_refused_before_touching_the_cluster() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let outside = pg.name("svc_outside");
    let message = permanent(connector.ensure_account(&account(&outside)).await);
    assert!(message.contains("role_prefix"), "{message}");
    assert!(pg.can_login(&outside).await.is_none());

    // 64 bytes: PostgreSQL would truncate it to 63 and create a different role.
    let long = format!("{}{}", pg.account_prefix(), "x".repeat(64 - 18));
    assert_eq!(long.len(), 64);
    let message = permanent(connector.ensure_account(&account(&long)).await);
    assert!(message.contains("truncate"), "{message}");
    assert!(pg.own_roles().await.is_empty());
}

#[tokio::test]
async fn an_unreachable_cluster_is_a_transient_error() {
    let Some(pg) = cluster().await else { return };
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let connector = pg.connector_with(json!({
        "host": "127.0.0.1",
        "port": port,
        "connect_timeout_secs": 1,
        "role_prefix": pg.account_prefix(),
    }));
    let message = transient(connector.check().await);
    assert!(message.contains("unreachable"), "{message}");
    transient(
        connector
            .grant(&account(&pg.name("nhi_a")), &entitlement(&pg.name("grp")))
            .await,
    );
    let listed: Result<Vec<LiveGrant>, _> = connector.list_grants().try_collect().await;
    transient(listed);
}

#[tokio::test]
async fn a_connection_role_without_rights_is_a_permanent_error_saying_so() {
    let Some(pg) = cluster().await else { return };
    let weak = pg.name("weak");
    pg.create_role(&weak, "LOGIN").await;
    let (login, group) = (pg.name("nhi_a"), pg.name("grp"));
    pg.create_role(&login, "LOGIN").await;
    pg.create_role(&group, "NOLOGIN").await;
    let connector = pg.connector_with(json!({"user": weak, "role_prefix": pg.account_prefix()}));

    let message = permanent(connector.check().await);
    assert!(message.contains("CREATEROLE"), "{message}");

    let message = permanent(
        connector
            .grant(&account(&login), &entitlement(&group))
            .await,
    );
    assert!(message.contains("lacks the privilege"), "{message}");
    assert!(!pg.is_member(&login, &group).await);

    let fresh = pg.name("nhi_b");
    let message = permanent(connector.ensure_account(&account(&fresh)).await);
    assert!(message.contains("lacks the privilege"), "{message}");
    assert!(pg.can_login(&fresh).await.is_none());
}

#[tokio::test]
async fn disable_account_sets_nologin_and_ends_the_accounts_sessions() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let login = pg.name("nhi_worker");
    connector.ensure_account(&account(&login)).await.unwrap();
    let mut session = pg.connect_as(&login).await.unwrap();
    sqlx::query("SELECT 1").execute(&mut session).await.unwrap();
    assert_eq!(pg.sessions_of(&login).await, 1);

    let receipt = connector.disable_account(&account(&login)).await.unwrap();
    assert!(receipt.changed);
    assert_eq!(receipt.detail["sessions_ended"], 1);
    assert_eq!(pg.can_login(&login).await, Some(false));
    assert_eq!(pg.sessions_of(&login).await, 0);
    assert!(sqlx::query("SELECT 1").execute(&mut session).await.is_err());
    assert!(pg.connect_as(&login).await.is_err());

    assert!(
        !connector
            .disable_account(&account(&login))
            .await
            .unwrap()
            .changed
    );
    // With a prefix, a disabled account stays visible, as disabled.
    assert_eq!(
        connector.list_accounts().await.unwrap(),
        vec![LiveAccount {
            key: account(&login),
            enabled: false
        }]
    );
}

#[tokio::test]
async fn disabling_a_missing_account_succeeds_without_change() {
    let Some(pg) = cluster().await else { return };
    let receipt = pg
        .connector()
        .disable_account(&account(&pg.name("nhi_ghost")))
        .await
        .unwrap();
    assert!(!receipt.changed);
    assert_eq!(receipt.detail["absent"], true);
}

#[tokio::test]
async fn list_accounts_and_list_grants_report_the_prefixed_roles_and_their_memberships() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let (a, b) = (pg.name("nhi_a"), pg.name("nhi_b"));
    let (g1, g2) = (pg.name("grp_one"), pg.name("grp_two"));
    for group in [&g1, &g2] {
        pg.create_role(group, "NOLOGIN").await;
    }
    for login in [&a, &b] {
        connector.ensure_account(&account(login)).await.unwrap();
    }
    for (login, group) in [(&a, &g1), (&a, &g2), (&b, &g1)] {
        connector
            .grant(&account(login), &entitlement(group))
            .await
            .unwrap();
    }

    let accounts = connector.list_accounts().await.unwrap();
    let expected: Vec<LiveAccount> = [&a, &b]
        .into_iter()
        .map(|name| LiveAccount {
            key: account(name),
            enabled: true,
        })
        .collect();
    assert_eq!(accounts, expected);

    let expected: BTreeSet<(String, String)> = [(&a, &g1), (&a, &g2), (&b, &g1)]
        .into_iter()
        .map(|(l, g)| (l.clone(), g.clone()))
        .collect();
    assert_eq!(grants_of(&connector).await, expected);
}

#[tokio::test]
async fn without_a_prefix_accounts_are_login_roles_other_than_the_connection_user() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector_with(json!({}));
    let (login, group) = (pg.name("svc"), pg.name("grp"));
    pg.create_role(&group, "NOLOGIN").await;
    connector.ensure_account(&account(&login)).await.unwrap();
    connector
        .grant(&account(&login), &entitlement(&group))
        .await
        .unwrap();

    let admin = pg.options.get_username().to_owned();
    let accounts = connector.list_accounts().await.unwrap();
    assert!(
        accounts
            .iter()
            .any(|a| a.key.as_str() == login && a.enabled)
    );
    assert!(!accounts.iter().any(|a| a.key.as_str() == group));
    assert!(!accounts.iter().any(|a| a.key.as_str() == admin));
    assert!(!accounts.iter().any(|a| a.key.as_str().starts_with("pg_")));

    let grants = grants_of(&connector).await;
    assert!(grants.contains(&(login.clone(), group.clone())));
    assert!(!grants.iter().any(|(member, _)| *member == admin));

    let message = permanent(connector.disable_account(&account(&admin)).await);
    assert!(message.contains("writ connects as"), "{message}");
}

#[tokio::test]
async fn role_names_full_of_quotes_semicolons_and_unicode_are_used_literally() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let admin = pg.options.get_username().to_owned();
    let postgres_before = pg.can_login("postgres").await;
    let sentinel = pg.name("sentinel");
    pg.create_role(&sentinel, "LOGIN").await;
    // Unquoted or badly quoted, these would drop roles, or also grant to the sentinel.
    let dropper = pg.name("nhi_x\"; DROP ROLE postgres; --é");
    let lister = format!("{}\", \"{sentinel}", pg.name("nhi_y"));
    let group = pg.name("grp '; DROP ROLE \"x\"; -- ü 'ß\" ");

    pg.create_role(&group, "NOLOGIN").await;
    for login in [&dropper, &lister] {
        assert!(
            connector
                .ensure_account(&account(login))
                .await
                .unwrap()
                .changed
        );
        assert_eq!(pg.can_login(login).await, Some(true));
        let granted = connector
            .grant(&account(login), &entitlement(&group))
            .await
            .unwrap();
        assert!(granted.changed);
        assert!(pg.is_member(login, &group).await);
        assert!(
            connector
                .holds(&account(login), &entitlement(&group))
                .await
                .unwrap()
        );
    }
    let expected: BTreeSet<(String, String)> = [&dropper, &lister]
        .into_iter()
        .map(|login| (login.clone(), group.clone()))
        .collect();
    assert_eq!(grants_of(&connector).await, expected);
    assert!(!pg.is_member(&sentinel, &group).await);

    for login in [&dropper, &lister] {
        assert!(
            connector
                .revoke(&account(login), &entitlement(&group))
                .await
                .unwrap()
                .changed
        );
        assert!(!pg.is_member(login, &group).await);
    }
    let disabled = connector.disable_account(&account(&dropper)).await.unwrap();
    assert!(disabled.changed);
    assert_eq!(pg.can_login(&dropper).await, Some(false));

    // Exactly the roles named above exist, the sentinel untouched, the admin still there.
    let expected: BTreeSet<String> = [&sentinel, &dropper, &lister, &group]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(pg.own_roles().await, expected);
    assert_eq!(pg.can_login(&sentinel).await, Some(true));
    assert!(pg.can_login(&admin).await.is_some());
    assert_eq!(pg.can_login("postgres").await, postgres_before);
}

mod credential;
mod scratch_cluster;
