//! Credentials: checking a password and rotating it, on the shared test cluster (which may
//! trust local logins, so the checks there lean on the SCRAM verifier) and on a scratch
//! cluster that really checks passwords at login.

use super::scratch_cluster::ScratchCluster;
use super::*;
use crate::Secret;

async fn set_password(pg: &Cluster, role: &str, password: &str) {
    let quoted = pg.quoted(role).await;
    let literal: String = sqlx::query_scalar("SELECT quote_literal($1)")
        .bind(password)
        .fetch_one(&pg.admin)
        .await
        .unwrap();
    // PostgreSQL 14 and later store it as a SCRAM-SHA-256 verifier by default.
    pg.sql(format!("ALTER ROLE {quoted} PASSWORD {literal}"))
        .await;
}

async fn stored_verifier(pg: &Cluster, role: &str) -> Option<String> {
    sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
        .bind(role)
        .fetch_one(&pg.admin)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_checks_only_if_it_is_the_roles_and_rotation_replaces_it() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let name = pg.name("nhi_rotated");
    let key = account(&name);
    connector.ensure_account(&key).await.unwrap();
    set_password(&pg, &name, "old-password-1").await;

    let old = Secret::new("old-password-1");
    assert!(connector.check_credential(&key, &old).await.unwrap());
    let wrong = Secret::new("old-password-2");
    assert!(!connector.check_credential(&key, &wrong).await.unwrap());

    let new = Secret::new(uuid::Uuid::new_v4().simple().to_string());
    let receipt = connector.rotate_credential(&key, &new).await.unwrap();
    assert!(receipt.changed);
    let detail = receipt.detail.to_string();
    assert!(!detail.contains(new.expose()) && !detail.contains("SCRAM-SHA-256$"));

    assert!(connector.check_credential(&key, &new).await.unwrap());
    assert!(!connector.check_credential(&key, &old).await.unwrap());
    let stored = stored_verifier(&pg, &name).await.unwrap();
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    assert!(!stored.contains(new.expose()));
}

#[tokio::test]
async fn checking_an_unknown_account_says_no_and_rotating_it_is_refused() {
    let Some(pg) = cluster().await else { return };
    let connector = pg.connector();
    let ghost = account(&pg.name("nhi_ghost"));
    assert!(
        !connector
            .check_credential(&ghost, &Secret::new("x"))
            .await
            .unwrap()
    );
    let message = permanent(connector.rotate_credential(&ghost, &Secret::new("x")).await);
    assert!(message.contains("does not exist"), "{message}");
    assert!(pg.can_login(ghost.as_str()).await.is_none());
}

#[tokio::test]
async fn a_server_that_lets_anyone_in_is_reported_not_believed() {
    let Some(pg) = cluster().await else { return };
    // writ as a CREATEROLE role that is no superuser, so it cannot read pg_authid.
    let writ = pg.name("writ");
    pg.create_role(&writ, "LOGIN CREATEROLE").await;
    let name = pg.name("nhi_open");
    pg.create_role(&name, "LOGIN").await;
    set_password(&pg, &name, "the-password").await;
    let connector = pg.connector_with(json!({"user": writ, "role_prefix": pg.account_prefix()}));
    let key = account(&name);

    let any = PgConnection::connect_with(
        &pg.options
            .clone()
            .username(&name)
            .password("certainly not the password"),
    )
    .await;
    let wrong = connector
        .check_credential(&key, &Secret::new("certainly not"))
        .await;
    if any.is_ok() {
        // This cluster trusts logins from here: no login can prove a password.
        let message = permanent(wrong);
        assert!(
            message.contains("without checking its password"),
            "{message}"
        );
    } else {
        assert!(!wrong.unwrap());
        assert!(
            connector
                .check_credential(&key, &Secret::new("the-password"))
                .await
                .unwrap()
        );
    }
}

/// Whether `password` logs in as `role` on the scratch cluster.
async fn logs_in(scratch: &ScratchCluster, role: &str, password: &str) -> bool {
    let options = PgConnectOptions::new_without_pgpass()
        .host("127.0.0.1")
        .port(scratch.port)
        .database("postgres")
        .username(role)
        .password(password)
        .ssl_mode(sqlx::postgres::PgSslMode::Disable);
    match PgConnection::connect_with(&options).await {
        Ok(conn) => {
            conn.close().await.unwrap();
            true
        }
        Err(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c.starts_with("28")) => false,
        Err(e) => panic!("unexpected error logging in as {role}: {e}"),
    }
}

#[tokio::test]
async fn after_rotation_the_old_password_cannot_log_in_and_the_new_one_can() {
    // Gated like the other PostgreSQL tests, though it runs a cluster of its own.
    if std::env::var_os("WRIT_TEST_POSTGRES_URL").is_none() {
        eprintln!("skipped: set WRIT_TEST_POSTGRES_URL to run the PostgreSQL tests");
        return;
    }
    let Some(scratch) = tokio::task::spawn_blocking(ScratchCluster::start)
        .await
        .unwrap()
    else {
        return;
    };
    let (admin, admin_password) = scratch.superuser.clone();
    let env_var = format!("WRIT_TEST_SCRATCH_PW_{}", scratch.port);
    struct Env(String, String);
    impl crate::SecretSource for Env {
        fn env(&self, name: &str) -> Option<String> {
            (name == self.0).then(|| self.1.clone())
        }
    }
    let config = json!({
        "host": "127.0.0.1", "port": scratch.port, "database": "postgres", "user": admin,
        "password": {"env": env_var}, "sslmode": "disable", "role_prefix": "nhi_",
    });
    let connector =
        PostgresConnector::from_config(&config, &Env(env_var.clone(), admin_password.clone()))
            .unwrap();
    let key = account("nhi_payments");
    connector.ensure_account(&key).await.unwrap();
    let old = Secret::new("Old-Secret-1");
    connector.rotate_credential(&key, &old).await.unwrap();
    assert!(logs_in(&scratch, "nhi_payments", "Old-Secret-1").await);
    assert!(!logs_in(&scratch, "nhi_payments", "Old-Secret-2").await);

    // A wrong current password is refused by the server itself, not only by the verifier.
    assert!(
        !connector
            .check_credential(&key, &Secret::new("Old-Secret-2"))
            .await
            .unwrap()
    );
    let new = Secret::new(uuid::Uuid::new_v4().simple().to_string());
    connector.rotate_credential(&key, &new).await.unwrap();
    assert!(logs_in(&scratch, "nhi_payments", new.expose()).await);
    assert!(!logs_in(&scratch, "nhi_payments", "Old-Secret-1").await);
    assert!(connector.check_credential(&key, &new).await.unwrap());
    assert!(!connector.check_credential(&key, &old).await.unwrap());
    drop(connector);
    tokio::task::spawn_blocking(move || drop(scratch))
        .await
        .unwrap();
}
