//! The SQL the connector sends: catalog reads with bound parameters, and the few DDL
//! statements whose role names PostgreSQL cannot take as parameters, built from quoted names
//! only ([`RoleName`]).

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres};

use super::config::PostgresConfig;
use super::failure::{classify, sqlstate};
use super::ident::{RoleName, quote_literal};
use crate::{ConnectorError, Secret};

/// At most this many connections to the target: the job runner calls a connector a few times
/// at once, not hundreds.
const MAX_CONNECTIONS: u32 = 4;

/// How long `disable_account` waits for each terminated session to end.
const TERMINATE_WAIT_MS: i64 = 5000;

/// A role as `pg_roles` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RoleRow {
    /// `rolcanlogin`.
    pub(super) can_login: bool,
    /// Whether any role is a member of it (it is in use as a group).
    pub(super) has_members: bool,
}

/// What the connection user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Privileges {
    /// `rolsuper`.
    pub(super) superuser: bool,
    /// `rolcreaterole`.
    pub(super) create_role: bool,
    /// Has the privileges of `pg_signal_backend` (may end other roles' sessions).
    pub(super) signal_backend: bool,
}

/// What `pg_authid` says of a role's password.
pub(super) enum StoredPassword {
    /// Its verifier (SCRAM or md5), as stored.
    Verifier(Secret),
    /// The role has no password (or does not exist).
    None,
    /// writ's user may not read `pg_authid` (it is not a superuser).
    Unreadable,
}

/// A lazily opened pool to the target and the statements sent through it.
pub(super) struct Client {
    config: PostgresConfig,
    target: String,
    pool: OnceLock<PgPool>,
}

impl Client {
    /// A client for `config`; no connection is opened until the first call.
    pub(super) fn new(config: PostgresConfig) -> Self {
        Self {
            target: config.target(),
            config,
            pool: OnceLock::new(),
        }
    }

    /// The settings the client was built from.
    pub(super) fn config(&self) -> &PostgresConfig {
        &self.config
    }

    /// `host:port/database`, for messages and receipts.
    pub(super) fn target(&self) -> &str {
        &self.target
    }

    /// Maps a driver error during `action`.
    pub(super) fn fail(&self, action: &str, err: sqlx::Error) -> ConnectorError {
        classify(action, &self.target, err)
    }

    /// Built on first use because the pool's maintenance task needs a running Tokio runtime,
    /// which `from_config` may be called without.
    fn pool(&self) -> &PgPool {
        self.pool.get_or_init(|| {
            PgPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(self.config.connect_timeout)
                .idle_timeout(Some(Duration::from_secs(60)))
                .connect_lazy_with(self.config.connect_options())
        })
    }

    /// One connection for a read-then-write sequence.
    pub(super) async fn acquire(
        &self,
        action: &str,
    ) -> Result<PoolConnection<Postgres>, ConnectorError> {
        self.pool()
            .acquire()
            .await
            .map_err(|e| self.fail(action, e))
    }

    /// What the connection user may do.
    pub(super) async fn privileges(&self, action: &str) -> Result<Privileges, ConnectorError> {
        let (superuser, create_role, signal_backend) = sqlx::query_as::<_, (bool, bool, bool)>(
            "SELECT rolsuper, rolcreaterole,
                    pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
             FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.fail(action, e))?;
        Ok(Privileges {
            superuser,
            create_role,
            signal_backend,
        })
    }

    /// The role named `role`, if it exists.
    pub(super) async fn role(
        &self,
        conn: &mut PgConnection,
        action: &str,
        role: &RoleName,
    ) -> Result<Option<RoleRow>, ConnectorError> {
        let row = sqlx::query_as::<_, (bool, bool)>(
            "SELECT r.rolcanlogin,
                    EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = r.oid)
             FROM pg_roles r WHERE r.rolname = $1",
        )
        .bind(role.as_str())
        .fetch_optional(conn)
        .await
        .map_err(|e| self.fail(action, e))?;
        Ok(row.map(|(can_login, has_members)| RoleRow {
            can_login,
            has_members,
        }))
    }

    /// Whether `member` is a direct member of `group` (not through another role).
    pub(super) async fn is_member(
        &self,
        conn: &mut PgConnection,
        action: &str,
        member: &str,
        group: &str,
    ) -> Result<bool, ConnectorError> {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (
                SELECT 1 FROM pg_auth_members m
                JOIN pg_roles a ON a.oid = m.member
                JOIN pg_roles g ON g.oid = m.roleid
                WHERE a.rolname = $1 AND g.rolname = $2)",
        )
        .bind(member)
        .bind(group)
        .fetch_one(conn)
        .await
        .map_err(|e| self.fail(action, e))
    }

    /// [`Client::is_member`] on a pooled connection.
    pub(super) async fn holds(
        &self,
        action: &str,
        member: &str,
        group: &str,
    ) -> Result<bool, ConnectorError> {
        let mut conn = self.acquire(action).await?;
        self.is_member(&mut conn, action, member, group).await
    }

    /// The roles that granted `member` its membership in `group`.
    pub(super) async fn grantors(
        &self,
        conn: &mut PgConnection,
        action: &str,
        member: &str,
        group: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT gr.rolname::text FROM pg_auth_members m
             JOIN pg_roles a ON a.oid = m.member
             JOIN pg_roles g ON g.oid = m.roleid
             JOIN pg_roles gr ON gr.oid = m.grantor
             WHERE a.rolname = $1 AND g.rolname = $2 ORDER BY 1",
        )
        .bind(member)
        .bind(group)
        .fetch_all(conn)
        .await
        .map_err(|e| self.fail(action, e))
    }

    /// `CREATE ROLE <role> LOGIN PASSWORD '<verifier>'`. `Ok(false)` when the role appeared
    /// in the meantime (another caller created it).
    pub(super) async fn create_login_role(
        &self,
        conn: &mut PgConnection,
        action: &str,
        role: &RoleName,
        verifier: &Secret,
    ) -> Result<bool, ConnectorError> {
        let sql = format!(
            "CREATE ROLE {} LOGIN PASSWORD {}",
            role.quoted(),
            quote_literal(verifier.expose())?
        );
        match self.ddl(conn, sql).await {
            Ok(()) => Ok(true),
            Err(e) if sqlstate(&e).as_deref() == Some("42710") => Ok(false),
            Err(e) => Err(self.fail(action, e)),
        }
    }

    /// `ALTER ROLE <role> LOGIN` or `NOLOGIN`.
    pub(super) async fn set_login(
        &self,
        conn: &mut PgConnection,
        action: &str,
        role: &RoleName,
        login: bool,
    ) -> Result<(), ConnectorError> {
        let attribute = if login { "LOGIN" } else { "NOLOGIN" };
        self.ddl(conn, format!("ALTER ROLE {} {attribute}", role.quoted()))
            .await
            .map_err(|e| self.fail(action, e))
    }

    /// `GRANT <group> TO <member>`.
    pub(super) async fn grant(
        &self,
        conn: &mut PgConnection,
        action: &str,
        member: &RoleName,
        group: &RoleName,
    ) -> Result<(), ConnectorError> {
        let sql = format!("GRANT {} TO {}", group.quoted(), member.quoted());
        self.ddl(conn, sql).await.map_err(|e| self.fail(action, e))
    }

    /// `REVOKE <group> FROM <member>`.
    pub(super) async fn revoke(
        &self,
        conn: &mut PgConnection,
        action: &str,
        member: &RoleName,
        group: &RoleName,
    ) -> Result<(), ConnectorError> {
        let sql = format!("REVOKE {} FROM {}", group.quoted(), member.quoted());
        self.ddl(conn, sql).await.map_err(|e| self.fail(action, e))
    }

    /// Ends every session of `role` but this one, waiting for each to go; returns how many
    /// ended. Needs PostgreSQL 14 (`pg_terminate_backend` with a timeout).
    pub(super) async fn terminate_sessions(
        &self,
        conn: &mut PgConnection,
        action: &str,
        role: &RoleName,
    ) -> Result<i64, ConnectorError> {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM (
                SELECT pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity
                WHERE usename = $1 AND pid <> pg_backend_pid()) t
             WHERE ended",
        )
        .bind(role.as_str())
        .bind(TERMINATE_WAIT_MS)
        .fetch_one(conn)
        .await
        .map_err(|e| self.fail(action, e))
    }

    /// `(name, rolcanlogin)` of every account role (see [`super`] for which roles count),
    /// sorted by name.
    pub(super) async fn accounts(
        &self,
        action: &str,
    ) -> Result<Vec<(String, bool)>, ConnectorError> {
        sqlx::query_as::<_, (String, bool)>(
            "SELECT rolname::text, rolcanlogin FROM pg_roles
             WHERE rolname <> $1 AND NOT starts_with(rolname, 'pg_')
               AND CASE WHEN $2::text IS NULL THEN rolcanlogin
                        ELSE starts_with(rolname, $2::text) END
             ORDER BY 1",
        )
        .bind(self.config.user.as_str())
        .bind(self.config.role_prefix.as_deref())
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.fail(action, e))
    }

    /// `(member, group)` of every direct membership whose member is an account role, streamed
    /// from the server row by row.
    pub(super) fn memberships(
        &self,
        action: &'static str,
    ) -> BoxStream<'_, Result<(String, String), ConnectorError>> {
        // The pool is built inside the stream, where a runtime is certain to be running.
        stream::once(async move {
            sqlx::query_as::<_, (String, String)>(
                "SELECT DISTINCT a.rolname::text, g.rolname::text FROM pg_auth_members m
                 JOIN pg_roles a ON a.oid = m.member
                 JOIN pg_roles g ON g.oid = m.roleid
                 WHERE a.rolname <> $1 AND g.rolname <> $1
                   AND NOT starts_with(a.rolname, 'pg_')
                   AND CASE WHEN $2::text IS NULL THEN a.rolcanlogin
                            ELSE starts_with(a.rolname, $2::text) END
                 ORDER BY 1, 2",
            )
            .bind(self.config.user.as_str())
            .bind(self.config.role_prefix.as_deref())
            .fetch(self.pool())
        })
        .flatten()
        .map(move |row| row.map_err(|e| self.fail(action, e)))
        .boxed()
    }

    /// `ALTER ROLE <role> PASSWORD '<verifier>'`: the server stores the verifier as is, so the
    /// password itself is never sent.
    pub(super) async fn set_password(
        &self,
        conn: &mut PgConnection,
        action: &str,
        role: &RoleName,
        verifier: &Secret,
    ) -> Result<(), ConnectorError> {
        let sql = format!(
            "ALTER ROLE {} PASSWORD {}",
            role.quoted(),
            quote_literal(verifier.expose())?
        );
        self.ddl(conn, sql).await.map_err(|e| self.fail(action, e))
    }

    /// The password verifier PostgreSQL keeps for `role` (`pg_authid.rolpassword`).
    pub(super) async fn stored_verifier(
        &self,
        action: &str,
        role: &RoleName,
    ) -> Result<StoredPassword, ConnectorError> {
        let row = sqlx::query_scalar::<_, Option<String>>(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
        )
        .bind(role.as_str())
        .fetch_optional(self.pool())
        .await;
        match row {
            Ok(Some(Some(verifier))) => Ok(StoredPassword::Verifier(Secret::new(verifier))),
            Ok(Some(None) | None) => Ok(StoredPassword::None),
            // Only superusers may read `pg_authid`.
            Err(e) if sqlstate(&e).as_deref() == Some("42501") => Ok(StoredPassword::Unreadable),
            Err(e) => Err(self.fail(action, e)),
        }
    }

    /// Logs in to the target as `role` with `password` (a connection of its own, closed at
    /// once): `false` when the server refuses the login (SQLSTATE class `28`: a wrong password,
    /// a role that may not log in, no `pg_hba.conf` entry for it).
    pub(super) async fn log_in(
        &self,
        action: &str,
        role: &RoleName,
        password: &Secret,
    ) -> Result<bool, ConnectorError> {
        let options = self
            .config
            .connect_options()
            .username(role.as_str())
            .password(password.expose());
        let connected = tokio::time::timeout(
            self.config.connect_timeout,
            PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| self.fail(action, sqlx::Error::PoolTimedOut))?;
        match connected {
            Ok(conn) => {
                // The login is what was asked; a failed goodbye changes nothing.
                let _ = conn.close().await;
                Ok(true)
            }
            Err(e) if sqlstate(&e).is_some_and(|code| code.starts_with("28")) => Ok(false),
            Err(e) => Err(self.fail(action, e)),
        }
    }

    /// Runs one DDL statement built from quoted names. Not prepared for reuse: each statement
    /// names different roles, so caching them would only fill the statement cache.
    async fn ddl(&self, conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
        sqlx::query(AssertSqlSafe(sql))
            .persistent(false)
            .execute(conn)
            .await
            .map(|_| ())
    }
}
